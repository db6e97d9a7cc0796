// repro's overoptimisation stage (beyond the paper; issue 24): the base trained as a policy by GRPO
// with each judge as its reward, and with the gold as a reference; held-out gold accuracy and the
// judge's own view (the proxy) along each run (eval/overopt/run.ts).
import { join } from 'node:path';
import { readPairsAll } from '../../data/pair.js';
import { loadSpec, SPLIT_FILES } from '../../data/world/generate.js';
import { bonPrompts, GoldGrader, type BonPrompt } from '../bon/answers.js';
import { baseAnswers, overoptRun, type OveroptReward } from '../overopt/run.js';
import { METHODS } from '../records.js';
import type { OveroptRow } from '../results.js';
import type { SizeSettings } from './settings.js';

/** The rewards the policy is trained on, in report order, where trained: the gold, a reward head, direct, CoT. */
const REWARDS: readonly { method: string; mode: 'direct' | 'cot' }[] = [
  { method: METHODS.bt, mode: 'direct' },
  { method: METHODS.genrm, mode: 'direct' },
  { method: METHODS.starDpo, mode: 'cot' },
];

export interface OveroptStageInputs {
  base: string;
  /** The eval subset folder (spec.json and the split files): the held-out prompts. */
  evalDir: string;
  /** The STaR training pairs' folder: the policy's training prompts. */
  trainDir: string;
  models: Record<string, string>;
  settings: SizeSettings;
  seed: number;
  say: (line: string) => void;
}

export async function overoptStage(o: OveroptStageInputs): Promise<{ rows: OveroptRow[]; notes: string[] }> {
  const s = o.settings;
  const v = s.overopt;
  const grader = new GoldGrader(loadSpec(o.evalDir));
  const train = bonPrompts(await readPairsAll(join(o.trainDir, SPLIT_FILES.train)), 100_000);
  const held: BonPrompt[] = [];
  for (const split of ['test-id', 'test-ood'] as const)
    held.push(...bonPrompts(await readPairsAll(join(o.evalDir, SPLIT_FILES[split])), v.evalPrompts));
  const answerTokens = 48;
  const ref = await baseAnswers(o.base, held, o.seed + 5, answerTokens, s.maxBatchRows);
  const rewards: OveroptReward[] = [
    { name: 'gold', kind: 'gold' },
    ...REWARDS.filter((r) => o.models[r.method]).map((r): OveroptReward => ({
      name: r.method,
      kind: 'judge',
      dir: o.models[r.method]!,
      mode: r.mode,
    })),
  ];
  const rows: OveroptRow[] = [];
  for (const reward of rewards) {
    o.say(`overoptimisation: the policy trained on ${reward.name}'s reward`);
    rows.push(
      ...(await overoptRun({
        base: o.base,
        reward,
        train,
        held: ref.prompts,
        baseAnswers: ref.answers,
        grader,
        settings: {
          steps: v.steps,
          promptsPerStep: v.promptsPerStep,
          k: v.k,
          lr: v.lr,
          evalEvery: v.evalEvery,
          evalSamples: v.evalSamples,
          votes: v.votes,
          judgeMaxTokens: s.maxTokens,
          answerTokens,
        },
        seed: o.seed,
        maxBatchRows: s.maxBatchRows,
        say: o.say,
      })),
    );
  }
  const notes = [
    `overoptimisation: the base trained as a policy by GRPO (${v.steps} updates of ${v.promptsPerStep} prompts × ${v.k} answers from STaR's ${train.length} training tasks, lr ${v.lr}, no KL) on each reward: the gold (PrefWorld's checker: a reference), ${rewards
      .slice(1)
      .map((r) => r.name)
      .join(
        ', ',
      )}; within a group a reward head's scores or a pairwise judge's Bradley–Terry scores on the reward server's schedule (CoT: ${v.votes} rationale${v.votes > 1 ? 's' : ''} per order); a worked line, cut or empty answer gets the group's lowest reward minus 1`,
    `overoptimisation: every ${v.evalEvery} updates, ${v.evalSamples} answers to each of ${ref.prompts.length} held-out prompts: gold = share right (not whole = wrong); judge = the judge's P(the policy's first answer beats the base's answer to the prompt), 0 where the policy's answer is not whole`,
  ];
  return { rows, notes };
}
