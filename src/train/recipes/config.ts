// The config every training recipe shares: the loop's knobs (TrainLoopSchema) with defaults
// suited to fine-tuning a pretrained base, plus where the data, the base model and the run folder
// are and how the held-out judge evaluation is drawn. Each recipe extends this with its own
// fields (`recipeSchema`) into one strict zod schema, so CLI flags, config files and code are
// validated the same way and an unknown key is an error that names it.
import { z } from 'zod';
import { formatZodIssue, TrainLoopSchema, type TrainLoopConfig } from '../config.js';

/** Fields every recipe has (defaults tuned for fine-tuning, not pretraining). */
export const RecipeCommonShape = {
  ...TrainLoopSchema.shape,
  /** A PrefWorld folder (its train.jsonl is trained on, test-id.jsonl evaluated) or any PreferencePair JSONL. */
  data: z.string().min(1),
  /** The base checkpoint (kind 'lm'), e.g. from `genrm pretrain`. */
  base: z.string().min(1),
  /** The run folder: checkpoint, trainer-state/, metrics.jsonl, config.resolved.json. */
  out: z.string().min(1),
  /** Updates: 300 is a few epochs of a few thousand judge examples at batch 16 (fine-tuning needs far fewer than pretraining). */
  steps: z.number().int().min(1).default(300),
  /** Peak lr: 3e-4, a third of pretraining's, so fine-tuning moves the base without wrecking it. */
  lr: z.number().positive().default(3e-4),
  /** Warmup: 20 updates, a few percent of a fine-tuning run. */
  warmupSteps: z.number().int().min(0).default(20),
  /** Weight decay: 0 (common for fine-tuning, e.g. TRL's SFT/DPO defaults): pull toward the base, not toward zero. */
  weightDecay: z.number().min(0).default(0),
  /** Evaluate every 100 updates: three points on a default run, each a few seconds. */
  evalEvery: z.number().int().min(0).default(100),
  /** Checkpoint every 100 updates: an interruption loses at most a third of a default run. */
  checkpointEvery: z.number().int().min(0).default(100),
  /** Pairs in the held-out judge evaluation: 200 gives accuracy within about ±3.5 points (1 s.e.) at 75%. */
  evalPairs: z.number().int().min(0).default(200),
  /**
   * Judge examples longer than the model's context: 'error' refuses (naming the pair), 'skip'
   * drops them and reports how many. Never truncated: a cut example loses its verdict or its
   * question, and either would train the wrong thing.
   */
  overflow: z.enum(['error', 'skip']).default('error'),
  /** Precision of model.safetensors: F32 keeps the fine-tuned weights exact (trainer-state is F32 anyway). */
  dtype: z.enum(['F32', 'F16']).default('F32'),
};

/** A recipe's full schema: the common fields, then its own (which may override defaults). */
export function recipeSchema<S extends z.ZodRawShape>(own: S) {
  return z.object({ ...RecipeCommonShape, ...own }).strict();
}

export type RecipeCommon = z.infer<z.ZodObject<typeof RecipeCommonShape>>;

/** The loop's part of a recipe config. */
export function loopOf(c: RecipeCommon): TrainLoopConfig {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(TrainLoopSchema.shape)) out[k] = c[k as keyof RecipeCommon];
  return out as TrainLoopConfig;
}

/** Validates a recipe config (file keys + flags, already merged); errors name the source and key. */
export function parseRecipeConfig<S extends z.ZodType>(schema: S, input: Record<string, unknown>, source: string): z.infer<S> {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (v !== undefined) clean[k] = v;
  const r = schema.safeParse(clean);
  if (!r.success) throw new Error(`${source}: ${formatZodIssue(r.error.issues[0])}`);
  return r.data;
}
