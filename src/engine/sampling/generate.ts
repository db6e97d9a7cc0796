// KV-cached, batched generation: many prompts × n samples each, decoded together.
//
//   const out = generate(model, tokenizer, [ids1, ids2], { n: 4, temperature: 1, topP: 0.95, seed: 7 });
//   out[p][i] = { tokens, logprobs, text, finishReason, stop }
//
// Per chunk of at most maxBatchRows rows (a row = one sample of one prompt):
//   1. prefill each distinct prompt once (left-padded batch, or one forward per prompt and then
//      stacked — `prefill`), then fork it into its n rows with KvCache.fork: the rows share the
//      prompts' cached keys and values (no copy; decoding reads each prompt once per step);
//   2. decode every live row together: one forwardCached call per step with tq = 1;
//   3. rows that finish (stop token, stop string, max tokens, context end) stop counting; the
//      cache drops them (KvCache.compact, in place) once they are a quarter of the batch (moving
//      the kept rows costs about what a few decode steps of the dead rows would, so dropping at
//      every finish would cost more).
//
// Guarantees. Sample i of a prompt draws from its own Prng stream (streamSeed(seed, i, prompt)),
// one uniform per token, so its tokens depend on (model, prompt, options, seed, i) only — not on
// the other prompts, n, chunking or order — up to floating-point rounding: a row's logits in a
// bigger batch can differ in the last bits (different BLAS blocking), which could flip a draw that
// falls within ~1e-6 of a boundary. Greedy rows are exact functions of the logits likewise.
// Without a seed, a random one is drawn per call.
//
// Logprobs. logprobs[t] = log p(token_t | prompt, tokens_<t) under the model's own distribution
// (temperature 1, before top-k/top-p), as vLLM's default `raw_logprobs` and the teacher-forced
// scores of scoring.ts; so sum(logprobs) is the sample's log-likelihood (what DPO scores).
import { kernels } from '../kernels/index.js';
import { forwardCached } from '../model/infer.js';
import { KvCache, type KvDtype } from '../model/kv-cache.js';
import { PACKED_MIN_ROWS, packLlama, type PackedLlama } from '../model/packed.js';
import type { Llama } from '../model/llama.js';
import { Prng } from '../prng.js';
import type { EngineTokenizer } from '../tokenizer/index.js';
import { leadingPad, shiftLeft, stackAligned } from './cache-ops.js';
import { Sampler, streamSeed, type SamplingParams } from './sample.js';
import { RowText, checkStops, tokenBytesTable } from './stop.js';
import { checkPrompts } from './prompts.js';
import { checkSampling, SAMPLING_DEFAULTS } from './options.js';

/** The engine's generate options (the LanguageModel seam has its own, backends/types.ts GenerateOptions). */
export interface DecodeOptions {
  /** Samples per prompt. Default 1. */
  n?: number;
  /** 0 = greedy. Default 1 (the model's own distribution). */
  temperature?: number;
  /** Nucleus mass kept; 1 = off. Default 1. */
  topP?: number;
  /** Keep the k likeliest tokens; 0 = off. Default 0. */
  topK?: number;
  /** Most tokens generated per sample. Default 256 (a judge rationale fits). */
  maxTokens?: number;
  /** Stop strings, matched on the decoded text; excluded from the returned text. */
  stop?: readonly string[];
  /** Token ids that end a sample. Default: the tokenizer's end of text. */
  stopTokens?: readonly number[];
  /** Seed of the sample streams. Default: random per call. */
  seed?: number;
  /** Also return the k likeliest tokens at each position. Default 0. */
  topLogprobs?: number;
  /** Most rows (prompt × sample) decoded in one batch; larger requests run in chunks. Default 64 (the KV cache of 64 rows × 512 positions of the reference model is 256 MiB). */
  maxBatchRows?: number;
  /** 'padded': one left-padded forward over the chunk's prompts; 'each': one forward per prompt. Default 'padded' (see bench/lm.ts). */
  prefill?: 'padded' | 'each';
  /** Checked between decode steps; an aborted signal throws its reason. */
  signal?: AbortSignal;
  /**
   * Checked for every live row between decode steps (and before a chunk starts): the rows of a
   * prompt it returns true for stop where they are, keeping what they generated (finishReason
   * 'length'). For a caller that batches several clients' prompts in one call and must drop one
   * client's rows without failing the others (the server's worker on a timeout or a hang-up).
   */
  cancelled?: (prompt: number) => boolean;
  /**
   * Called after every decode step with the tokens it drew, one per row still decoding (a row's
   * last token included; cancelled rows draw none): what a server streams as it decodes. One call
   * per step, not per token, so a caller can send a step's tokens in one message. The row's text
   * is the caller's to decode (stop.ts rules: stop tokens are not text; the text ends before the
   * first stop string).
   */
  onTokens?: (tokens: readonly StepToken[]) => void;
  /** The model's current weights packed by packLlama, reused across calls; by default a call packs its own when its batches have 9 rows or more. */
  packed?: PackedLlama;
  /**
   * Precision of the KV cache. 'f32' (default): the keys and values the full forward computes.
   * 'f16': half the memory, and decoding at 16+ rows reads half the bytes it is bound by (a
   * 256-row CoT batch ~10 % faster, its attention 20-40 %); cached keys and values then carry a
   * relative rounding error up to 2^-11, so logprobs move in about the third decimal, and a
   * row's samples depend on its batch more often (f32's last-bit differences between batch shapes
   * can round to different halves), so the guarantee above holds far less tightly.
   */
  kvCache?: KvDtype;
}

/** One row's token of a decode step (DecodeOptions.onTokens). */
export interface StepToken {
  prompt: number;
  /** The sample's index within its prompt's n. */
  sample: number;
  id: number;
  /** log p(id | prefix) under the unmodified model (as GeneratedSample.logprobs). */
  logprob: number;
  /** With topLogprobs > 0: the likeliest ids at this position (as GeneratedSample.topLogprobs). */
  top?: { id: number; logprob: number }[];
  /** A stop token: it ends the row and is no part of the text. */
  stop: boolean;
}

/** Why a row stopped; the LanguageModel seam's FinishReason adds what HTTP servers report. */
export type StopReason = 'stop' | 'length';

export interface GeneratedSample {
  /** Generated ids (a final stop token included). */
  tokens: number[];
  /** log p(token_t | prefix) under the unmodified model, one per token. */
  logprobs: number[];
  /** Decoded text, without the stop token and without a matched stop string and what follows. */
  text: string;
  /** 'stop': a stop token or stop string; 'length': maxTokens, or the context (maxSeqLen) is full. */
  finishReason: StopReason;
  /** The stop string that matched, or the stop token's id, or null. */
  stop: string | number | null;
  /** With topLogprobs > 0: per position, the likeliest ids and their logprobs. */
  topLogprobs?: { id: number; logprob: number }[][];
}

interface Row {
  prompt: number; // index into prompts
  sample: number; // index within the prompt's n
  limit: number; // tokens this row may generate: min(maxTokens, maxSeqLen - promptLen)
  rng: Prng;
  text: RowText;
  out: GeneratedSample;
  done: boolean;
}

const DEFAULT_MAX_BATCH_ROWS = 64;

function resolve(
  o: DecodeOptions,
): Required<Omit<DecodeOptions, 'seed' | 'signal' | 'stopTokens' | 'packed' | 'cancelled' | 'onTokens'>> & { seed: number } {
  const r = {
    n: o.n ?? SAMPLING_DEFAULTS.n,
    temperature: o.temperature ?? SAMPLING_DEFAULTS.temperature,
    topP: o.topP ?? SAMPLING_DEFAULTS.topP,
    topK: o.topK ?? SAMPLING_DEFAULTS.topK,
    maxTokens: o.maxTokens ?? SAMPLING_DEFAULTS.maxTokens,
    stop: o.stop ?? [],
    seed: o.seed ?? Math.floor(Math.random() * 2 ** 32),
    topLogprobs: o.topLogprobs ?? SAMPLING_DEFAULTS.topLogprobs,
    maxBatchRows: o.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS,
    prefill: o.prefill ?? 'padded',
    kvCache: o.kvCache ?? 'f32',
  };
  checkSampling(r);
  const check = (ok: boolean, field: string, want: string, got: unknown): void => {
    if (!ok) throw new RangeError(`generate options: ${field} must be ${want}, got ${String(got)}`);
  };
  check(Number.isInteger(r.maxBatchRows) && r.maxBatchRows >= 1, 'maxBatchRows', 'an integer >= 1', r.maxBatchRows);
  check(r.prefill === 'padded' || r.prefill === 'each', 'prefill', "'padded' or 'each'", r.prefill);
  check(r.kvCache === 'f16' || r.kvCache === 'f32', 'kvCache', "'f16' or 'f32'", r.kvCache);
  return r;
}

/** Samples n continuations of every prompt (token ids). Result: [prompt][sample]. */
export function generate(
  model: Llama,
  tokenizer: EngineTokenizer,
  prompts: readonly (readonly number[])[],
  options: DecodeOptions = {},
): GeneratedSample[][] {
  const o = resolve(options);
  const c = model.config;
  if (tokenizer.vocabSize !== c.vocabSize)
    throw new RangeError(
      `generate: the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabSize is ${c.vocabSize}; they do not belong together`,
    );
  checkPrompts('generate', prompts, c);
  const maxStop = checkStops(o.stop);
  const stopTokens = new Set(options.stopTokens ?? [tokenizer.eotId]);
  const table = tokenBytesTable(tokenizer);
  const params: SamplingParams = { temperature: o.temperature, topK: o.topK, topP: o.topP };

  // Rows grouped by prompt, longest prompts first so a chunk's prompts have similar lengths
  // (less padding); results go back by (prompt, sample), so the order is invisible.
  const order = prompts.map((_, i) => i).sort((a, b) => prompts[b]!.length - prompts[a]!.length || a - b);
  const results: GeneratedSample[][] = prompts.map(() => []);
  const rows: Row[] = [];
  for (const p of order) {
    for (let s = 0; s < o.n; s++) {
      const out: GeneratedSample = { tokens: [], logprobs: [], text: '', finishReason: 'length', stop: null };
      if (o.topLogprobs > 0) out.topLogprobs = [];
      results[p]![s] = out;
      const limit = Math.min(o.maxTokens, c.maxSeqLen - prompts[p]!.length);
      rows.push({
        prompt: p,
        sample: s,
        limit,
        rng: new Prng(streamSeed(o.seed, s, prompts[p]!)),
        text: new RowText(table, o.stop, maxStop),
        out,
        done: limit <= 0,
      });
    }
  }
  const sampler = new Sampler(c.vocabSize);
  // Weights packed once for the whole call when its decode steps have rows enough to use them.
  let packed: PackedLlama | undefined = options.packed;
  for (let i = 0; i < rows.length; i += o.maxBatchRows) {
    const cancelled = options.cancelled;
    const chunk = rows.slice(i, i + o.maxBatchRows).filter((r) => !r.done && !cancelled?.(r.prompt));
    if (chunk.length >= PACKED_MIN_ROWS) packed ??= packLlama(model);
    if (chunk.length > 0)
      decodeChunk(model, prompts, chunk, o, params, stopTokens, sampler, {
        signal: options.signal,
        packed,
        cancelled,
        onTokens: options.onTokens,
      });
  }
  for (const r of rows) r.out.text = r.text.text();
  return results;
}

/** Prefills the chunk's distinct prompts, forks them into rows, decodes until every row is done. */
function decodeChunk(
  model: Llama,
  prompts: readonly (readonly number[])[],
  chunk: Row[],
  o: ReturnType<typeof resolve>,
  params: SamplingParams,
  stopTokens: ReadonlySet<number>,
  sampler: Sampler,
  hooks: {
    signal: AbortSignal | undefined;
    packed: PackedLlama | undefined;
    cancelled: DecodeOptions['cancelled'];
    onTokens: DecodeOptions['onTokens'];
  },
): void {
  const { signal, packed, cancelled, onTokens } = hooks;
  const K = kernels();
  const c = model.config;
  const V = c.vocabSize;
  const distinct = [...new Set(chunk.map((r) => r.prompt))];
  const slot = new Map(distinct.map((p, u) => [p, u] as const));
  const Lmax = Math.max(...distinct.map((p) => prompts[p]!.length));
  const maxLimit = Math.max(...chunk.map((r) => r.limit));
  // Room for the prompt and every generated token but the last (which is never fed back).
  const capacity = Math.min(c.maxSeqLen, Lmax + maxLimit - 1);

  // 1. Prefill: (U, V) logits of each distinct prompt's last position, and a (U, Lmax) cache.
  let cache: KvCache;
  let first: Float32Array;
  if (o.prefill === 'padded') {
    const U = distinct.length;
    const ids = new Int32Array(U * Lmax); // (U, Lmax) left-padded; id 0 under the mask
    const valid = new Uint8Array(U * Lmax);
    distinct.forEach((p, u) => {
      const pr = prompts[p]!;
      const pad = Lmax - pr.length;
      for (let t = 0; t < pr.length; t++) {
        ids[u * Lmax + pad + t] = pr[t]!;
        valid[u * Lmax + pad + t] = 1;
      }
    });
    cache = new KvCache(c, U, Lmax, o.kvCache);
    first = forwardCached(model, cache, ids, Lmax, { valid, ...(packed ? { packed } : {}) });
  } else {
    first = new Float32Array(distinct.length * V);
    const parts = distinct.map((p, u) => {
      const pr = prompts[p]!;
      const one = new KvCache(c, 1, pr.length, o.kvCache);
      first.set(forwardCached(model, one, Int32Array.from(pr), pr.length), u * V);
      return { cache: one, row: 0 };
    });
    cache = stackAligned(c, parts, Lmax);
  }
  // Fork: row r of the batch is chunk[r], reading its prompt's slot as a shared prefix.
  const forkFrom = chunk.map((r) => slot.get(r.prompt)!);
  cache = KvCache.fork(cache, forkFrom, capacity);
  let logits: Float32Array = new Float32Array(chunk.length * V); // (R, V)
  forkFrom.forEach((u, r) => logits.set(first.subarray(u * V, (u + 1) * V), r * V));

  // 2. Decode. `live` maps batch rows to chunk rows; finished rows stay in the batch (fed a dummy
  // token, outputs ignored) until compaction drops them.
  let live = chunk.slice();
  let lsm: Float32Array = new Float32Array(logits.length);
  for (;;) {
    if (signal?.aborted) throw signal.reason ?? new Error('generate: aborted');
    const B = live.length;
    if (lsm.length !== B * V) lsm = new Float32Array(B * V);
    K.logSoftmax(logits, lsm, B, V);
    const next = new Int32Array(B);
    const step: StepToken[] | null = onTokens ? [] : null;
    let alive = 0;
    for (let b = 0; b < B; b++) {
      const row = live[b]!;
      if (row.done) continue;
      if (cancelled?.(row.prompt)) {
        finish(row, 'length', null);
        continue;
      }
      const off = b * V;
      const id = sampler.pick(lsm, off, params, row.rng);
      next[b] = id;
      const logprob = lsm[off + id]!;
      row.out.tokens.push(id);
      row.out.logprobs.push(logprob);
      const top = row.out.topLogprobs ? sampler.top(lsm, off, o.topLogprobs) : undefined;
      if (top) row.out.topLogprobs!.push(top);
      const isStop = stopTokens.has(id);
      if (step) step.push({ prompt: row.prompt, sample: row.sample, id, logprob, ...(top ? { top } : {}), stop: isStop });
      if (isStop) finish(row, 'stop', id);
      else if (row.text.push(id)) finish(row, 'stop', row.text.matched);
      else if (row.out.tokens.length >= row.limit) finish(row, 'length', null);
      if (!row.done) alive++;
    }
    if (step && step.length > 0) onTokens!(step);
    if (alive === 0) return;
    const dead = B - alive;
    if (dead > 0 && (dead * 4 >= B || cache.remaining === 0)) {
      const keep: number[] = [];
      live.forEach((r, b) => !r.done && keep.push(b));
      cache.compact(keep);
      live = keep.map((b) => live[b]!);
      const nextKept = Int32Array.from(keep, (b) => next[b]!);
      logits = forwardStep(model, cache, nextKept, packed);
    } else {
      logits = forwardStep(model, cache, next, packed);
    }
  }
}

function finish(row: Row, reason: StopReason, stop: string | number | null): void {
  row.done = true;
  row.out.finishReason = reason;
  row.out.stop = stop;
}

/**
 * One decode step (tq = 1). When the cache is full, drops the padding columns every row has at
 * its left (a short prompt batched with a long one): every live row then still has room, since
 * its own prompt + tokens fit in maxSeqLen (its limit guarantees it).
 */
function forwardStep(model: Llama, cache: KvCache, next: Int32Array, packed: PackedLlama | undefined): Float32Array {
  if (cache.remaining === 0) {
    let minPad = Infinity;
    for (let b = 0; b < cache.batch; b++) minPad = Math.min(minPad, leadingPad(cache, b));
    shiftLeft(cache, minPad);
  }
  return forwardCached(model, cache, next, 1, packed ? { packed } : {});
}
