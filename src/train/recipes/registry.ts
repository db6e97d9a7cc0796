// What a training recipe is: a name, a strict config schema (each field's .describe() says what
// it controls, its default and why, with the paper where there is one) and a run function. `genrm train
// RECIPE` looks recipes up in the list in ./index.ts and runs them through `runRecipe`, which
// validates the config (file keys + flags, one schema), writes config.resolved.json into the run
// folder and hands the recipe a context (command line, resume, progress, status lines).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { writeFileAtomic } from '../../engine/atomic.js';
import type { MetricsRecord } from '../trainer.js';
import { parseRecipeConfig, type RecipeCommon } from './config.js';
import type { PairData } from './data.js';
import { foreignPairData } from './trlData.js';

export interface RecipeContext {
  /** The command line, recorded in genrm.json. */
  command: string;
  /** Continue the run in config.out from its last checkpoint. */
  resume: boolean;
  /** Progress bars on stderr (TTY only). */
  progress: boolean;
  /** Status lines for the person at the terminal (not metrics). */
  say: (line: string) => void;
  /** Stop after this many updates without finishing (tests: an interruption). */
  stopAfter?: number;
  /** Every metrics record, as written to metrics.jsonl. */
  onLog?: (r: MetricsRecord) => void;
  /** The pairs, when runRecipe read `data` itself: a file in another preference format than genrm's (TRL, UltraFeedback, ...). */
  pairs?: PairData;
}

export interface RecipeResult {
  recipe: string;
  out: string;
  /** Updates done (the step cap unless stopped early; STaR: summed over iterations). */
  steps: number;
  /** The update whose weights the saved model holds: the best validation check (null: valPairs 0, the last update's; STaR: per iteration in details). */
  bestStep: number | null;
  /** The validation metric at bestStep ("val/loss": pairwise loss, target NLL or DPO loss; null without early stopping; STaR: the last trained iteration's). */
  bestVal: number | null;
  /** Every validation metric at bestStep (val/loss, val/tokenAcc, val/rewards/accuracies, ...). */
  val: Record<string, number>;
  /** Early stopping ended training before the step cap (STaR: in any iteration). */
  stoppedEarly: boolean;
  /** Tokens the forward passes processed (padding and replayed corpus rows included; STaR: summed). */
  tokens: number;
  /** CPU seconds of the training (process.cpuUsage user + system, all threads; STaR: summed over the iterations' training, sampling not included). */
  cpuSec: number;
  firstLoss: number;
  lastLoss: number;
  /** The last held-out evaluation (evalAcc, ...). */
  eval: Record<string, number>;
  elapsedSec: number;
  /** Recipe-specific counts (examples, skipped, rationales kept, ...). */
  details: Record<string, unknown>;
}

// The schema is any strict zod object whose output includes the common fields.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Recipe<C extends RecipeCommon = any> {
  name: string;
  /** One line for `genrm train --help`. */
  description: string;
  schema: z.ZodType<C>;
  run(config: C, ctx: RecipeContext): Promise<RecipeResult>;
}

export function defineRecipe<C extends RecipeCommon>(r: Recipe<C>): Recipe<C> {
  return r;
}

export const RESOLVED_CONFIG_FILE = 'config.resolved.json';

/** The option names a recipe's schema takes. */
export function recipeKeys(recipe: Recipe): Set<string> {
  return new Set(Object.keys((recipe.schema as unknown as z.ZodObject<z.ZodRawShape>).shape));
}

/** Validates a recipe's config from merged input (config file keys, then flags on top). */
export function resolveRecipeConfig<C extends RecipeCommon>(recipe: Recipe<C>, input: Record<string, unknown>, source: string): C {
  return parseRecipeConfig(recipe.schema, input, `${source} (recipe ${recipe.name})`);
}

/** The resolved config as written beside each checkpoint (recipe name first). */
export function resolvedConfigJson(recipe: string, config: RecipeCommon): string {
  return JSON.stringify({ recipe, ...config }, null, 2) + '\n';
}

/** Writes config.resolved.json into a checkpoint folder being filled (the recipes' saveModel does). */
export function writeResolvedConfig(dir: string, recipe: string, config: RecipeCommon): void {
  writeFileAtomic(join(dir, RESOLVED_CONFIG_FILE), resolvedConfigJson(recipe, config));
}

/** Fields a resumed run may change: paths may move, and logging/eval cadence changes no weights. */
const RESUME_FREE = new Set(['out', 'data', 'base', 'evalEvery', 'logEvery', 'checkpointEvery', 'evalPairs']);

/**
 * Runs a recipe. On resume, the resolved config must equal the one saved with the checkpoint
 * (config.resolved.json, written beside every checkpoint by the recipe) except for RESUME_FREE.
 */
export async function runRecipe<C extends RecipeCommon>(recipe: Recipe<C>, config: C, ctx: RecipeContext): Promise<RecipeResult> {
  const path = join(config.out, RESOLVED_CONFIG_FILE);
  if (ctx.resume && existsSync(path)) {
    const saved = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const now: Record<string, unknown> = { recipe: recipe.name, ...config };
    for (const k of new Set([...Object.keys(saved), ...Object.keys(now)]))
      if (!RESUME_FREE.has(k) && JSON.stringify(saved[k]) !== JSON.stringify(now[k]))
        throw new Error(
          `${path}: the run was started with ${k} = ${JSON.stringify(saved[k])} but resumes with ${JSON.stringify(now[k])}; a resumed run must use the same config`,
        );
  }
  const pairs = ctx.pairs ?? (await foreignPairData(config.data, { evalPairs: config.evalPairs, seed: config.seed }));
  if (pairs && !ctx.pairs) ctx.say(`${recipe.name}: ${config.data} read as ${(pairs as { format?: string }).format ?? 'preference'} pairs`);
  return recipe.run(config, pairs ? { ...ctx, pairs } : ctx);
}
