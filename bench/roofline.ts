// What batching can gain at most, for judgments that are one prefill each (direct judges): the
// work in model flops, and the machine's matmul speed on the batch's largest product. Shared by
// bench/judge.ts (in-process) and bench/serve.ts (over HTTP).
//
// A direct judgment is one prefill: matrix products over the prompt's tokens, already tens of rows
// each. Batching B of them turns (L × d) @ (d × n) products into (B·L × d) @ (d × n) ones, which can
// run at most at the speed of that product on this machine; so
//   ceiling = peak GFLOP/s of the batch's largest product / GFLOP/s of one judgment at a time
// bounds the speed-up of batching, whatever the code around the products does.
import { performance } from 'node:perf_hooks';
import { kernels } from '../src/engine/kernels/index.js';
import type { ModelConfig } from '../src/engine/model/config.js';

/** Model flops of a prefill of L tokens with logits at the last position only (2 per multiply-add). */
export function prefillFlops(c: ModelConfig, L: number): number {
  const hd = c.dModel / c.nHeads;
  const q = c.nHeads * hd;
  const kv = c.nKvHeads * hd;
  const perToken = 2 * c.nLayers * (c.dModel * (q + 2 * kv) + q * c.dModel + 3 * c.dModel * c.ffnHidden);
  const attention = 2 * c.nLayers * q * L * (L + 1); // QK^T and PV over the causal triangle
  return L * perToken + attention + 2 * c.dModel * c.vocabSize;
}

/**
 * GFLOP/s of the largest product of a batched prefill of `rows` tokens, (rows × d) @ (d × ffn),
 * measured alone (best of 20: a single run here moves by ±30 % with what else the machine does),
 * through sgemm and through the packed kernel the embedded backend uses: the faster of the two.
 */
export function matmulPeak(c: ModelConfig, rows: number): number {
  const K = kernels();
  const m = rows, n = c.ffnHidden, k = c.dModel;
  const a = new Float32Array(m * k).fill(0.5), b = new Float32Array(n * k).fill(0.25), out = new Float32Array(m * n);
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
export function directRoofline(c: ModelConfig, promptLens: readonly number[], oneAtATimePerSec: number, batchedPerSec: number): DirectRoofline {
  const promptTokens = promptLens.reduce((a, b) => a + b, 0);
  const gflop = promptLens.reduce((t, L) => t + prefillFlops(c, L), 0) / 1e9;
  const perJudgment = gflop / promptLens.length;
  const oneAtATimeGflops = perJudgment * oneAtATimePerSec;
  const matmulPeakGflops = matmulPeak(c, promptTokens);
  return { promptTokens, gflop, oneAtATimeGflops, batchedGflops: perJudgment * batchedPerSec, matmulPeakGflops, ceiling: matmulPeakGflops / oneAtATimeGflops };
}
