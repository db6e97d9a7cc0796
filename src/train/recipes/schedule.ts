// TRL counts a run in passes over the data (num_train_epochs) and its warmup as a fraction of the
// run (warmup_ratio); genrm's loop counts updates (steps, warmupSteps). Once the mapping step
// (train/configFile.ts) has set them aside, they become update counts here, from the number of
// training examples the recipe will see (its pairs or examples after the held-out slices), and
// the resolved config — the one saved beside the checkpoint — holds the counts, not the passes.
// As in TRL, an explicit max_steps / steps wins over num_train_epochs and warmup_steps over
// warmup_ratio. `steps` stays a cap: early stopping (valPairs) may end the run sooner.
import { holdOutGroups } from '../batches.js';
import type { RecipeCommon } from './config.js';
import { resolveRecipeConfig, type Recipe } from './registry.js';
import { loadPreferenceData, loadSftData } from './trlData.js';

export interface Schedule {
  epochs?: number;
  warmupRatio?: number;
}

/** What one unit of batchSize is for a recipe, and how many a pass over its data holds; undefined: the recipe does not say. */
export async function unitsPerEpoch(recipe: string, c: RecipeCommon): Promise<{ n: number; unit: string } | undefined> {
  if (recipe === 'sft') {
    const d = await loadSftData(c.data, c.seed);
    return { n: holdOutGroups(d.examples, d.group, c.valPairs, c.seed).train.length, unit: 'examples' };
  }
  if (!['bt', 'dpo', 'genrm', 'pairrm'].includes(recipe)) return undefined;
  const d = await loadPreferenceData(c.data, { evalPairs: c.evalPairs, seed: c.seed });
  const pairs = holdOutGroups(d.train, (x) => x.id, c.valPairs, c.seed).train.length;
  // genrm and pairrm train every pair in both orders, one per batch row.
  return recipe === 'genrm' || recipe === 'pairrm' ? { n: 2 * pairs, unit: 'pair-orders' } : { n: pairs, unit: 'pairs' };
}

/**
 * The config with num_train_epochs and warmup_ratio turned into steps and warmupSteps; `given`
 * holds the keys the user set (an explicit steps / warmupSteps wins). notes say what was done.
 */
export async function resolveSchedule<C extends RecipeCommon>(
  recipe: Recipe<C>,
  c: C,
  s: Schedule,
  given: ReadonlySet<string>,
  source: string,
): Promise<{ config: C; notes: string[] }> {
  const notes: string[] = [];
  const out: Record<string, unknown> = { ...c };
  if (s.epochs !== undefined) {
    if (given.has('steps')) notes.push(`num_train_epochs ${s.epochs} not used: steps ${c.steps} is given (as in TRL, max_steps wins)`);
    else {
      const u = await unitsPerEpoch(recipe.name, c);
      if (!u)
        throw new Error(
          `${source}: TRL's "num_train_epochs" needs a count of training examples per pass, which recipe ${recipe.name} does not give; set steps (max_steps) instead`,
        );
      const perUpdate = c.batchSize * c.gradAccum;
      out.steps = Math.max(1, Math.ceil((s.epochs * u.n) / perUpdate));
      notes.push(
        `num_train_epochs ${s.epochs} -> steps ${out.steps as number} (${s.epochs} x ${u.n} ${u.unit} / ${perUpdate} per update; a cap: early stopping may end sooner, valPairs 0 trains them all)`,
      );
    }
  }
  if (s.warmupRatio !== undefined) {
    if (given.has('warmupSteps'))
      notes.push(`warmup_ratio ${s.warmupRatio} not used: warmupSteps ${c.warmupSteps} is given (as in TRL, warmup_steps wins)`);
    else {
      out.warmupSteps = Math.round(s.warmupRatio * (out.steps as number));
      notes.push(`warmup_ratio ${s.warmupRatio} -> warmupSteps ${out.warmupSteps as number} of ${out.steps as number}`);
    }
  }
  return { config: resolveRecipeConfig(recipe, out, source), notes };
}
