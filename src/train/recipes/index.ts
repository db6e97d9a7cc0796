// Every training recipe `genrm train` knows, by name (the names of docs/ARCHITECTURE.md). A new recipe is one
// import and one entry in RECIPES (star-sft / star-dpo live in their own files beside these).
import { bt } from './bt.js';
import { genrm } from './genrm.js';
import { grpo } from './grpo.js';
import { pairrm } from './pairrm.js';
import { rationalize } from './rationalize.js';
import { starDpo } from './star-dpo.js';
import { starSft } from './star-sft.js';
import type { Recipe } from './registry.js';
import { dpoPairs } from './trlDpo.js';
import { sftData } from './trlSft.js';

export const RECIPES: readonly Recipe[] = [bt, pairrm, genrm, rationalize, starSft, starDpo, grpo, dpoPairs, sftData];

/** TRL's trainer names that are another name for one of RECIPES (dpo and sft are recipes of their own). */
export const RECIPE_ALIASES: Readonly<Record<string, string>> = { reward: 'bt' };

export function getRecipe(name: string): Recipe {
  const r = RECIPES.find((x) => x.name === (RECIPE_ALIASES[name] ?? name));
  if (!r) throw new Error(`unknown recipe "${name}"; known: ${[...RECIPES.map((x) => x.name), ...Object.keys(RECIPE_ALIASES)].join(', ')}`);
  return r;
}

export { resolveSchedule, type Schedule } from './schedule.js';
export {
  runRecipe,
  resolveRecipeConfig,
  recipeKeys,
  defineRecipe,
  RESOLVED_CONFIG_FILE,
  type Recipe,
  type RecipeContext,
  type RecipeResult,
} from './registry.js';
export { runSft, sftTask, type SftOptions, type SftResult } from './sft.js';
