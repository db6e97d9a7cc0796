// Best-of-N's choice: for N answers (the first N a policy gave, so the N's are nested), the judge
// compares the pairs of the reward server's schedule (judge/ranking.ts rewardSchedule: every pair
// up to 9 answers, then 8 opponents each), a Bradley–Terry fit on the judged P(i better than j)
// scores the answers, and the best is chosen. One judging pass serves every N: the union of the
// N's schedules is judged once.
import { fitBradleyTerry } from '../../judge/bradleyTerry.js';
import { rewardSchedule, schedulePairs } from '../../judge/ranking.js';

/** The pairs (i < j) best-of-N judges for the given N's: the union of each N's schedule on the first N answers. */
export function bonComparisons(ns: readonly number[]): [number, number][] {
  const seen = new Map<string, [number, number]>();
  for (const n of ns) {
    if (n < 2) continue;
    for (const [a, b] of schedulePairs(n, rewardSchedule(n))) {
      const [i, j] = a < b ? [a, b] : [b, a];
      seen.set(`${i},${j}`, [i, j]);
    }
  }
  return [...seen.values()].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
}

/**
 * The chosen answer among the first n: the highest Bradley–Terry score from the judged pairs of
 * n's schedule (`p(i, j)` = P(answer i better than answer j)); ties go to the earlier answer, a
 * uniform draw since answers are i.i.d. n = 1: answer 0.
 */
export function chooseBest(n: number, p: (i: number, j: number) => number): number {
  if (n === 1) return 0;
  const comps = schedulePairs(n, rewardSchedule(n)).map(([i, j]) => ({ i, j, w: p(i, j) }));
  const { scores } = fitBradleyTerry(n, comps);
  let best = 0;
  for (let i = 1; i < n; i++) if ((scores[i] as number) > (scores[best] as number) + 1e-12) best = i;
  return best;
}
