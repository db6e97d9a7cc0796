// Calibration of a probabilistic judge's P(chosen better) (record-level pChosen).
//
// Brier score: mean (1 - pChosen)^2; the gold answer is always "chosen", and this equals the
// two-class Brier score of P(A better) whichever slot the chosen answer had.
// ECE is confidence-based (Guo et al., 2017): confidence = max(p, 1 - p), correct = the more
// likely answer is the chosen one (0.5 credit at p = 0.5, RewardBench's rule). Binning: 10
// equal-width bins over confidence [0.5, 1.0] (width 0.05; a binary judge's confidence never
// falls below 0.5), the last bin closed; ECE = sum over bins of (n_bin / n) |accuracy - confidence|.
import type { JudgeRecord } from '../records.js';
import { json } from './accuracy.js';
import { bootstrapMean, type BootstrapOptions } from './bootstrap.js';
import { scoreOfP } from './scores.js';

export const ECE_BINS = 10;
export const ECE_BINNING = `${ECE_BINS} equal-width bins over confidence max(p, 1-p) in [0.5, 1.0]`;

export interface ReliabilityBin {
  lo: number;
  hi: number;
  n: number;
  confidence: number | null;
  accuracy: number | null;
}

export function reliability(ps: readonly number[], bins = ECE_BINS): { ece: number; bins: ReliabilityBin[] } {
  const width = 0.5 / bins;
  const acc = Array.from({ length: bins }, () => ({ n: 0, conf: 0, right: 0 }));
  for (const p of ps) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`calibration: probability ${p} is outside [0, 1]`);
    const c = Math.max(p, 1 - p);
    const b = Math.min(bins - 1, Math.floor((c - 0.5) / width));
    const slot = acc[b]!;
    slot.n++;
    slot.conf += c;
    // Right when the more likely answer is the chosen one.
    slot.right += scoreOfP(p); // 0.5 credit at exactly 0.5
  }
  let ece = 0;
  const out: ReliabilityBin[] = acc.map((s, b) => {
    const confidence = s.n ? s.conf / s.n : null;
    const accuracy = s.n ? s.right / s.n : null;
    if (s.n) ece += (s.n / ps.length) * Math.abs((accuracy as number) - (confidence as number));
    return { lo: 0.5 + b * width, hi: 0.5 + (b + 1) * width, n: s.n, confidence, accuracy };
  });
  return { ece: ps.length ? ece : NaN, bins: out };
}

/** Calibration of the records that carry pChosen; null when none do (the caller says why). */
export function calibration(records: readonly JudgeRecord[], o: BootstrapOptions) {
  const ps = records.flatMap((r) => (r.pChosen !== undefined ? [r.pChosen] : []));
  if (ps.length === 0) return null;
  const { ece, bins } = reliability(ps);
  return {
    brier: json(
      bootstrapMean(
        ps.map((p) => (1 - p) ** 2),
        o,
      ),
    ),
    ece,
    binning: ECE_BINNING,
    bins,
  };
}
