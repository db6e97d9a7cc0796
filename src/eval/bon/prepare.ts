// Best-of-N's inputs from a PrefWorld folder: the first prompts of each split, N answers to each
// from the policy, every answer graded. Shared by `genrm bon` and `genrm repro`.
import { join } from 'node:path';
import type { LanguageModel } from '../../backends/types.js';
import { readPairsAll } from '../../data/pair.js';
import { loadSpec, SPLIT_FILES } from '../../data/world/generate.js';
import { bonPrompts, DEFAULT_POLICY, drawAnswers, GoldGrader, type PolicyOptions } from './answers.js';
import type { BonInputs } from './run.js';

export interface BonPlan {
  /** A PrefWorld folder: spec.json and the splits' files. */
  world: string;
  splits: readonly (keyof typeof SPLIT_FILES)[];
  /** Prompts per split. */
  prompts: number;
  /** The N's; answers are drawn for the largest. */
  ns: readonly number[];
  seed: number;
  policy?: Partial<Omit<PolicyOptions, 'n' | 'seed' | 'onProgress'>>;
  onProgress?: (done: number, total: number) => void;
}

export interface BonPrepared extends BonInputs {
  /** Prompts left out because the policy gave fewer than max(N) whole answers. */
  short: number;
  drawn: number;
  dropped: number;
  /** Per split: the policy's accuracy per answer (N = 1 on average). */
  perAnswer: Record<string, number>;
}

export function parseNs(text: string): number[] {
  const ns = text.split(',').map((s) => s.trim());
  const out = ns.map((s) => Number(s));
  if (ns.length === 0 || out.some((n, i) => !/^\d+$/.test(ns[i]!) || n < 1 || n > 128))
    throw new RangeError(`expected a comma-separated list of N's in [1, 128] (e.g. 1,2,4,8), got "${text}"`);
  return [...new Set(out)].sort((a, b) => a - b);
}

export async function prepareBon(policy: LanguageModel, plan: BonPlan): Promise<BonPrepared> {
  const spec = loadSpec(plan.world);
  const grader = new GoldGrader(spec);
  const prompts = [];
  for (const split of plan.splits) prompts.push(...bonPrompts(await readPairsAll(join(plan.world, SPLIT_FILES[split])), plan.prompts));
  const n = Math.max(...plan.ns);
  const drawn = await drawAnswers(policy, prompts, {
    ...DEFAULT_POLICY,
    ...plan.policy,
    n,
    seed: plan.seed,
    ...(plan.onProgress ? { onProgress: plan.onProgress } : {}),
  });
  const gold = drawn.prompts.map((p, k) => drawn.answers[k]!.map((a) => grader.right(p, a)));
  const perAnswer: Record<string, number> = {};
  for (const split of plan.splits) {
    const ks = drawn.prompts.map((_, k) => k).filter((k) => drawn.prompts[k]!.split === split);
    const all = ks.flatMap((k) => gold[k]!);
    perAnswer[split] = all.length ? all.filter(Boolean).length / all.length : NaN;
  }
  return {
    prompts: drawn.prompts,
    answers: drawn.answers,
    gold,
    ns: plan.ns,
    short: drawn.short.length,
    drawn: drawn.drawn,
    dropped: drawn.dropped,
    perAnswer,
  };
}
