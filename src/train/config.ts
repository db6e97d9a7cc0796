// The training loop's knobs, shared by every recipe: one zod schema, so CLI flags, config files
// and code all go through the same validation and defaults. Each default says why it is what it
// is. `.strict()`: an unknown key is an error (a typo must not silently train with a default).
import { z } from 'zod';

export const TrainLoopSchema = z
  .object({
    /** Optimizer updates in the run. */
    steps: z.number().int().min(1).default(1000),
    /** Sequences (or examples) per micro-batch. */
    batchSize: z.number().int().min(1).default(16),
    /** Micro-batches summed into one update (effective batch = batchSize * gradAccum). */
    gradAccum: z.number().int().min(1).default(1),
    /** Peak learning rate: 1e-3 suits few-million-parameter models with AdamW. */
    lr: z.number().positive().default(1e-3),
    /** Cosine floor as a fraction of lr: 0.1 as in Llama/Chinchilla recipes. */
    minLrRatio: z.number().min(0).max(1).default(0.1),
    /** Linear warmup updates: a few percent of a short run keeps early Adam steps stable. */
    warmupSteps: z.number().int().min(0).default(50),
    /** Decoupled weight decay: 0.1 as in Llama pretraining (norm weights get none). */
    weightDecay: z.number().min(0).default(0.1),
    /** Adam beta1: the usual 0.9. */
    beta1: z.number().min(0).max(1).default(0.9),
    /** Adam beta2: 0.95, LLM pretraining's choice for noisy small batches. */
    beta2: z.number().min(0).max(1).default(0.95),
    /** Global gradient-norm clip: 1.0, the common default; 0 disables it. */
    clipNorm: z.number().min(0).default(1.0),
    /** Run the held-out evaluation every this many updates (0: only at the end). */
    evalEvery: z.number().int().min(0).default(200),
    /** Write a resumable checkpoint every this many updates (0: only at the end). */
    checkpointEvery: z.number().int().min(0).default(200),
    /** Append a metrics line every this many updates: 10 keeps metrics.jsonl small. */
    logEvery: z.number().int().min(1).default(10),
    /** Seeds init, data order and anything random in a step. */
    seed: z.number().int().min(0).default(1),
  })
  .strict();

export type TrainLoopConfig = z.infer<typeof TrainLoopSchema>;
export type TrainLoopInput = z.input<typeof TrainLoopSchema>;

/** A config with every default filled in; throws naming the field when a value is bad. */
export function trainLoopConfig(input: TrainLoopInput = {}): TrainLoopConfig {
  const r = TrainLoopSchema.safeParse(input);
  if (!r.success) throw new Error(`training config: ${formatZodIssue(r.error.issues[0])}`);
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
