// Every training recipe `genrm train` knows, by name (the names of docs/ARCHITECTURE.md). A new recipe is one
// import and one entry in RECIPES (star-sft / star-dpo live in their own files beside these).
import { bt } from './bt.js';
import { genrm } from './genrm.js';
import { pairrm } from './pairrm.js';
import { rationalize } from './rationalize.js';
import { starDpo } from './star-dpo.js';
import { starSft } from './star-sft.js';
import type { Recipe } from './registry.js';

export const RECIPES: readonly Recipe[] = [bt, pairrm, genrm, rationalize, starSft, starDpo];

export function getRecipe(name: string): Recipe {
  const r = RECIPES.find((x) => x.name === name);
  if (!r) throw new Error(`unknown recipe "${name}"; known: ${RECIPES.map((x) => x.name).join(', ')}`);
  return r;
}

export { runRecipe, resolveRecipeConfig, defineRecipe, RESOLVED_CONFIG_FILE, type Recipe, type RecipeContext, type RecipeResult } from './registry.js';
export { runSft, sftTask, type SftOptions, type SftResult } from './sft.js';
