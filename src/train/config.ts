// The training loop's knobs, shared by every recipe: one zod schema, so CLI flags, config files
// and code all go through the same validation and defaults. Each default says why it is what it
// is. `.strict()`: an unknown key is an error (a typo must not silently train with a default).
// Every number has an upper bound too, with its reason: the bounds catch a slipped exponent
// (batchSize 1e9) at parse time, and the memory check (memory.ts) sizes what a batch needs
// against the machine before it is allocated.
import { z } from 'zod';
import { GenrmError } from '../util/errors.js';

/**
 * Most updates, and most updates between two evaluations, checkpoints or log lines: 10 million,
 * weeks of this engine's fastest steps; a larger count is a typo, not a plan.
 */
export const MAX_STEPS = 10_000_000;
/** Most sequences in one micro-batch: 65,536, far past what fits in memory at any context (memory.ts then says what does). */
export const MAX_BATCH = 65_536;
/** Seeds are below 2^32: they are mixed as 32-bit integers, so larger ones alias smaller ones. */
export const MAX_SEED = 2 ** 32 - 1;

export const TrainLoopSchema = z
  .object({
    steps: z
      .number()
      .int()
      .min(1)
      .max(MAX_STEPS)
      .default(1000)
      .describe(
        "Optimizer updates in the run; the warmup + cosine schedule spans them. At most 10,000,000 (MAX_STEPS): weeks of this engine's fastest steps, so a larger count is a typo, not a plan.",
      ),
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(MAX_BATCH)
      .default(16)
      .describe(
        "Sequences (or examples) per micro-batch. 16 keeps a step small at genrm's model sizes; before the first batch the memory check (train/memory.ts) refuses a batch the machine cannot hold, so the bound of 65,536 only catches a slipped exponent.",
      ),
    gradAccum: z
      .number()
      .int()
      .min(1)
      .max(65_536)
      .default(1)
      .describe(
        'Micro-batches whose gradients are summed into one update (effective batch = batchSize × gradAccum): a larger batch without more memory. 1: the default batches fit in memory as they are.',
      ),
    lr: z
      .number()
      .positive()
      .max(1)
      .default(1e-3)
      .describe(
        'Peak learning rate, reached after warmup and then decayed by cosine. 1e-3 suits few-million-parameter models with AdamW; at most 1, where AdamW already moves every weight by about 1 per update.',
      ),
    minLrRatio: z
      .number()
      .min(0)
      .max(1)
      .default(0.1)
      .describe(
        "The cosine schedule's floor as a fraction of lr. 0.1, as in the Llama and Chinchilla pretraining recipes (Touvron et al. 2023; Hoffmann et al. 2022).",
      ),
    warmupSteps: z
      .number()
      .int()
      .min(0)
      .max(MAX_STEPS)
      .default(50)
      .describe(
        'Updates over which lr rises linearly to its peak. 50, a few percent of a short run, keeps the first AdamW steps (taken on poor moment estimates) stable.',
      ),
    weightDecay: z
      .number()
      .min(0)
      .max(10)
      .default(0.1)
      .describe(
        'Decoupled weight decay (AdamW, Loshchilov & Hutter 2019; norm weights get none). 0.1, as in Llama pretraining; at most 10, which at lr 1e-3 already takes 1% of every weight each update.',
      ),
    beta1: z
      .number()
      .min(0)
      .lt(1)
      .default(0.9)
      .describe(
        "AdamW's first-moment decay. 0.9, the usual value (Kingma & Ba 2015); below 1, since at 1 the first moment never moves off zero.",
      ),
    beta2: z
      .number()
      .min(0)
      .lt(1)
      .default(0.95)
      .describe(
        "AdamW's second-moment decay. 0.95, LLM pretraining's choice for noisy small batches (GPT-3, Llama) over Adam's 0.999; below 1, since at 1 the second moment stays zero and every step divides by epsilon.",
      ),
    clipNorm: z
      .number()
      .min(0)
      .max(1e6)
      .default(1.0)
      .describe(
        'Global gradient-norm clip before each update; 0 disables it. 1.0, the common default (Llama, TRL); at most 1e6, since a larger clip is no clip (say 0).',
      ),
    evalEvery: z
      .number()
      .int()
      .min(0)
      .max(MAX_STEPS)
      .default(200)
      .describe(
        'Updates between held-out evaluations (0: only at the end). 200: a few points on the curve of a default run at a small share of its time.',
      ),
    checkpointEvery: z
      .number()
      .int()
      .min(0)
      .max(MAX_STEPS)
      .default(200)
      .describe(
        'Updates between resumable checkpoints (0: only at the end). 200: an interruption loses at most 200 updates, and saving stays a small share of the run.',
      ),
    logEvery: z
      .number()
      .int()
      .min(1)
      .max(MAX_STEPS)
      .default(10)
      .describe("Updates between lines of metrics.jsonl. 10 keeps the file small and still shows the loss curve's shape."),
    seed: z
      .number()
      .int()
      .min(0)
      .max(MAX_SEED)
      .default(1)
      .describe(
        'Seeds initialisation, data order and anything random in a step. Below 2^32: seeds are mixed as 32-bit integers, so larger ones would alias smaller ones.',
      ),
  })
  .strict();

export type TrainLoopConfig = z.infer<typeof TrainLoopSchema>;
export type TrainLoopInput = z.input<typeof TrainLoopSchema>;

/** A config with every default filled in; throws naming the field when a value is bad. */
export function trainLoopConfig(input: TrainLoopInput = {}): TrainLoopConfig {
  const r = TrainLoopSchema.safeParse(input);
  if (!r.success) throw new GenrmError(`training config: ${formatZodIssue(r.error.issues[0])}`, 'bad_input');
  return r.data;
}

/** One zod issue as `field "a.b": message` (unknown keys named one by one). */
export function formatZodIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid';
  const at = issue.path.length ? issue.path.join('.') : '';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (at ? `${at}.${k}` : k));
    return `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`;
  }
  return `field "${at || '(root)'}": ${issue.message}`;
}
