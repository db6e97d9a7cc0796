// 95 % bootstrap confidence intervals, resampling PAIRS with replacement (percentile method), from
// a seeded PRNG so a report's intervals are the same on every run. Ratio metrics (e.g. "right for
// the right reason among right verdicts") resample pairs and recompute the ratio of sums, so a
// pair with many samples weighs as it does in the point estimate.
import { Prng } from '../../engine/prng.js';

export interface BootstrapOptions {
  /** Resamples. 1000: percentile endpoints of a 95 % interval move by well under a point beyond it. */
  resamples: number;
  /** PRNG seed. Fixed so the report is reproducible. */
  seed: number;
  /** Two-sided coverage. */
  level: number;
}

export const DEFAULT_BOOTSTRAP: BootstrapOptions = { resamples: 1000, seed: 20241016, level: 0.95 };

export interface Estimate {
  value: number;
  lo: number;
  hi: number;
  /** Pairs the estimate rests on. */
  n: number;
}

function quantile(sorted: Float64Array, q: number): number {
  // Linear interpolation between order statistics (type 7, R's default).
  const h = (sorted.length - 1) * q;
  const i = Math.floor(h);
  const a = sorted[i] as number;
  const b = sorted[Math.min(i + 1, sorted.length - 1)] as number;
  return a + (h - i) * (b - a);
}

/** Ratio sum(num)/sum(den) with a bootstrap CI; `num[i]`, `den[i]` belong to pair i. den total 0 → NaN. */
export function bootstrapRatio(num: readonly number[], den: readonly number[], o: BootstrapOptions = DEFAULT_BOOTSTRAP): Estimate {
  const n = num.length;
  if (den.length !== n) throw new RangeError(`bootstrapRatio: num has ${n} entries, den ${den.length}`);
  const total = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0);
  const value = total(den) === 0 ? NaN : total(num) / total(den);
  if (n === 0) return { value: NaN, lo: NaN, hi: NaN, n: 0 };
  const rng = new Prng(o.seed);
  const stats = new Float64Array(o.resamples);
  let kept = 0;
  for (let b = 0; b < o.resamples; b++) {
    let sn = 0;
    let sd = 0;
    for (let i = 0; i < n; i++) {
      const j = rng.nextU32() % n;
      sn += num[j] as number;
      sd += den[j] as number;
    }
    if (sd > 0) stats[kept++] = sn / sd;
  }
  if (kept === 0) return { value, lo: NaN, hi: NaN, n };
  const s = stats.subarray(0, kept).sort();
  const a = (1 - o.level) / 2;
  return { value, lo: quantile(s, a), hi: quantile(s, 1 - a), n };
}

/** Mean of per-pair values with a bootstrap CI. */
export function bootstrapMean(xs: readonly number[], o: BootstrapOptions = DEFAULT_BOOTSTRAP): Estimate {
  return bootstrapRatio(
    xs,
    xs.map(() => 1),
    o,
  );
}

/** Paired difference mean(a) - mean(b) over the same pairs (a[i], b[i] belong to pair i). */
export function bootstrapPairedDiff(a: readonly number[], b: readonly number[], o: BootstrapOptions = DEFAULT_BOOTSTRAP): Estimate {
  if (a.length !== b.length) throw new RangeError(`bootstrapPairedDiff: ${a.length} vs ${b.length} pairs`);
  return bootstrapMean(
    a.map((x, i) => x - (b[i] as number)),
    o,
  );
}
