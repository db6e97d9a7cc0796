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
    /** Optimizer updates in the run. */
    steps: z.number().int().min(1).max(MAX_STEPS).default(1000),
    /** Sequences (or examples) per micro-batch (at most MAX_BATCH; the memory check bounds it by the machine). */
    batchSize: z.number().int().min(1).max(MAX_BATCH).default(16),
    /** Micro-batches summed into one update (effective batch = batchSize * gradAccum); at most 65,536, an effective batch of millions of sequences. */
    gradAccum: z.number().int().min(1).max(65_536).default(1),
    /** Peak learning rate: 1e-3 suits few-million-parameter models with AdamW. At most 1: AdamW then moves every weight by about 1 per update. */
    lr: z.number().positive().max(1).default(1e-3),
    /** Cosine floor as a fraction of lr: 0.1 as in Llama/Chinchilla recipes. */
    minLrRatio: z.number().min(0).max(1).default(0.1),
    /** Linear warmup updates: a few percent of a short run keeps early Adam steps stable. */
    warmupSteps: z.number().int().min(0).max(MAX_STEPS).default(50),
    /** Decoupled weight decay: 0.1 as in Llama pretraining (norm weights get none). At most 10: at lr 1e-3 that already takes 1% of every weight each update. */
    weightDecay: z.number().min(0).max(10).default(0.1),
    /** Adam beta1: the usual 0.9. Below 1: at 1 the first moment never moves off zero. */
    beta1: z.number().min(0).lt(1).default(0.9),
    /** Adam beta2: 0.95, LLM pretraining's choice for noisy small batches. Below 1: at 1 the second moment stays zero and every step divides by epsilon. */
    beta2: z.number().min(0).lt(1).default(0.95),
    /** Global gradient-norm clip: 1.0, the common default; 0 disables it. At most 1e6: larger is no clip at all, say 0. */
    clipNorm: z.number().min(0).max(1e6).default(1.0),
    /** Run the held-out evaluation every this many updates (0: only at the end). */
    evalEvery: z.number().int().min(0).max(MAX_STEPS).default(200),
    /** Write a resumable checkpoint every this many updates (0: only at the end). */
    checkpointEvery: z.number().int().min(0).max(MAX_STEPS).default(200),
    /** Append a metrics line every this many updates: 10 keeps metrics.jsonl small. */
    logEvery: z.number().int().min(1).max(MAX_STEPS).default(10),
    /** Seeds init, data order and anything random in a step. Below 2^32: the seeds are mixed as 32-bit integers, so larger ones alias smaller ones. */
    seed: z.number().int().min(0).max(MAX_SEED).default(1),
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
