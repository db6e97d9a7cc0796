// Runs a batch of jobs on the embedded backend (inside the model worker). Jobs that can share one
// engine call do: generation jobs with the same options (n, temperature, top-p/k, max tokens,
// stop, top logprobs, seed) go through ONE batched `generate`, every echo through one scoring
// forward, and candidate-scoring jobs with the same candidates through one `candidateLogprobs`. A bad job (e.g. a prompt longer than the context) fails alone, before any kernel runs.
//
// Cancellation. `cancelled(k)` says that job k's request is gone (the HTTP thread sets a flag in
// shared memory on a timeout or a hang-up, read here while the batch runs): its rows stop at the
// next decode step (engine DecodeOptions.cancelled), its scoring slices are skipped, and its
// outcome is an AbortError nobody reads. The other jobs of the batch go on unchanged.
//
// Streaming. A job with `stream` has its tokens reported after every decode step (`report`, one
// 'tokens' message per step for all such jobs of the engine call) and its echo as soon as it is
// scored; its outcome still carries the whole result, which the HTTP thread's stream ends with.
//
// Seeds. A seeded job's samples depend only on (prompt, options, seed) — the engine guarantees it
// whatever the batch. Unseeded jobs share one random seed per group, so two unseeded jobs with the
// same prompt are put in different groups: sharing a seed would make their samples identical.
import type { EmbeddedBackend } from '../backends/embedded/backend.js';
import type { EngineTokenizer } from '../engine/tokenizer/index.js';
import { alternative, tokenPieces } from '../backends/embedded/pieces.js';
import { encodeContinuation } from '../backends/embedded/render.js';
import type { GeneratedSample, StepToken } from '../engine/sampling/index.js';
import { toWireError } from './errors.js';
import type { Alternative, Job, JobResult, Outcome, SampleResult, StreamReport, StreamToken } from './protocol.js';

interface Encoded {
  k: number; // index into jobs
  ids: number[];
}

function groupKey(job: Job): string {
  const o = job.options;
  // Greedy decoding draws nothing, so the seed does not matter.
  const seed = o.temperature === 0 ? 0 : (o.seed ?? 'random');
  return JSON.stringify([o.n, o.temperature, o.topP, o.topK, o.maxTokens, o.stop, o.topLogprobs, seed]);
}

/** Padded tokens per scoring slice: the engine's own chunk (scoring.ts maxBatchTokens), so slicing costs no batching. */
const SLICE_TOKENS = 8192;

const CANCELLED: Outcome = { ok: false, error: { name: 'AbortError', message: 'cancelled: the request is gone' } };

/** Members sorted by length, cut into slices of at most SLICE_TOKENS padded tokens. */
function slices(members: Encoded[]): Encoded[][] {
  const sorted = [...members].sort((a, b) => a.ids.length - b.ids.length);
  const out: Encoded[][] = [];
  let cur: Encoded[] = [];
  for (const m of sorted) {
    if (cur.length > 0 && (cur.length + 1) * m.ids.length > SLICE_TOKENS) {
      out.push(cur);
      cur = [];
    }
    cur.push(m);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export function runJobs(
  backend: EmbeddedBackend<EngineTokenizer>,
  jobs: Job[],
  cancelled: (k: number) => boolean = () => false,
  report?: (r: StreamReport) => void,
): Outcome[] {
  const out: (Outcome | undefined)[] = new Array(jobs.length);
  const ctx = backend.model.config.maxSeqLen;
  const enc: Encoded[] = [];
  jobs.forEach((job, k) => {
    if (cancelled(k)) return void (out[k] = CANCELLED);
    try {
      const ids = job.ids ?? backend.encode(job.prompt);
      if (ids.length > ctx)
        throw new RangeError(
          `the prompt has ${ids.length} tokens (with the beginning-of-sequence token), more than the model's context of ${ctx}; shorten it`,
        );
      enc.push({ k, ids });
    } catch (e) {
      out[k] = { ok: false, error: toWireError(e) };
    }
  });
  const results = new Map<number, JobResult>(enc.map((e) => [e.k, { promptTokens: e.ids.length, samples: [] }]));

  // Echo: every prompt's own token logprobs in one forward.
  const echoes = enc.filter((e) => jobs[e.k]!.echo && e.ids.length > 1 && !cancelled(e.k));
  if (echoes.length > 0)
    runGuarded(echoes, out, () => {
      const lps = backend.promptLogprobs(echoes.map((e) => e.ids));
      echoes.forEach((e, j) => {
        const ids = e.ids.slice(1); // the beginning-of-sequence token is implicit, not prompt text
        const pieces = tokenPieces(backend.tokenizer, ids);
        results.get(e.k)!.echo = { text: pieces.map((p) => p.text).join(''), pieces, logprobs: lps[j]! };
      });
    });
  for (const e of enc) if (jobs[e.k]!.echo && e.ids.length <= 1) results.get(e.k)!.echo = { text: '', pieces: [], logprobs: [] };
  if (report)
    for (const e of enc) {
      const echo = results.get(e.k)!.echo;
      if (jobs[e.k]!.stream && echo) report({ type: 'echo', job: e.k, echo });
    }

  // Candidate scoring (judges' verdicts), grouped by the candidate list: one forward per group.
  const byCands = new Map<string, Encoded[]>();
  for (const e of enc) {
    const c = jobs[e.k]!.candidates;
    if (!c) continue;
    const key = JSON.stringify(c);
    const g = byCands.get(key);
    if (g) g.push(e);
    else byCands.set(key, [e]);
  }
  for (const members of byCands.values()) {
    let cands: number[][];
    try {
      cands = jobs[members[0]!.k]!.candidates!.map((c, j) => {
        const ids = encodeContinuation(backend.tokenizer, c);
        if (ids.length === 0) throw new RangeError(`candidate ${j} is empty`);
        return ids;
      });
    } catch (e) {
      for (const m of members) out[m.k] = { ok: false, error: toWireError(e) };
      continue;
    }
    // Slice by slice, so a request that left mid-batch stops costing forwards at the next slice.
    for (const slice of slices(members)) {
      const live = slice.filter((m) => !cancelled(m.k));
      if (live.length === 0) continue;
      runGuarded(live, out, () => {
        const lps = backend.candidateLogprobsIds(
          live.map((m) => m.ids),
          cands,
        );
        live.forEach((m, j) => (results.get(m.k)!.candidates = lps[j]!));
      });
    }
  }

  // Generation, grouped.
  const groups: { key: string; members: Encoded[]; prompts: Set<string> }[] = [];
  for (const e of enc) {
    const job = jobs[e.k]!;
    if (job.options.maxTokens === 0 || job.candidates) continue;
    const key = groupKey(job);
    const unseeded = job.options.seed === undefined && job.options.temperature > 0;
    const pk = e.ids.join(',');
    let g = groups.find((x) => x.key === key && !(unseeded && x.prompts.has(pk)));
    if (!g) groups.push((g = { key, members: [], prompts: new Set() }));
    g.members.push(e);
    g.prompts.add(pk);
  }
  for (const g of groups) {
    const live = g.members.filter((m) => !cancelled(m.k));
    if (live.length === 0) continue;
    runGuarded(live, out, () => {
      const o = jobs[live[0]!.k]!.options;
      const streaming = report && live.some((m) => jobs[m.k]!.stream);
      const hooks = {
        cancelled: (j: number) => cancelled(live[j]!.k),
        ...(streaming ? { onTokens: (step: readonly StepToken[]) => reportStep(step, live, jobs, report) } : {}),
      };
      const gen = backend.generateIds(
        live.map((m) => m.ids),
        { ...o, seed: o.seed ?? Math.floor(Math.random() * 2 ** 31) },
        hooks,
      );
      live.forEach((m, j) => (results.get(m.k)!.samples = gen[j]!.map((s) => toSample(backend, s))));
    });
  }
  for (const [k, result] of results) if (out[k] === undefined) out[k] = cancelled(k) ? CANCELLED : { ok: true, result };
  return out as Outcome[];
}

/** One decode step's tokens of the streaming jobs among `live` (the engine call's prompts), as one report. */
function reportStep(step: readonly StepToken[], live: Encoded[], jobs: Job[], report: (r: StreamReport) => void): void {
  const byJob = new Map<number, StreamToken[]>();
  for (const t of step) {
    const k = live[t.prompt]!.k;
    if (!jobs[k]!.stream) continue;
    const tok: StreamToken = { sample: t.sample, id: t.id, logprob: t.logprob, stop: t.stop, ...(t.top ? { top: t.top } : {}) };
    const list = byJob.get(k);
    if (list) list.push(tok);
    else byJob.set(k, [tok]);
  }
  if (byJob.size > 0) report({ type: 'tokens', jobs: [...byJob].map(([job, tokens]) => ({ job, tokens })) });
}

/** Runs one engine call for several jobs; if it throws, each of those jobs fails with the error. */
function runGuarded(members: Encoded[], out: (Outcome | undefined)[], fn: () => void): void {
  try {
    fn();
  } catch (e) {
    for (const m of members) out[m.k] = { ok: false, error: toWireError(e) };
  }
}

function toSample(backend: EmbeddedBackend<EngineTokenizer>, s: GeneratedSample): SampleResult {
  const tok = backend.tokenizer;
  const all = tokenPieces(tok, s.tokens);
  // Keep the tokens that start inside the returned text (the stop token and a stop string's tail go).
  let keep = 0;
  while (keep < all.length && all[keep]!.offset < s.text.length) keep++;
  const pieces = all.slice(0, keep);
  const last = pieces[keep - 1];
  if (last && last.offset + last.text.length > s.text.length) pieces[keep - 1] = { ...last, text: s.text.slice(last.offset) };
  const r: SampleResult = {
    text: s.text,
    pieces,
    logprobs: s.logprobs.slice(0, keep),
    finishReason: s.finishReason,
    generatedTokens: s.tokens.length,
  };
  if (s.topLogprobs) r.top = s.topLogprobs.slice(0, keep).map((alts): Alternative[] => alts.map((a) => alternative(tok, a)));
  return r;
}
