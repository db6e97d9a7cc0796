// Right for the right reason (PrefWorld can check a rationale's own result): per sampled
// rationale, the verdict names the chosen answer AND the rationale's own worked result is right.
// Reported among all graded samples and among samples whose verdict is right. Counted per
// sample, resampled per pair (a pair's samples stay together).
import type { JudgeRecord } from '../records.js';
import { json } from './accuracy.js';
import { bootstrapRatio, type BootstrapOptions } from './bootstrap.js';
import { ordersOf, towardChosen } from './scores.js';

export function rightReason(records: readonly JudgeRecord[], o: BootstrapOptions) {
  const both: number[] = [];
  const graded: number[] = [];
  const right: number[] = [];
  let any = false;
  for (const r of records) {
    let b = 0;
    let g = 0;
    let v = 0;
    for (const [name, ord] of ordersOf(r)) {
      if (!ord.rationaleRight) continue;
      any = true;
      ord.verdicts.forEach((verdict, i) => {
        const ok = towardChosen(verdict, name) > 0;
        g++;
        if (ok) v++;
        if (ok && ord.rationaleRight![i]) b++;
      });
    }
    both.push(b);
    graded.push(g);
    right.push(v);
  }
  if (!any) return null;
  return { amongAll: json(bootstrapRatio(both, graded, o)), amongRight: json(bootstrapRatio(both, right, o)) };
}
