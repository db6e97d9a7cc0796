// Ranking N candidates for one prompt: pairwise judgments on a schedule → Bradley–Terry scores →
// the best candidate. Each judged pair's P(A better) is used as a soft outcome, so a confident
// judge moves the scores more than a hesitant one.
import type { LanguageModel } from '../backends/types.js';
import { fitBradleyTerry } from './bradleyTerry.js';
import type { JudgeConfig } from './config.js';
import { judgePairs, type PairInput, type PairJudgment } from './pairwise.js';
import type { PairTemplate } from './templates.js';
import { Prng } from '../engine/prng.js';

/**
 * Which pairs to judge.
 *   all:         every unordered pair, N(N-1)/2 judgments.
 *   round-robin: `rounds` circulant rounds; round r pairs i with (i + r) mod N. Connected from
 *                round 1, each candidate meets 2·rounds others; N·rounds judgments.
 *   random:      `pairs` distinct pairs drawn with a seeded shuffle.
 */
export type Schedule = { kind: 'all' } | { kind: 'round-robin'; rounds: number } | { kind: 'random'; pairs: number; seed: number };

/** Rounds of the circulant schedule: response i meets i ± 1..4, 8 opponents each. */
export const REWARD_ROUNDS = 4;

/**
 * Which pairs of a group of n responses are judged (by /v1/reward and `genrm bon`): every pair up
 * to 2·REWARD_ROUNDS + 1 = 9 responses; beyond, REWARD_ROUNDS circulant rounds, response i
 * against i ± 1..4. Each response then meets exactly 8 others, so a group of N costs 4N pairs,
 * not N(N−1)/2 (128 responses: 512 instead of 8,128), and every response's reward rests on as many
 * comparisons, whatever its place or the group's size. The graph is connected, so the rewards
 * share one Bradley–Terry scale. What RL gets back: for groups of up to 9, the all-pairs fit
 * (the two schedules judge the same pairs there); beyond, an estimate from 8 comparisons per
 * response, about as noisy per response as a 9-response group's.
 */
export function rewardSchedule(n: number): Schedule {
  return n <= 2 * REWARD_ROUNDS + 1 ? { kind: 'all' } : { kind: 'round-robin', rounds: REWARD_ROUNDS };
}

export function schedulePairs(n: number, s: Schedule): [number, number][] {
  const all: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) all.push([i, j]);
  if (s.kind === 'all') return all;
  if (s.kind === 'round-robin') {
    if (!(Number.isInteger(s.rounds) && s.rounds >= 1)) throw new RangeError(`schedule: rounds must be an integer >= 1, got ${s.rounds}`);
    const seen = new Set<string>();
    const out: [number, number][] = [];
    for (let r = 1; r <= s.rounds; r++) {
      for (let i = 0; i < n; i++) {
        const j = (i + r) % n;
        const key = i < j ? `${i},${j}` : `${j},${i}`;
        if (i === j || seen.has(key)) continue; // rounds past n/2 repeat pairs: judged once
        seen.add(key);
        out.push([i, j]);
      }
    }
    return out;
  }
  if (!(Number.isInteger(s.pairs) && s.pairs >= 1)) throw new RangeError(`schedule: pairs must be an integer >= 1, got ${s.pairs}`);
  const r = new Prng(s.seed); // the engine's seeded PRNG: one generator for the project
  for (let k = all.length - 1; k > 0; k--) {
    const m = r.int(k + 1);
    [all[k], all[m]] = [all[m] as [number, number], all[k] as [number, number]];
  }
  return all.slice(0, Math.min(s.pairs, all.length));
}

export interface Ranking {
  /** Bradley–Terry log-strength per candidate (mean 0). */
  scores: number[];
  /** Candidate indices, best first. */
  order: number[];
  best: number;
  judgments: { i: number; j: number; judgment: PairJudgment }[];
}

export async function rankCandidates(
  model: LanguageModel,
  prompt: PairInput['prompt'],
  candidates: string[],
  template: PairTemplate,
  cfg: JudgeConfig,
  schedule: Schedule = { kind: 'all' },
): Promise<Ranking> {
  if (candidates.length < 2) throw new RangeError(`ranking needs at least 2 candidates, got ${candidates.length}`);
  const pairs = schedulePairs(candidates.length, schedule);
  const inputs: PairInput[] = pairs.map(([i, j]) => ({
    id: `${i}-${j}`,
    prompt,
    answerA: candidates[i] as string,
    answerB: candidates[j] as string,
  }));
  const js = await judgePairs(model, inputs, template, cfg);
  const fit = fitBradleyTerry(
    candidates.length,
    pairs.map(([i, j], k) => ({ i, j, w: (js[k] as PairJudgment).pA })),
  );
  const order = fit.scores.map((_, i) => i).sort((a, b) => (fit.scores[b] as number) - (fit.scores[a] as number) || a - b);
  return {
    scores: fit.scores,
    order,
    best: order[0] as number,
    judgments: pairs.map(([i, j], k) => ({ i, j, judgment: js[k] as PairJudgment })),
  };
}
