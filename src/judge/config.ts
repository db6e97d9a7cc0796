// The judge's configuration: one typed object with documented defaults, validated at the
// boundary (CLI flags and config files map onto it one to one).
import { z } from 'zod';
import { GenrmError } from '../util/errors.js';

export const JudgeConfigSchema = z
  .object({
    /** direct: one forward pass, P(A) from the verdict logits (calibrated, cheap). cot: sampled rationales + votes. */
    mode: z.enum(['direct', 'cot']).default('direct'),
    /** Rationales sampled per order in CoT mode. 8: most of the paper's majority-vote gain at a quarter of its 32. */
    votes: z.number().int().min(1).max(1024).default(8),
    /** CoT sampling temperature. 1.0 as in the GenRM paper (diverse rationales are what voting needs). */
    temperature: z.number().min(0).max(5).default(1.0),
    /** CoT nucleus. 0.95 as in the GenRM paper. */
    topP: z.number().gt(0).max(1).default(0.95),
    /** Most tokens in one rationale. 512 fits a worked solution plus checks of both answers. */
    maxTokens: z.number().int().min(1).max(32768).default(512),
    /** Judge both orders and average, so position bias cancels (costs 2x). On: bias is the commonest judge failure. */
    swap: z.boolean().default(true),
    /**
     * How a CoT sample counts. none: one vote per valid verdict (the paper's majority vote).
     * verdict-prob: each rationale contributes P(verdict | rationale) read from the logprobs at its
     * verdict (the Generative Verifiers average); needs candidateLogprobs or topLogprobs.
     */
    weighting: z.enum(['none', 'verdict-prob']).default('none'),
    /** Base seed of CoT sampling; the swapped order uses seed + votes so its samples differ. 0: reproducible by default. */
    seed: z.number().int().default(0),
    /** Template: a built-in name ("compact", "chat", ...), a file path, or "auto" (compact for genrm models, chat otherwise). */
    template: z.string().min(1).default('auto'),
    /**
     * Answers too long for the model's context. refuse: error naming the pair and the token counts
     * (nothing silently changes). truncate-answers: shorten both answers, marked "[truncated]",
     * never the question or the verdict position.
     */
    contextPolicy: z.enum(['refuse', 'truncate-answers']).default('refuse'),
  })
  .strict();

export type JudgeConfig = z.output<typeof JudgeConfigSchema>;
export type JudgeConfigInput = z.input<typeof JudgeConfigSchema>;

/** Validate user input; a bad field is an error naming it (`source` says where it came from). */
export function resolveJudgeConfig(input: unknown = {}, source = 'judge config'): JudgeConfig {
  const r = JudgeConfigSchema.safeParse(input);
  if (!r.success) {
    const msgs = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new GenrmError(`${source}: ${msgs.join('; ')}`, 'bad_input');
  }
  return r.data;
}
