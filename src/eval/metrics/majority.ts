// maj@k: accuracy of the majority of the first k sampled verdicts (per order, orders combined),
// for k = 1, 2, 4, ..., 32, all from ONE set of samples. Taking the first k (not a fresh draw)
// is what the paper's curve means when one set of 32 is sampled; it makes the curve one
// sample path, so its wiggles are sampling noise, which the CIs show.
import type { JudgeRecord } from '../records.js';
import type { EstimateJson } from '../results.js';
import { accuracy } from './accuracy.js';
import type { BootstrapOptions } from './bootstrap.js';
import { majScore, samplesOf } from './scores.js';

/** The paper's vote counts (32 votes at most). */
export const DEFAULT_KS: readonly number[] = [1, 2, 4, 8, 16, 32];

/**
 * maj@k for each k every record has samples for. A run with, say, 5 votes also gets k = 5 so its
 * largest vote count is on the curve. Returns the k's left out too, so a report can say why.
 */
export function majAtK(
  records: readonly JudgeRecord[],
  o: BootstrapOptions,
  ks: readonly number[] = DEFAULT_KS,
): { curve: { k: number; accuracy: EstimateJson }[]; maxSamples: number; skipped: number[] } {
  if (records.length === 0) return { curve: [], maxSamples: 0, skipped: [...ks] };
  const maxSamples = Math.min(...records.map(samplesOf));
  const use = ks.filter((k) => k <= maxSamples);
  if (maxSamples > 1 && !use.includes(maxSamples)) use.push(maxSamples);
  use.sort((a, b) => a - b);
  return {
    curve: use.map((k) => ({ k, accuracy: accuracy(records, o, (r) => majScore(r, k)) })),
    maxSamples,
    skipped: ks.filter((k) => k > maxSamples),
  };
}
