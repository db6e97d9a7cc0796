// The config every training recipe shares: the loop's knobs (TrainLoopSchema) with defaults
// suited to fine-tuning a pretrained base, plus where the data, the base model and the run folder
// are and how the held-out judge evaluation is drawn. Each recipe extends this with its own
// fields (`recipeSchema`) into one strict zod schema, so CLI flags, config files and code are
// validated the same way and an unknown key is an error that names it.
import { z } from 'zod';
import { formatZodIssue, MAX_STEPS, TrainLoopSchema, type TrainLoopConfig } from '../config.js';
import { GenrmError } from '../../util/errors.js';

/** Fields every recipe has (defaults tuned for fine-tuning, not pretraining). */
export const RecipeCommonShape = {
  ...TrainLoopSchema.shape,
  /** A PrefWorld folder (its train.jsonl is trained on, test-id.jsonl evaluated) or any PreferencePair JSONL. */
  data: z.string().min(1),
  /** The base checkpoint (kind 'lm'), e.g. from `genrm pretrain`. */
  base: z.string().min(1),
  /** The run folder: checkpoint, trainer-state/, metrics.jsonl, config.resolved.json. */
  out: z.string().min(1),
  /**
   * Most updates: the cap early stopping works under (and the lr schedule's cosine horizon, so
   * a run's first N updates never depend on when it stops). 1000: on PrefWorld quick from the
   * committed base, genrm's held-out verdict NLL was still improving at 450 updates and bt's at
   * 200; the cap only binds when valPairs is 0.
   */
  steps: z.number().int().min(1).max(MAX_STEPS).default(1000),
  /** Peak lr: 3e-4, a third of pretraining's, so fine-tuning moves the base without wrecking it. At most 1 (as the loop's). */
  lr: z.number().positive().max(1).default(3e-4),
  /** Warmup: 20 updates, a few percent of a fine-tuning run. */
  warmupSteps: z.number().int().min(0).max(MAX_STEPS).default(20),
  /** Weight decay: 0 (common for fine-tuning, e.g. TRL's SFT/DPO defaults): pull toward the base, not toward zero. At most 10 (as the loop's). */
  weightDecay: z.number().min(0).max(10).default(0),
  /** Evaluate every 100 updates: three points on a default run, each a few seconds. */
  evalEvery: z.number().int().min(0).max(MAX_STEPS).default(100),
  /** Checkpoint every 100 updates: an interruption loses at most a third of a default run. */
  checkpointEvery: z.number().int().min(0).max(MAX_STEPS).default(100),
  /** Pairs in the held-out judge evaluation: 200 gives accuracy within about ±3.5 points (1 s.e.) at 75%. At most 1,000,000: larger than any pair file genrm reads. */
  evalPairs: z.number().int().min(0).max(1_000_000).default(200),
  /**
   * Judge examples longer than the model's context: 'error' refuses (naming the pair), 'skip'
   * drops them and reports how many. Never truncated: a cut example loses its verdict or its
   * question, and either would train the wrong thing.
   */
  overflow: z.enum(['error', 'skip']).default('error'),
  /** Precision of model.safetensors: F32 keeps the fine-tuned weights exact (trainer-state is F32 anyway). */
  dtype: z.enum(['F32', 'F16']).default('F32'),
  /**
   * Pairs of the training data held out as the validation slice that early stopping watches
   * (seeded by `seed`; at most a fifth of the pairs, so small sets still train). SFT and DPO
   * data built from pairs (rationales, both orders) is split by source pair: no pair's examples
   * are on both sides. The metric: pairwise loss (bt, pairrm), token NLL of the target (genrm,
   * rationalize, star-sft), DPO loss (star-dpo). 0 disables early stopping: exactly `steps`
   * updates, the last weights kept. Default 200 (5% of quick's 4,000 pairs): with 100, bt's and
   * genrm's val/loss moved ±0.03–0.04 from check to check late in training, as much as the
   * gains still being made; 200 halves that variance at a forward pass over 400 sequences.
   */
  valPairs: z.number().int().min(0).max(1_000_000).default(200),
  /** Updates between validation checks: 25, so a run stops within a few percent of its best point; a check costs a fraction of the 25 updates between. */
  valEvery: z.number().int().min(1).max(MAX_STEPS).default(25),
  /**
   * Checks without an improvement before the run stops: 6 (150 updates). With 4 (100 updates)
   * bt stopped at 300 (best 200) and genrm at 550 (best 450, after a 75-update plateau); 6
   * outlasts such plateaus.
   */
  patience: z.number().int().min(1).max(MAX_STEPS).default(6),
  /** What counts as an improvement: a validation metric below the best so far by more than this; 0, since patience already absorbs noise. At most 1e3: the watched losses are a few nats. */
  minDelta: z.number().min(0).max(1e3).default(0),
  /**
   * Pretraining replay (InstructGPT's "PPO-ptx", Ouyang et al. 2022, arXiv 2203.02155): the
   * share of each update's loss that is language-modelling loss on whole pretraining corpus
   * documents, loss = (1 − replay) · recipe loss + replay · corpus token NLL. The corpus rows
   * are packed to the model's context (documents joined by end-of-text, as in pretraining),
   * ⌈replay · batchSize⌉ rows per micro-batch, seeded, resumed where they stood. It keeps what
   * pretraining taught (e.g. the held-out families' worked solutions) from being overwritten by
   * judge data. Applies to the recipes that fine-tune the language model (genrm, rationalize,
   * star-sft, star-dpo); bt and pairrm train a head and ignore it. 0 turns it off.
   * Default 0.1: 90% of each update stays the recipe's objective. Measured on PrefWorld quick
   * from the committed base, genrm for 300 updates: worked-solution accuracy on held-out
   * families (workedEval's probes, 130 compare/min/reverse/sub tasks) went 86% (base) -> 32%
   * with replay 0 and 85% with 0.1 (inside a judge prompt: 86% -> 2% vs 71%), at test-id
   * direct accuracy 68% vs 74%; the cost was 2x genrm's CPU time (its examples are short).
   * A third of the lr (1e-4, no replay) kept 79%. star-sft on the base's own kept rationales
   * (150 updates) lost little either way: 83% without, 84% with.
   */
  replay: z.number().min(0).lt(1).default(0.1),
  /** The corpus replayed: a corpus.jsonl or a PrefWorld folder holding one. Default: `data`'s corpus.jsonl when `data` is a PrefWorld folder with one. */
  replayData: z.string().min(1).optional(),
};

/** A recipe's full schema: the common fields, then its own (which may override defaults). */
export function recipeSchema<S extends z.ZodRawShape>(own: S) {
  return z.object({ ...RecipeCommonShape, ...own }).strict();
}

export type RecipeCommon = z.infer<z.ZodObject<typeof RecipeCommonShape>>;

/** Early stopping's part of a recipe config. */
export interface RecipeBudget {
  valPairs: number;
  valEvery: number;
  patience: number;
  minDelta: number;
}

/** Replay's part of a recipe config: the share and where the corpus comes from. */
export interface ReplaySpec {
  share: number;
  /** The replayData option (absent: look in `data`). */
  replayData: string | undefined;
  /** The recipe's training data (a PrefWorld folder may hold corpus.jsonl). */
  data: string;
}

/** The loop's part of a recipe config, with early stopping and replay for the shared SFT/DPO routines. */
export interface RecipeLoop extends TrainLoopConfig {
  budget: RecipeBudget;
  replay: ReplaySpec;
}

export function loopOf(c: RecipeCommon): RecipeLoop {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(TrainLoopSchema.shape)) out[k] = c[k as keyof RecipeCommon];
  return {
    ...(out as TrainLoopConfig),
    budget: { valPairs: c.valPairs, valEvery: c.valEvery, patience: c.patience, minDelta: c.minDelta },
    replay: { share: c.replay, replayData: c.replayData, data: c.data },
  };
}

/** The trainer's early stopping from a budget (null: valPairs 0, train exactly `steps`). */
export function earlyStopOf(b: RecipeBudget): { every: number; patience: number; minDelta: number } | null {
  return b.valPairs > 0 ? { every: b.valEvery, patience: b.patience, minDelta: b.minDelta } : null;
}

/** Validates a recipe config (file keys + flags, already merged); errors name the source and key. */
export function parseRecipeConfig<S extends z.ZodType>(schema: S, input: Record<string, unknown>, source: string): z.infer<S> {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (v !== undefined) clean[k] = v;
  const r = schema.safeParse(clean);
  if (!r.success) throw new GenrmError(`${source}: ${formatZodIssue(r.error.issues[0])}`, 'bad_input');
  return r.data;
}
