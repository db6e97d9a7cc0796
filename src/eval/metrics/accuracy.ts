// Accuracy (RewardBench's rule: ties and invalid verdicts score 0.5) with bootstrap CIs, and the
// groups a split is broken into: category, family (subset) and OOD shift type.
import type { JudgeRecord } from '../records.js';
import type { EstimateJson } from '../results.js';
import { bootstrapMean, type BootstrapOptions, type Estimate } from './bootstrap.js';
import { ordersOf, pairScore } from './scores.js';

/** NaN (nothing to estimate) becomes null for JSON. */
export function json(e: Estimate): EstimateJson {
  const f = (x: number): number | null => (Number.isFinite(x) ? x : null);
  return { value: f(e.value), lo: f(e.lo), hi: f(e.hi), n: e.n };
}

/** Headline accuracy of some records (one per pair). */
export function accuracy(
  records: readonly JudgeRecord[],
  o: BootstrapOptions,
  score: (r: JudgeRecord) => number = pairScore,
): EstimateJson {
  return json(bootstrapMean(records.map(score), o));
}

/** Share of all sampled verdicts, over every order, that had no indicator. */
export function invalidRate(records: readonly JudgeRecord[]): number {
  let bad = 0;
  let all = 0;
  for (const r of records) {
    for (const [, o] of ordersOf(r)) {
      all += o.verdicts.length;
      bad += o.verdicts.filter((v) => v === 'invalid').length;
    }
  }
  return all === 0 ? 0 : bad / all;
}

export interface GroupKey {
  by: 'all' | 'category' | 'family' | 'shift' | 'heldout';
  value: string;
}

/** PrefWorld's meta.shift for pairs of task families held out of training (src/data/world/pairs.ts). */
export const HELD_OUT_SHIFT = 'family';

/**
 * The groups of one split's records. A pair carrying two shifts counts in both shift groups;
 * a pair with no shift counts in "none" (test-ood's control group) only when the split has
 * shifted pairs at all, so in-distribution splits get no shift breakdown. Pairs of a held-out
 * family (shift "family") also count in a "heldout" group per family: where a judge that reasons
 * should win.
 */
export function groupRecords(records: readonly JudgeRecord[]): [GroupKey, JudgeRecord[]][] {
  const out = new Map<string, [GroupKey, JudgeRecord[]]>();
  const add = (by: GroupKey['by'], value: string, r: JudgeRecord): void => {
    const key = `${by}\u0000${value}`;
    let g = out.get(key);
    if (!g) out.set(key, (g = [{ by, value }, []]));
    g[1].push(r);
  };
  const anyShift = records.some((r) => r.shift.length > 0);
  for (const r of records) {
    add('all', 'all', r);
    if (r.category !== undefined) add('category', r.category, r);
    if (r.subset !== undefined) add('family', r.subset, r);
    if (anyShift) {
      if (r.shift.length === 0) add('shift', 'none', r);
      for (const s of new Set(r.shift)) add('shift', s, r);
    }
    if (r.subset !== undefined && r.shift.includes(HELD_OUT_SHIFT)) add('heldout', r.subset, r);
  }
  const order = { all: 0, category: 1, family: 2, shift: 3, heldout: 4 };
  return [...out.values()].sort((a, b) => order[a[0].by] - order[b[0].by] || a[0].value.localeCompare(b[0].value));
}
