// What batching can gain at most: for judgments that are one prefill each (direct judges), the
// work in model flops and the machine's matmul speed on the batch's largest product; for CoT
// judgments, the engine's decode step per row at one judgment's rows and at a batch's (below).
// Shared by bench/judge.ts (in-process) and bench/serve.ts (over HTTP).
//
// A direct judgment is one prefill: matrix products over the prompt's tokens, already tens of rows
// each. Batching B of them turns (L × d) @ (d × n) products into (B·L × d) @ (d × n) ones, which can
// run at most at the speed of that product on this machine; so
//   ceiling = peak GFLOP/s of the batch's largest product / GFLOP/s of one judgment at a time
// bounds the speed-up of batching, whatever the code around the products does.
import { performance } from 'node:perf_hooks';
import { kernels, setKernels } from '../src/engine/kernels/index.js';
import type { ModelConfig } from '../src/engine/model/config.js';
import { forwardCached } from '../src/engine/model/infer.js';
import { KvCache, type KvDtype } from '../src/engine/model/kv-cache.js';
import type { Llama } from '../src/engine/model/llama.js';
import { packLlama, type PackedLlama } from '../src/engine/model/packed.js';
import { profileKernels, type Profiler } from './profile.js';

/** Model flops of one token through the layers' products (q, k, v, o, SwiGLU; 2 per multiply-add). */
function layerFlopsPerToken(c: ModelConfig): number {
  const hd = c.dModel / c.nHeads;
  const q = c.nHeads * hd;
  const kv = c.nKvHeads * hd;
  return 2 * c.nLayers * (c.dModel * (q + 2 * kv) + q * c.dModel + 3 * c.dModel * c.ffnHidden);
}

/** Model flops of a prefill of L tokens with logits at the last position only. */
export function prefillFlops(c: ModelConfig, L: number): number {
  const attention = 2 * c.nLayers * c.dModel * L * (L + 1); // QK^T and PV over the causal triangle (heads x headDim = dModel)
  return L * layerFlopsPerToken(c) + attention + 2 * c.dModel * c.vocabSize;
}

/**
 * GFLOP/s of the largest product of a batched prefill of `rows` tokens, (rows × d) @ (d × ffn),
 * measured alone (best of 20: a single run here moves by ±30 % with what else the machine does),
 * through sgemm and through the packed kernel the embedded backend uses: the faster of the two.
 */
export function matmulPeak(c: ModelConfig, rows: number): number {
  const K = kernels();
  const m = rows,
    n = c.ffnHidden,
    k = c.dModel;
  const a = new Float32Array(m * k).fill(0.5),
    b = new Float32Array(n * k).fill(0.25),
    out = new Float32Array(m * n);
  const packed = K.packWeight(b, n, k);
  let best = Infinity;
  for (let r = 0; r < 21; r++) {
    for (const run of [() => K.matmul({ a, b, c: out, m, n, k, transB: true }), () => K.matmulPacked(a, packed, out, m)]) {
      const t0 = performance.now();
      run();
      if (r > 0) best = Math.min(best, performance.now() - t0);
    }
  }
  return (2 * m * n * k) / (best / 1000) / 1e9;
}

export interface DirectRoofline {
  /** Prompt tokens of one round of the judgments (each judgment's prompt, summed). */
  promptTokens: number;
  /** Model GFLOP of those prefills. */
  gflop: number;
  /** Achieved GFLOP/s one judgment at a time, and batched. */
  oneAtATimeGflops: number;
  batchedGflops: number;
  /** The batch's largest product alone, GFLOP/s. */
  matmulPeakGflops: number;
  /** matmulPeakGflops / oneAtATimeGflops: the most batching can gain here. */
  ceiling: number;
}

/**
 * The direct roofline from prompt lengths (tokens, one per judgment) and the measured throughput
 * both ways, in judgments per second. The judgments are one batch: its prefill has all their
 * tokens as rows.
 */
export function directRoofline(
  c: ModelConfig,
  promptLens: readonly number[],
  oneAtATimePerSec: number,
  batchedPerSec: number,
): DirectRoofline {
  const promptTokens = promptLens.reduce((a, b) => a + b, 0);
  const gflop = promptLens.reduce((t, L) => t + prefillFlops(c, L), 0) / 1e9;
  const perJudgment = gflop / promptLens.length;
  const oneAtATimeGflops = perJudgment * oneAtATimePerSec;
  const matmulPeakGflops = matmulPeak(c, promptTokens);
  return {
    promptTokens,
    gflop,
    oneAtATimeGflops,
    batchedGflops: perJudgment * batchedPerSec,
    matmulPeakGflops,
    ceiling: matmulPeakGflops / oneAtATimeGflops,
  };
}

// What batching gains on the decode steps that are most of a CoT judgment: one token for each of
// a step's rows (a judgment's k votes; in a batch, every judgment's). A decode step's products
// read the weights once for all its rows, so they amortise with rows up to the machine's matmul
// speed; its attention reads each row's own keys and values, which nothing shares across
// judgments (a judgment's votes share their prompt's). So the engine's own decode step is timed
// per row at one judgment's rows and at a batch's, at the context a CoT judgment averages:
//   gain = step time per row, one judgment at a time / step time per row, batched.
// Not a strict bound on the end-to-end ratio: a judgment's other costs (its prefill, sampling,
// HTTP) amortise by their own ratios. But with decode most of the time, the end-to-end ratio
// stays near it, and the split of the batched step says what would have to get faster.

export interface DecodeRoofline {
  /** Positions in the cache while timed (prompt + half the generated tokens). */
  context: number;
  /** Rows of a step one judgment at a time (its votes), and batched (judgments x votes). */
  oneRows: number;
  batchRows: number;
  /** Decode step time per row, microseconds. */
  oneAtATimeRowUs: number;
  batchedRowUs: number;
  /** Of the batched step: its products' time and GFLOP/s, and its attention's time (per step, ms). */
  batchedMatmulMs: number;
  batchedMatmulGflops: number;
  batchedAttentionMs: number;
  /** oneAtATimeRowUs / batchedRowUs: what batching gains per decoded token. */
  gain: number;
}

/** Median decode step (ms) of `judgments` prompts x `votes` rows forked from them, as generate runs it. */
function decodeStepMs(
  model: Llama,
  packed: PackedLlama,
  judgments: number,
  votes: number,
  promptLen: number,
  context: number,
  kvCache: KvDtype,
  profile?: Profiler,
): number {
  const c = model.config;
  const steps = 16;
  const capacity = Math.min(c.maxSeqLen, context + steps + 1);
  const prompts = new KvCache(c, judgments, promptLen, kvCache);
  const ids = Int32Array.from({ length: judgments * promptLen }, (_, i) => 3 + (i % 200));
  forwardCached(model, prompts, ids, promptLen, { packed });
  const rows = Array.from({ length: judgments * votes }, (_, r) => Math.floor(r / votes));
  const cache = KvCache.fork(prompts, rows, capacity);
  const next = new Int32Array(rows.length).fill(7);
  while (cache.length < context) forwardCached(model, cache, next, 1, { packed });
  const ts: number[] = [];
  const inner = kernels();
  if (profile) setKernels(profile.kernels); // the timed steps only
  try {
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      forwardCached(model, cache, next, 1, { packed });
      ts.push(performance.now() - t0);
    }
  } finally {
    setKernels(inner);
  }
  ts.sort((a, b) => a - b);
  return ts[steps >> 1]!;
}

/**
 * Times the engine's decode step at `votes` rows (one judgment) and `judgments * votes` rows
 * (a batch), best of 3 medians each, interleaved; then profiles the batched step's kernels.
 */
export function decodeRoofline(
  model: Llama,
  o: { judgments: number; votes: number; promptLen: number; generated: number; kvCache?: KvDtype },
): DecodeRoofline {
  const kv = o.kvCache ?? 'f32';
  const context = Math.min(model.config.maxSeqLen - 17, o.promptLen + Math.max(1, Math.round(o.generated / 2)));
  const packed = packLlama(model);
  let one = Infinity;
  let batched = Infinity;
  for (let r = 0; r < 3; r++) {
    one = Math.min(one, decodeStepMs(model, packed, 1, o.votes, o.promptLen, context, kv));
    batched = Math.min(batched, decodeStepMs(model, packed, o.judgments, o.votes, o.promptLen, context, kv));
  }
  const prof = profileKernels(kernels());
  decodeStepMs(model, packed, o.judgments, o.votes, o.promptLen, context, kv, prof);
  const report = prof.report();
  const steps = (report.find((r) => r.op === 'attentionForward')?.calls ?? model.config.nLayers) / model.config.nLayers;
  const mm = report.filter((r) => r.op.startsWith('matmul')).reduce((t, r) => t + r.ms, 0) / steps;
  const att = (report.find((r) => r.op === 'attentionForward')?.ms ?? 0) / steps;
  const rows = o.judgments * o.votes;
  const flopsPerRow = decodeFlops(model.config);
  return {
    context,
    oneRows: o.votes,
    batchRows: rows,
    oneAtATimeRowUs: (one / o.votes) * 1000,
    batchedRowUs: (batched / rows) * 1000,
    batchedMatmulMs: mm,
    batchedMatmulGflops: (flopsPerRow * rows) / (mm / 1000) / 1e9,
    batchedAttentionMs: att,
    gain: one / o.votes / (batched / rows),
  };
}

/** Model flops of the products of one decode step's row (weights only, the head included). */
function decodeFlops(c: ModelConfig): number {
  return layerFlopsPerToken(c) + 2 * c.dModel * c.vocabSize;
}

/** One report line on a CoT case's decode roofline (bench judge, bench serve). */
export function decodeLine(name: string, d: DecodeRoofline): string {
  return (
    `${name}, the engine's decode step per row at ${d.context} positions: one judgment (${d.oneRows} row${d.oneRows > 1 ? 's' : ''}) ${d.oneAtATimeRowUs.toFixed(0)} us, ` +
    `batched (${d.batchRows} rows) ${d.batchedRowUs.toFixed(0)} us (products ${d.batchedMatmulMs.toFixed(2)} ms a step at ${d.batchedMatmulGflops.toFixed(0)} GFLOP/s, ` +
    `attention over each row's own keys and values ${d.batchedAttentionMs.toFixed(2)} ms): batching gains ~${d.gain.toFixed(1)}x per decoded token here`
  );
}
