// POST /v1/completions: text prompts (a string or a list), n samples each, optional per-token
// logprobs with k alternatives (tokens, token_logprobs, top_logprobs, text_offset), echo of the
// prompt with its own token logprobs (with max_tokens 0: continuation scoring, as vLLM), and SSE
// streaming as the tokens are decoded (stream.ts); and genrm's `candidates` extension (exact
// log-probs of given continuations, one forward: what a direct judge needs; off with
// --no-extensions). The model runs in the worker; this file only shapes requests and replies.
import { randomUUID } from 'node:crypto';
import type { TokenPiece } from '../../backends/embedded/pieces.js';
import { readJson } from '../body.js';
import type { Ctx } from '../router.js';
import { sendJson } from '../router.js';
import type { Alternative, JobResult, ModelInfo, SampleResult } from '../protocol.js';
import { CompletionRequest } from '../schemas.js';
import { checkModel, jobOptions, now, Sse, usage, type OpenAIDeps } from './common.js';
import { HttpError } from '../errors.js';
import { JobStream, type Span } from './stream.js';

/** 16: the OpenAI completions default for max_tokens. */
const DEFAULT_MAX_TOKENS = 16;

interface LogprobsOut {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

function topDict(alts: Alternative[] | undefined): Record<string, number> {
  const d: Record<string, number> = {};
  for (const a of alts ?? []) if (!(a.token in d)) d[a.token] = a.logprob; // most likely first: keep it on a name clash
  return d;
}

function logprobsOf(pieces: TokenPiece[], lps: number[], top: Alternative[][] | undefined, shift: number, echoTop: boolean): LogprobsOut {
  return {
    tokens: pieces.map((p) => p.text),
    token_logprobs: lps.map((x) => x),
    // Echoed prompt positions report the token itself only (the scoring forward keeps no alternatives).
    top_logprobs: pieces.map((p, i) => (echoTop ? { [p.text]: lps[i]! } : topDict(top?.[i]))),
    text_offset: pieces.map((p) => p.offset + shift),
  };
}

function choiceLogprobs(r: JobResult, s: SampleResult | null, echoText: string): LogprobsOut {
  const parts: LogprobsOut[] = [];
  if (r.echo) parts.push(logprobsOf(r.echo.pieces, r.echo.logprobs, undefined, 0, true));
  if (s) parts.push(logprobsOf(s.pieces, s.logprobs, s.top, echoText.length, false));
  return {
    tokens: parts.flatMap((p) => p.tokens),
    token_logprobs: parts.flatMap((p) => p.token_logprobs),
    top_logprobs: parts.flatMap((p) => p.top_logprobs),
    text_offset: parts.flatMap((p) => p.text_offset),
  };
}

/** The `candidates` extension: one candidate-scoring job per prompt (one forward per batch), no sampling. */
async function scoreCandidates(ctx: Ctx, d: OpenAIDeps, b: CompletionRequest, ids: number[][], candidates: string[]): Promise<void> {
  const { worker } = d;
  if (!d.extensions)
    throw new HttpError(
      400,
      '"candidates" is a genrm extension, off on this server (genrm serve --no-extensions); read verdicts from top logprobs instead',
      'invalid_request_error',
      'candidates',
    );
  const bad = (b.max_tokens ?? 0) !== 0 ? 'max_tokens' : b.echo ? 'echo' : b.stream ? 'stream' : (b.n ?? 1) !== 1 ? 'n' : null;
  if (bad !== null)
    throw new HttpError(
      400,
      `"candidates" scores continuations without sampling: send it with max_tokens 0 and without ${bad === 'max_tokens' ? 'a positive max_tokens' : bad}`,
      'invalid_request_error',
      bad,
    );
  const options = jobOptions(b, 0, 0, 'logprobs', worker.info);
  const results = await Promise.all(ids.map((p) => worker.run({ prompt: '', ids: p, options, echo: false, candidates }, ctx.signal)));
  const choices = results.map((r, p) => ({
    index: p,
    text: '',
    logprobs: null,
    finish_reason: 'length',
    candidate_logprobs: r.candidates ?? [],
  }));
  sendJson(ctx.res, 200, {
    id: `cmpl-${randomUUID()}`,
    object: 'text_completion',
    created: now(),
    model: worker.info.id,
    system_fingerprint: d.fingerprint,
    choices,
    usage: usage(results),
  });
}

export function completionsHandler(d: OpenAIDeps) {
  const { worker, gate, bodyLimit } = d;
  return async (ctx: Ctx): Promise<void> => {
    const b = await readJson(ctx.req, CompletionRequest, bodyLimit);
    const info: ModelInfo = worker.info;
    checkModel(b.model, info);
    gate.checkMaxTokens(b.max_tokens, 'max_tokens');
    const prompts = typeof b.prompt === 'string' ? [b.prompt] : b.prompt;
    const ids = await gate.encode(prompts, 'prompt', ctx.signal);
    const k = b.logprobs ?? null;
    const echo = b.echo ?? false;
    if (b.candidates) {
      await scoreCandidates(ctx, d, b, ids, b.candidates);
      return;
    }
    const opts = jobOptions(b, b.max_tokens ?? DEFAULT_MAX_TOKENS, k ?? 0, 'logprobs', info);
    const head = {
      id: `cmpl-${randomUUID()}`,
      object: 'text_completion',
      created: now(),
      model: info.id,
      system_fingerprint: d.fingerprint,
    };
    // Choice index = prompt index * n + sample index (OpenAI's order); max_tokens 0 still gives one choice per prompt.
    const samplesOf = (r: JobResult): (SampleResult | null)[] =>
      r.samples.length > 0 ? r.samples : Array.from({ length: opts.n }, () => null);

    if (!b.stream) {
      const results = await Promise.all(ids.map((p) => worker.run({ prompt: '', ids: p, options: opts, echo }, ctx.signal)));
      const choices = results.flatMap((r, p) => {
        const echoText = echo ? prompts[p]! : '';
        return samplesOf(r).map((s, i) => ({
          index: p * opts.n + i,
          text: echoText + (s?.text ?? ''),
          logprobs: k === null ? null : choiceLogprobs(r, s, echoText),
          finish_reason: s?.finishReason ?? 'length',
        }));
      });
      sendJson(ctx.res, 200, { ...head, choices, usage: usage(results) });
      return;
    }
    const sse = new Sse(ctx.res);
    const chunk = (c: object): void => sse.send({ ...head, choices: [c] });
    const results = await Promise.all(
      ids.map(async (p, j) => {
        const echoText = echo ? prompts[j]! : '';
        // With echo, each of the prompt's choices starts with the prompt (the worker sends its logprobs before any token).
        let echoed = !echoText;
        const sendEcho = (e: JobResult['echo']): void => {
          if (echoed) return;
          echoed = true;
          for (let i = 0; i < opts.n; i++)
            chunk({
              index: j * opts.n + i,
              text: echoText,
              logprobs: k === null || !e ? null : logprobsOf(e.pieces, e.logprobs, undefined, 0, true),
              finish_reason: null,
            });
        };
        const text = (i: number, s: Span): void => {
          sendEcho(undefined);
          chunk({
            index: j * opts.n + i,
            text: s.text,
            logprobs: k === null ? null : logprobsOf(s.pieces, s.logprobs, s.top, echoText.length, false),
            finish_reason: null,
          });
        };
        const stream = new JobStream(gate.tokenizer, opts.stop, text, sendEcho);
        const r = await worker.run({ prompt: '', ids: p, options: opts, echo, stream: true }, ctx.signal, stream.hear);
        sendEcho(r.echo);
        const rest = stream.rest(r);
        samplesOf(r).forEach((s, i) => {
          const span = rest[i];
          if (span && (span.text || span.pieces.length)) text(i, span);
          chunk({ index: j * opts.n + i, text: '', logprobs: null, finish_reason: s?.finishReason ?? 'length' });
        });
        return r;
      }),
    );
    if (b.stream_options?.include_usage) sse.send({ ...head, choices: [], usage: usage(results) });
    sse.done();
  };
}
