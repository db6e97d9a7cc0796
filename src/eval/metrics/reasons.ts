// Right for the right reason (PrefWorld can check a rationale's own result): per sampled
// rationale, the verdict names the chosen answer AND the rationale's own worked result is right.
// Reported among all graded samples and among samples whose verdict is right. And the grader's
// reasons, each a share of graded samples: the question restated in its family's own layout, the
// worked result right, the checks agreeing with that result: why a judge wins or loses OOD.
// Counted per sample, resampled per pair (a pair's samples stay together).
import type { JudgeRecord, OrderRecord } from '../records.js';
import { json } from './accuracy.js';
import { bootstrapRatio, type BootstrapOptions } from './bootstrap.js';
import type { EstimateJson } from '../results.js';
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

/** The per-sample grades a record can carry, by the name the results use. */
const GRADE_FIELDS = {
  restated: 'restated',
  resultRight: 'rationaleRight',
  checksConsistent: 'checksConsistent',
} as const satisfies Record<string, keyof OrderRecord>;
export type GradeName = keyof typeof GRADE_FIELDS;

/** Share of graded samples with each grade true; null when no record carries any grade. */
export function rationaleGrades(records: readonly JudgeRecord[], o: BootstrapOptions): Partial<Record<GradeName, EstimateJson>> | null {
  const out: Partial<Record<GradeName, EstimateJson>> = {};
  for (const [name, field] of Object.entries(GRADE_FIELDS) as [GradeName, keyof OrderRecord][]) {
    const num: number[] = [];
    const den: number[] = [];
    let any = false;
    for (const r of records) {
      let t = 0;
      let n = 0;
      for (const [, ord] of ordersOf(r)) {
        const flags = ord[field] as boolean[] | undefined;
        if (!flags) continue;
        any = true;
        n += flags.length;
        t += flags.filter(Boolean).length;
      }
      num.push(t);
      den.push(n);
    }
    if (any) out[name] = json(bootstrapRatio(num, den, o));
  }
  return Object.keys(out).length ? out : null;
}
