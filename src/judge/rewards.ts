// Scalar rewards for RL loops.
//   vsReference: r(y) = P(y beats the reference answer), in [0, 1]; 0.5 = as good as the reference.
//   group:       the Bradley–Terry log-strength of each y within its group (mean 0), for
//                group-relative methods that only need an ordering-consistent scale.
import type { LanguageModel } from '../backends/types.js';
import type { JudgeConfig } from './config.js';
import { judgePairs, type PairInput } from './pairwise.js';
import { rankCandidates, type Schedule } from './ranking.js';
import type { PairTemplate } from './templates.js';

export async function rewardsVsReference(
  model: LanguageModel,
  prompt: PairInput['prompt'],
  answers: string[],
  reference: string,
  template: PairTemplate,
  cfg: JudgeConfig,
): Promise<number[]> {
  const js = await judgePairs(
    model,
    answers.map((y, k) => ({ id: `y${k}-vs-ref`, prompt, answerA: y, answerB: reference })),
    template,
    cfg,
  );
  return js.map((j) => j.pA);
}

export async function groupRewards(
  model: LanguageModel,
  prompt: PairInput['prompt'],
  answers: string[],
  template: PairTemplate,
  cfg: JudgeConfig,
  schedule: Schedule = { kind: 'all' },
): Promise<number[]> {
  return (await rankCandidates(model, prompt, answers, template, cfg, schedule)).scores;
}
