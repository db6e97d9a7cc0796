// The training stages of a repro run: each method trained from the base through the recipe
// registry (`genrm train`'s own path), with the size's cuts. Common to all: the size's budget
// (the same step cap and stopping rule for every method, settings.ts), no in-training judge
// evaluation (the eval stages judge every method the same way afterwards), over-long examples
// skipped and counted, warmup a tenth of the cap, a checkpoint every third of it so an
// interruption loses little (a rerun resumes from it).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { getRecipe, resolveRecipeConfig, runRecipe, type RecipeResult } from '../../train/recipes/index.js';
import { STATE_FILE } from '../../train/star/iterate.js';
import { hasTrainerState } from '../../train/state.js';
import { METHODS } from '../records.js';
import type { SamplePlan } from './plan.js';
import type { SizeSettings } from './settings.js';

/** The trained rows, in training order: the paper's methods, the labelled +checked variants, then online RL (beyond the paper). */
export const TRAINED = [
  'bt',
  'pairrm',
  'genrm',
  'rationalize',
  'star-sft',
  'star-dpo',
  METHODS.starSftChecked,
  METHODS.starDpoChecked,
  METHODS.grpo,
  METHODS.grpoConsistent,
] as const;
export type Trained = (typeof TRAINED)[number];

/** Each row's recipe and STaR filter (a +checked row: filter 'checked') or GRPO reward. */
export const ROWS: Record<
  Trained,
  {
    recipe: 'bt' | 'pairrm' | 'genrm' | 'rationalize' | 'star-sft' | 'star-dpo' | 'grpo';
    filter?: 'verdict' | 'checked';
    reward?: 'right' | 'consistent';
  }
> = {
  bt: { recipe: 'bt' },
  pairrm: { recipe: 'pairrm' },
  genrm: { recipe: 'genrm' },
  rationalize: { recipe: 'rationalize' },
  'star-sft': { recipe: 'star-sft', filter: 'verdict' },
  'star-dpo': { recipe: 'star-dpo', filter: 'verdict' },
  'star-sft+checked': { recipe: 'star-sft', filter: 'checked' },
  'star-dpo+checked': { recipe: 'star-dpo', filter: 'checked' },
  grpo: { recipe: 'grpo', reward: 'right' },
  'grpo-consistent': { recipe: 'grpo', reward: 'consistent' },
};

/** The STaR rows (they sample rationales and are judged per iteration). */
export const STAR_ROWS: readonly Trained[] = TRAINED.filter((m) => ROWS[m].filter !== undefined);

export interface TrainInputs {
  recipe: Trained;
  base: string;
  /** Data folders (PrefWorld-shaped subsets): pairwise training, rationalize, STaR. */
  data: { sft: string; rationalize: string; star: string };
  out: string;
  seed: number;
  settings: SizeSettings;
  plan: SamplePlan;
  command: string;
  progress: boolean;
  say: (line: string) => void;
}

/** A row's cap on updates: the run's budget, GRPO's own lower cap for the grpo rows. */
export function rowCap(row: Trained, s: SizeSettings): number {
  return ROWS[row].recipe === 'grpo' ? Math.min(s.budget.steps, s.grpoSteps) : s.budget.steps;
}

/** The loop settings that follow from a cap: warmup a tenth of it, a checkpoint every third. */
function capped(steps: number): { steps: number; warmupSteps: number; checkpointEvery: number; logEvery: number } {
  return {
    steps,
    warmupSteps: Math.max(1, Math.ceil(steps / 10)),
    checkpointEvery: Math.max(1, Math.ceil(steps / 3)),
    logEvery: Math.max(1, Math.min(10, Math.ceil(steps / 10))),
  };
}

/** The recipe config (validated by the recipe's own schema: an unknown key is an error). */
export function recipeInput(t: TrainInputs): Record<string, unknown> {
  const s = t.settings;
  const { recipe, filter, reward } = ROWS[t.recipe];
  const { steps, valPairs, valEvery, patience, minDelta } = s.budget;
  const common = {
    base: t.base,
    out: t.out,
    seed: t.seed,
    ...capped(steps),
    valPairs,
    valEvery,
    patience,
    minDelta,
    evalPairs: 0,
    evalEvery: 0,
    overflow: 'skip',
  };
  switch (recipe) {
    case 'bt':
    case 'pairrm':
    case 'genrm':
      return { ...common, data: t.data.sft };
    case 'rationalize':
      return { ...common, data: t.data.rationalize, samples: s.rationalizeSamples, maxTokens: s.maxTokens, evalCotPairs: 0 };
    case 'star-sft':
    case 'star-dpo':
      return { ...common, data: t.data.star, k: s.starK, iterations: s.starIterations, maxTokens: s.maxTokens, evalCotPairs: 0, filter };
    case 'grpo':
      // On STaR's training pairs: the same pairs the offline judges learn from, sampled online.
      return { ...common, ...capped(rowCap(t.recipe, s)), data: t.data.star, k: s.grpoK, maxTokens: s.maxTokens, evalCotPairs: 0, reward };
  }
}

export async function trainMethod(t: TrainInputs): Promise<RecipeResult> {
  const recipe = getRecipe(ROWS[t.recipe].recipe);
  const config = resolveRecipeConfig(recipe, recipeInput(t), `repro ${t.recipe}`);
  const star = STAR_ROWS.includes(t.recipe);
  const resume = star ? existsSync(join(t.out, STATE_FILE)) : hasTrainerState(t.out);
  if (resume) t.say(`${t.recipe}: resuming the interrupted training in ${t.out}`);
  return runRecipe(recipe, config, { command: t.command, resume, progress: t.progress, say: t.say });
}
