// Best-of-N with one judge: every scheduled pair of each prompt's answers judged once, as
// `genrm eval` judges a pair (both orders, the same templates, votes and seeds; reward heads
// score each answer), then for each N the chosen answer's gold grade. Reported per split: the
// chosen answer's accuracy with a 95 % bootstrap CI over prompts, beside the oracle (a right
// answer among the N, if any) and N = 1 (one draw from the policy).
export type { BonRow };
import type { PreferencePair } from '../../data/pair.js';
import { json } from '../metrics/accuracy.js';
import { bootstrapRatio } from '../metrics/bootstrap.js';
import type { JudgeRecord } from '../records.js';
import type { BonRow } from '../results.js';
import { judgeSets, type EvalJudge } from '../run/judge.js';
import type { LmEvalOptions } from '../run/lm.js';
import type { BonPrompt } from './answers.js';
import { bonComparisons, chooseBest } from './choose.js';

export interface BonInputs {
  prompts: readonly BonPrompt[];
  /** Per prompt, its answers (at least max(ns)). */
  answers: readonly (readonly string[])[];
  /** Per prompt, per answer: right by PrefWorld's gold. */
  gold: readonly (readonly boolean[])[];
  ns: readonly number[];
}

/** The comparison pairs of every prompt as PreferencePairs: "chosen" is answer i, "rejected" answer j. */
export function comparisonPairs(x: BonInputs): PreferencePair[] {
  const comps = bonComparisons(x.ns);
  return x.prompts.flatMap((p, k) =>
    comps.map(([i, j]) => ({
      id: `${p.id}/bon-${i}-${j}`,
      prompt: p.prompt,
      chosen: x.answers[k]![i]!,
      rejected: x.answers[k]![j]!,
      split: p.split,
      subset: p.subset,
      ...(p.category ? { category: p.category } : {}),
    })),
  );
}

/** P(chosen better) of a record: the judge's own probability, else its vote share over both orders. */
export function recordP(r: JudgeRecord): number {
  if (r.pChosen !== undefined) return r.pChosen;
  let won = 0;
  let all = 0;
  for (const [o, right] of [
    [r.chosenFirst, 'A'],
    [r.chosenSecond, 'B'],
  ] as const) {
    for (const v of o?.verdicts ?? []) {
      all++;
      if (v === right) won++;
      else if (v === 'tie' || v === 'invalid') won += 0.5;
    }
  }
  return all === 0 ? 0.5 : won / all;
}

/** The rows for one judge, from its records of `comparisonPairs(x)`. */
export function bonRows(judge: string, x: BonInputs, records: readonly JudgeRecord[]): BonRow[] {
  const p = new Map(records.map((r) => [r.pairId, recordP(r)]));
  const splits = [...new Set(x.prompts.map((q) => q.split))];
  const rows: BonRow[] = [];
  for (const split of splits) {
    const idx = x.prompts.map((_, k) => k).filter((k) => x.prompts[k]!.split === split);
    for (const n of x.ns) {
      const chosen: number[] = [];
      const oracle: number[] = [];
      for (const k of idx) {
        const id = x.prompts[k]!.id;
        const pij = (i: number, j: number): number => {
          const key = i < j ? `${id}/bon-${i}-${j}` : `${id}/bon-${j}-${i}`;
          const v = p.get(key);
          if (v === undefined) throw new Error(`best-of-N: no judgment for ${key}`);
          return i < j ? v : 1 - v;
        };
        const g = x.gold[k]!;
        chosen.push(g[chooseBest(n, pij)] ? 1 : 0);
        oracle.push(g.slice(0, n).some(Boolean) ? 1 : 0);
      }
      const ones = idx.map(() => 1);
      rows.push({
        judge,
        split,
        n,
        accuracy: json(bootstrapRatio(chosen, ones)),
        oracle: json(bootstrapRatio(oracle, ones)),
        comparisons: n < 2 ? 0 : bonComparisons([n]).length,
      });
    }
  }
  return rows;
}

/** Judges the comparisons with `judge` and returns its rows and records. */
export async function runBon(
  judge: EvalJudge,
  name: string,
  x: BonInputs,
  o: Omit<LmEvalOptions, 'method' | 'onProgress'> & { onProgress?: (done: number, total: number) => void },
): Promise<{ rows: BonRow[]; records: JudgeRecord[] }> {
  for (const [k, a] of x.answers.entries()) {
    if (a.length < Math.max(...x.ns))
      throw new RangeError(`best-of-N: prompt ${x.prompts[k]?.id} has ${a.length} answers, fewer than N = ${Math.max(...x.ns)}`);
  }
  const pairs = comparisonPairs(x);
  const records =
    pairs.length === 0 ? [] : await judgeSets(judge, [{ file: 'best-of-N comparisons', pairs, checker: null }], { ...o, method: name });
  return { rows: bonRows(name, x, records), records };
}
