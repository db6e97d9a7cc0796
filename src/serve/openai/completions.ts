// POST /v1/completions: text prompts (a string or a list), n samples each, optional per-token
// logprobs with k alternatives (tokens, token_logprobs, top_logprobs, text_offset), echo of the
// prompt with its own token logprobs (with max_tokens 0: continuation scoring, as vLLM), and SSE
// streaming; and genrm's `candidates` extension (exact log-probs of given continuations, one
// forward: what a direct judge needs). The model runs in the worker; this file only shapes requests and replies.
import { randomUUID } from 'node:crypto';
import type { TokenPiece } from '../../backends/embedded/pieces.js';
import { readJson } from '../body.js';
import type { Ctx } from '../router.js';
import { sendJson } from '../router.js';
import type { Alternative, JobResult, ModelInfo, SampleResult } from '../protocol.js';
import { CompletionRequest } from '../schemas.js';
import { checkModel, jobOptions, now, Sse, usage } from './common.js';
import type { ModelWorker } from '../modelWorker.js';
import type { PromptGate } from '../promptGate.js';
import { HttpError } from '../errors.js';

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
async function scoreCandidates(ctx: Ctx, worker: ModelWorker, b: CompletionRequest, ids: number[][], candidates: string[]): Promise<void> {
  const bad = (b.max_tokens ?? 0) !== 0 ? 'max_tokens' : b.echo ? 'echo' : b.stream ? 'stream' : (b.n ?? 1) !== 1 ? 'n' : null;
  if (bad !== null) throw new HttpError(400, `"candidates" scores continuations without sampling: send it with max_tokens 0 and without ${bad === 'max_tokens' ? 'a positive max_tokens' : bad}`, 'invalid_request_error', bad);
  const options = jobOptions(b, 0, 0, 'logprobs', worker.info);
  const results = await Promise.all(ids.map((p) => worker.run({ prompt: '', ids: p, options, echo: false, candidates }, ctx.signal)));
  const choices = results.map((r, p) => ({ index: p, text: '', logprobs: null, finish_reason: 'length', candidate_logprobs: r.candidates ?? [] }));
  sendJson(ctx.res, 200, { id: `cmpl-${randomUUID()}`, object: 'text_completion', created: now(), model: worker.info.id, choices, usage: usage(results) });
}

export function completionsHandler(worker: ModelWorker, gate: PromptGate, bodyLimit: number) {
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
      await scoreCandidates(ctx, worker, b, ids, b.candidates);
      return;
    }
    const opts = jobOptions(b, b.max_tokens ?? DEFAULT_MAX_TOKENS, k ?? 0, 'logprobs', info);
    const results = await Promise.all(ids.map((p) => worker.run({ prompt: '', ids: p, options: opts, echo }, ctx.signal)));

    const id = `cmpl-${randomUUID()}`;
    const created = now();
    // Choice index = prompt index * n + sample index (OpenAI's order); max_tokens 0 still gives one choice per prompt.
    const choices = results.flatMap((r, p) => {
      const echoText = echo ? prompts[p]! : '';
      const samples: (SampleResult | null)[] = r.samples.length > 0 ? r.samples : Array.from({ length: opts.n }, () => null);
      return samples.map((s, i) => ({
        index: p * opts.n + i,
        text: echoText + (s?.text ?? ''),
        logprobs: k === null ? null : choiceLogprobs(r, s, echoText),
        finish_reason: s?.finishReason ?? 'length',
      }));
    });
    const u = usage(results);
    if (!b.stream) {
      sendJson(ctx.res, 200, { id, object: 'text_completion', created, model: info.id, choices, usage: u });
      return;
    }
    const sse = new Sse(ctx.res);
    const chunk = (c: object): void => sse.send({ id, object: 'text_completion', created, model: info.id, choices: [c] });
    results.forEach((r, p) => {
      const echoText = echo ? prompts[p]! : '';
      (r.samples.length > 0 ? r.samples : Array.from({ length: opts.n }, () => null)).forEach((s, i) => {
        const index = p * opts.n + i;
        if (echoText) chunk({ index, text: echoText, logprobs: k === null || !r.echo ? null : logprobsOf(r.echo.pieces, r.echo.logprobs, undefined, 0, true), finish_reason: null });
        s?.pieces.forEach((piece, t) => {
          const lp = k === null ? null : logprobsOf([piece], [s.logprobs[t]!], s.top ? [s.top[t]!] : undefined, echoText.length, false);
          chunk({ index, text: piece.text, logprobs: lp, finish_reason: null });
        });
        chunk({ index, text: '', logprobs: null, finish_reason: s?.finishReason ?? 'length' });
      });
    });
    if (b.stream_options?.include_usage) sse.send({ id, object: 'text_completion', created, model: info.id, choices: [], usage: u });
    sse.done();
  };
}
