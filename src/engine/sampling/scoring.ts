// Scoring given text: no sampling, one batched forward per chunk.
//
// - nextTokenLogprobs / candidateLogprobs: the distribution at the end of each prompt (how a
//   direct GenRM reads [[A]] vs [[B]] from one position). Left-padded prompts through the cached
//   forward, logits only at the last position.
// - continuationLogprobs: log p(continuation | prompt) by teacher forcing (how DPO scores), through
//   the model's training forward under noGrad (right-padded, no cache), so the numbers are those a
//   training step computes for the same text.
import { noGrad } from '../autograd/index.js';
import { kernels } from '../kernels/index.js';
import { forwardCached } from '../model/infer.js';
import { KvCache } from '../model/kv-cache.js';
import type { Llama } from '../model/llama.js';
import type { PackedLlama } from '../model/packed.js';
import { checkPrompts } from './prompts.js';

export interface ScoreOptions {
  /** Most padded tokens per forward; larger requests run in chunks. Default 8192 (its (tokens, vocab) logits are 16 MiB at vocab 512). */
  maxBatchTokens?: number;
  /** Checked between chunks; an aborted signal throws its reason. */
  signal?: AbortSignal;
  /** The model's current weights packed by packLlama: next-token scoring multiplies through them (faster from 9 rows up). */
  packed?: PackedLlama;
}

const DEFAULT_MAX_BATCH_TOKENS = 8192;

/**
 * Groups item indices (sorted by length, so a chunk pads little) into chunks whose padded size
 * (count × longest) stays within maxTokens; an item longer than that gets a chunk of its own.
 */
function chunks(lengths: readonly number[], maxTokens: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const out: number[][] = [];
  let cur: number[] = [];
  for (const i of order) {
    const longest = lengths[i]!; // ascending order: the newest item is the longest
    if (cur.length > 0 && (cur.length + 1) * longest > maxTokens) {
      out.push(cur);
      cur = [];
    }
    cur.push(i);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

function maxTokensOf(opts: ScoreOptions): number {
  const m = opts.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS;
  if (!(Number.isInteger(m) && m >= 1)) throw new RangeError(`score options: maxBatchTokens must be an integer >= 1, got ${m}`);
  return m;
}

/** Per prompt, the log-softmax of the next-token distribution at its end: (vocab) each. */
export function nextTokenLogprobs(model: Llama, prompts: readonly (readonly number[])[], opts: ScoreOptions = {}): Float32Array[] {
  const c = model.config;
  const V = c.vocabSize;
  checkPrompts('nextTokenLogprobs', prompts, c);
  const out: Float32Array[] = new Array<Float32Array>(prompts.length);
  for (const idx of chunks(
    prompts.map((p) => p.length),
    maxTokensOf(opts),
  )) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('nextTokenLogprobs: aborted');
    const B = idx.length;
    const L = Math.max(...idx.map((i) => prompts[i]!.length));
    const ids = new Int32Array(B * L); // (B, L) left-padded; id 0 under the mask
    const valid = new Uint8Array(B * L);
    idx.forEach((i, b) => {
      const p = prompts[i]!;
      const pad = L - p.length;
      for (let t = 0; t < p.length; t++) {
        ids[b * L + pad + t] = p[t]!;
        valid[b * L + pad + t] = 1;
      }
    });
    const logits = forwardCached(model, new KvCache(c, B, L), ids, L, { valid, ...(opts.packed ? { packed: opts.packed } : {}) }); // (B, V)
    kernels().logSoftmax(logits, logits, B, V);
    idx.forEach((i, b) => (out[i] = logits.slice(b * V, (b + 1) * V)));
  }
  return out;
}

/**
 * Per prompt, log p(candidate | prompt) for each candidate (token-id sequences), in the candidates'
 * order. Single-token candidates (genrm's verdict tokens) cost one forward over the prompts;
 * longer ones are scored by teacher forcing, one (prompt, candidate) pair each.
 */
export function candidateLogprobs(
  model: Llama,
  prompts: readonly (readonly number[])[],
  candidates: readonly (readonly number[])[],
  opts: ScoreOptions = {},
): number[][] {
  const V = model.config.vocabSize;
  candidates.forEach((cand, j) => {
    if (cand.length === 0) throw new RangeError(`candidateLogprobs: candidate ${j} is empty`);
    cand.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= V)
        throw new RangeError(`candidateLogprobs: candidate ${j} has token ${id} at position ${t}, outside the vocabulary [0, ${V})`);
    });
  });
  if (candidates.every((cand) => cand.length === 1)) {
    return nextTokenLogprobs(model, prompts, opts).map((lsm) => candidates.map((cand) => lsm[cand[0]!]!));
  }
  const items = prompts.flatMap((prompt) => candidates.map((continuation) => ({ prompt, continuation })));
  const scored = continuationLogprobs(model, items, opts);
  return prompts.map((_, i) => candidates.map((_, j) => scored[i * candidates.length + j]!.total));
}

export interface ContinuationScore {
  /** sum of `tokens`: log p(continuation | prompt). */
  total: number;
  /** log p(c_t | prompt, c_<t) per continuation token. */
  tokens: number[];
}

/** Per (prompt, continuation) pair, the continuation's log-likelihood by teacher forcing. */
export function continuationLogprobs(
  model: Llama,
  items: readonly { prompt: readonly number[]; continuation: readonly number[] }[],
  opts: ScoreOptions = {},
): ContinuationScore[] {
  const c = model.config;
  checkPrompts(
    'continuationLogprobs',
    items.map((it) => it.prompt),
    c,
  );
  items.forEach((it, i) => {
    const n = it.prompt.length + it.continuation.length;
    if (n > c.maxSeqLen)
      throw new RangeError(
        `continuationLogprobs: item ${i} has ${it.prompt.length} prompt + ${it.continuation.length} continuation tokens = ${n}, longer than the model's context (maxSeqLen ${c.maxSeqLen})`,
      );
    it.continuation.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize)
        throw new RangeError(
          `continuationLogprobs: item ${i} has continuation token ${id} at position ${t}, outside the vocabulary [0, ${c.vocabSize})`,
        );
    });
  });
  const out: ContinuationScore[] = items.map(() => ({ total: 0, tokens: [] }));
  // The last token is only a target, never an input: sequences of n tokens need n - 1 inputs.
  const inputLen = items.map((it) => it.prompt.length + it.continuation.length - 1);
  const todo = items.map((_, i) => i).filter((i) => items[i]!.continuation.length > 0);
  const chunked = chunks(
    todo.map((i) => inputLen[i]!),
    maxTokensOf(opts),
  ).map((ch) => ch.map((k) => todo[k]!));
  for (const idx of chunked) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('continuationLogprobs: aborted');
    const B = idx.length;
    const T = Math.max(...idx.map((i) => inputLen[i]!));
    const ids = new Int32Array(B * T); // (B, T) right-padded with id 0
    const targets = new Int32Array(B * T).fill(-1); // (B, T) next token where it is a continuation token
    idx.forEach((i, b) => {
      const { prompt, continuation } = items[i]!;
      const P = prompt.length;
      for (let t = 0; t < inputLen[i]!; t++) {
        ids[b * T + t] = t < P ? prompt[t]! : continuation[t - P]!;
        if (t + 1 >= P) targets[b * T + t] = continuation[t + 1 - P]!;
      }
    });
    const lp = noGrad(() => model.tokenLogprobs(ids, targets, B, T).data); // (B*T)
    idx.forEach((i, b) => {
      const P = items[i]!.prompt.length;
      const toks: number[] = [];
      let total = 0;
      for (let t = P - 1; t < inputLen[i]!; t++) {
        toks.push(lp[b * T + t]!);
        total += lp[b * T + t]!;
      }
      out[i] = { total, tokens: toks };
    });
  }
  return out;
}
