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
  data: z
    .string()
    .min(1)
    .describe(
      'The training data: a PrefWorld folder (its train.jsonl is trained on, test-id.jsonl evaluated) or a preference-pair file in any format genrm reads (`genrm data inspect` names it). Required.',
    ),
  base: z.string().min(1).describe('The checkpoint fine-tuning starts from (kind lm), e.g. the output of `genrm pretrain`. Required.'),
  out: z
    .string()
    .min(1)
    .describe(
      'The run folder: checkpoints, trainer-state/, metrics.jsonl and config.resolved.json; the folder itself loads as the trained model. Required.',
    ),
  steps: z
    .number()
    .int()
    .min(1)
    .max(MAX_STEPS)
    .default(1000)
    .describe(
      "Most optimizer updates: the cap early stopping works under, and the lr schedule's cosine horizon, so a run's first N updates never depend on when it stops. 1000: on PrefWorld quick from the committed base, genrm's held-out verdict NLL was still improving at 450 updates and bt's at 200; the cap binds only when valPairs is 0.",
    ),
  lr: z
    .number()
    .positive()
    .max(1)
    .default(3e-4)
    .describe(
      "Peak learning rate. 3e-4, a third of pretraining's, so fine-tuning moves the base without wrecking it; at most 1, as the loop's.",
    ),
  warmupSteps: z
    .number()
    .int()
    .min(0)
    .max(MAX_STEPS)
    .default(20)
    .describe('Updates over which lr rises linearly to its peak. 20, a few percent of a fine-tuning run.'),
  weightDecay: z
    .number()
    .min(0)
    .max(10)
    .default(0)
    .describe(
      "Decoupled weight decay. 0, as TRL's SFT and DPO defaults: fine-tuning should pull the weights toward the base, not toward zero; at most 10, as the loop's.",
    ),
  evalEvery: z
    .number()
    .int()
    .min(0)
    .max(MAX_STEPS)
    .default(100)
    .describe('Updates between held-out judge evaluations (0: only at the end). 100: several points on a run, each a few seconds.'),
  checkpointEvery: z
    .number()
    .int()
    .min(0)
    .max(MAX_STEPS)
    .default(100)
    .describe(
      'Updates between resumable checkpoints (0: only at the end). 100: an interruption loses at most 100 updates, and saving stays a small share of the run.',
    ),
  evalPairs: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(200)
    .describe(
      'Pairs in the held-out judge evaluation (test-id.jsonl of a PrefWorld folder, else a seeded slice). 200 gives accuracy within about ±3.5 points (one standard error, at worst); at most 1,000,000, more than any pair file genrm reads.',
    ),
  overflow: z
    .enum(['error', 'skip'])
    .default('error')
    .describe(
      "What happens to a training example longer than the model's context: 'error' refuses it, naming the pair; 'skip' drops it and reports how many. Never truncated: a cut example loses its verdict or its question, and either would train the wrong thing.",
    ),
  dtype: z
    .enum(['F32', 'F16'])
    .default('F32')
    .describe(
      'Precision of the saved model.safetensors. F32 keeps the fine-tuned weights exact; trainer-state is F32 either way, so F16 only halves the published model.',
    ),
  valPairs: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(200)
    .describe(
      "Training pairs held out as the validation slice early stopping watches (seeded by seed, at most a fifth of the pairs, split by source pair so no pair's examples are on both sides); 0 disables early stopping: exactly steps updates, the last weights kept. The watched metric is pairwise loss (bt, pairrm), target NLL (genrm, sft), greedy CoT verdict error (rationalize, star-sft, grpo) or DPO loss (star-dpo, dpo). 200, 5% of quick's 4,000 pairs: with 100, bt's and genrm's val/loss moved ±0.03–0.04 between checks late in training, as much as the gains still being made.",
    ),
  valEvery: z
    .number()
    .int()
    .min(1)
    .max(MAX_STEPS)
    .default(25)
    .describe(
      'Updates between validation checks. 25, so a run stops within a few percent of its best point; a check costs a fraction of the 25 updates between.',
    ),
  patience: z
    .number()
    .int()
    .min(1)
    .max(MAX_STEPS)
    .default(6)
    .describe(
      'Validation checks without an improvement before the run stops. 6 (150 updates at valEvery 25): with 4, bt stopped at 300 (best 200) and genrm at 550 (best 450, after a 75-update plateau); 6 outlasts such plateaus.',
    ),
  minDelta: z
    .number()
    .min(0)
    .max(1e3)
    .default(0)
    .describe(
      'How far below the best so far a validation metric must fall to count as an improvement. 0, since patience already absorbs noise; at most 1e3, as the watched losses are a few nats.',
    ),
  replay: z
    .number()
    .min(0)
    .lt(1)
    .default(0.1)
    .describe(
      "Pretraining replay, InstructGPT's PPO-ptx (Ouyang et al. 2022, arXiv 2203.02155): the share of each update's loss that is token NLL on whole pretraining-corpus documents packed to the context, loss = (1 − replay) · recipe loss + replay · corpus NLL, with ⌈replay · batchSize⌉ corpus rows per micro-batch; it keeps what pretraining taught from being overwritten by judge data. Only the recipes that fine-tune the language model use it (bt and pairrm train a head); 0 turns it off. 0.1: genrm on PrefWorld quick for 300 updates kept worked-solution accuracy on held-out families at 85% (base 86%) where replay 0 fell to 32%, at 2x genrm's CPU time.",
    ),
  replayData: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The corpus replayed: a corpus.jsonl, or a PrefWorld folder holding one. Unset: data's corpus.jsonl when data is a PrefWorld folder with one.",
    ),
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
