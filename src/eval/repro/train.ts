// The training stages of a repro run: each method trained from the base through the recipe
// registry (`genrm train`'s own path), with the size's cuts. Common to all: no in-training
// evaluation (the eval stages judge every method the same way afterwards), over-long examples
// skipped and counted, warmup a tenth of the updates, a checkpoint every third of the run so an
// interruption loses little (a rerun resumes from it).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { getRecipe, resolveRecipeConfig, runRecipe, type RecipeResult } from '../../train/recipes/index.js';
import { STATE_FILE } from '../../train/star/iterate.js';
import { hasTrainerState } from '../../train/state.js';
import type { SamplePlan } from './plan.js';
import type { SizeSettings } from './settings.js';

export const TRAINED = ['bt', 'pairrm', 'genrm', 'rationalize', 'star-sft', 'star-dpo'] as const;
export type Trained = (typeof TRAINED)[number];

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

/** The recipe config (validated by the recipe's own schema: an unknown key is an error). */
export function recipeInput(t: TrainInputs): Record<string, unknown> {
  const s = t.settings;
  const steps = t.recipe === 'star-sft' || t.recipe === 'star-dpo' ? s.steps.star : s.steps[t.recipe];
  const common = {
    base: t.base,
    out: t.out,
    seed: t.seed,
    steps,
    warmupSteps: Math.max(1, Math.ceil(steps / 10)),
    evalPairs: 0,
    evalEvery: 0,
    checkpointEvery: Math.max(1, Math.ceil(steps / 3)),
    logEvery: Math.max(1, Math.min(10, Math.ceil(steps / 10))),
    overflow: 'skip',
  };
  switch (t.recipe) {
    case 'bt':
    case 'pairrm':
    case 'genrm':
      return { ...common, data: t.data.sft };
    case 'rationalize':
      return { ...common, data: t.data.rationalize, samples: s.rationalizeSamples, maxTokens: s.maxTokens, evalCotPairs: 0 };
    case 'star-sft':
    case 'star-dpo':
      return { ...common, data: t.data.star, k: s.starK, iterations: s.starIterations, maxTokens: s.maxTokens, evalCotPairs: 0 };
  }
}

export async function trainMethod(t: TrainInputs): Promise<RecipeResult> {
  const recipe = getRecipe(t.recipe);
  const config = resolveRecipeConfig(recipe, recipeInput(t), `repro ${t.recipe}`);
  const star = t.recipe === 'star-sft' || t.recipe === 'star-dpo';
  const resume = star ? existsSync(join(t.out, STATE_FILE)) : hasTrainerState(t.out);
  if (resume) t.say(`${t.recipe}: resuming the interrupted training in ${t.out}`);
  return runRecipe(recipe, config, { command: t.command, resume, progress: t.progress, say: t.say });
}
