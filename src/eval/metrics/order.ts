// Order effects: accuracy when the chosen answer is shown first vs second, how often the two
// orders agree, and how often a definite verdict picks the first slot (position bias).
import type { JudgeRecord } from '../records.js';
import type { EstimateJson } from '../results.js';
import { accuracy, json } from './accuracy.js';
import { bootstrapMean, bootstrapRatio, type BootstrapOptions } from './bootstrap.js';
import { orderDirection, orderScore } from './scores.js';

export interface OrderMetrics {
  chosenFirst: EstimateJson | null;
  chosenSecond: EstimateJson | null;
  agreement: EstimateJson | null;
  firstSlotRate: EstimateJson | null;
}

export function orderMetrics(records: readonly JudgeRecord[], o: BootstrapOptions): OrderMetrics {
  const first = records.filter((r) => r.chosenFirst);
  const second = records.filter((r) => r.chosenSecond);
  const both = records.filter((r) => r.chosenFirst && r.chosenSecond);
  // Agreement: both orders name the same answer. A tie/invalid order agrees with nothing, so a
  // judge that never commits does not look consistent.
  const agree = both.map((r) => {
    const a = orderDirection(r.chosenFirst!, 'chosenFirst');
    const b = orderDirection(r.chosenSecond!, 'chosenSecond');
    return a !== 0 && a === b ? 1 : 0;
  });
  // First slot picked: in chosenFirst a chosen-verdict is slot A; in chosenSecond a rejected one is.
  const num: number[] = [];
  const den: number[] = [];
  for (const r of records) {
    let n = 0;
    let d = 0;
    if (r.chosenFirst) {
      const dir = orderDirection(r.chosenFirst, 'chosenFirst');
      if (dir !== 0) (d++, (n += dir > 0 ? 1 : 0));
    }
    if (r.chosenSecond) {
      const dir = orderDirection(r.chosenSecond, 'chosenSecond');
      if (dir !== 0) (d++, (n += dir < 0 ? 1 : 0));
    }
    num.push(n);
    den.push(d);
  }
  return {
    chosenFirst: first.length ? accuracy(first, o, (r) => orderScore(r.chosenFirst!, 'chosenFirst')) : null,
    chosenSecond: second.length ? accuracy(second, o, (r) => orderScore(r.chosenSecond!, 'chosenSecond')) : null,
    agreement: both.length ? json(bootstrapMean(agree, o)) : null,
    firstSlotRate: den.some((d) => d > 0) ? json(bootstrapRatio(num, den, o)) : null,
  };
}
