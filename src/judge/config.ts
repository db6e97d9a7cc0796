// The judge's configuration: one typed object with documented defaults, validated at the
// boundary (CLI flags and config files map onto it one to one).
import { z } from 'zod';
import { GenrmError } from '../util/errors.js';

export const JudgeConfigSchema = z
  .object({
    mode: z
      .enum(['direct', 'cot'])
      .default('direct')
      .describe(
        "How the judge decides: 'direct' reads P(A) from the verdict logits in one forward pass; 'cot' samples rationales and counts their verdicts. 'direct': calibrated and cheap.",
      ),
    votes: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(8)
      .describe(
        "Rationales sampled per order in CoT mode, combined by majority vote. 8: most of the paper's majority-vote gain at a quarter of its 32 (Mahan et al. 2024); at most 1,024.",
      ),
    temperature: z
      .number()
      .min(0)
      .max(5)
      .default(1.0)
      .describe(
        'CoT sampling temperature. 1.0, as in the GenRM paper: diverse rationales are what voting needs; at most 5, hotter is noise.',
      ),
    topP: z.number().gt(0).max(1).default(0.95).describe('CoT nucleus mass. 0.95, as in the GenRM paper.'),
    maxTokens: z
      .number()
      .int()
      .min(1)
      .max(32768)
      .default(512)
      .describe('Most tokens in one rationale. 512 fits a worked solution plus checks of both answers; at most 32,768, past any context.'),
    swap: z
      .boolean()
      .default(true)
      .describe(
        'Judge both orders and combine them, so position bias cancels, at twice the cost. On: position bias is the commonest judge failure (Zheng et al. 2023, arXiv 2306.05685).',
      ),
    weighting: z
      .enum(['none', 'verdict-prob'])
      .default('none')
      .describe(
        "How a CoT sample counts: 'none' is one vote per valid verdict (the paper's majority vote); 'verdict-prob' weighs each rationale by P(verdict | rationale) read at its verdict (Generative Verifiers' average, Zhang et al. 2024, arXiv 2408.15240), which needs candidateLogprobs or top logprobs from the model.",
      ),
    seed: z
      .number()
      .int()
      .default(0)
      .describe(
        'Base seed of CoT sampling; the swapped order uses seed + votes, so its samples differ. 0: a judgment is reproducible by default.',
      ),
    template: z
      .string()
      .min(1)
      .default('auto')
      .describe(
        "The prompt template: a built-in name ('compact', 'chat', ...), a template file, or 'auto': compact for genrm's own models, chat for others.",
      ),
    contextPolicy: z
      .enum(['refuse', 'truncate-answers'])
      .default('refuse')
      .describe(
        "Answers too long for the model's context: 'refuse' is an error naming the pair and the token counts, so nothing silently changes; 'truncate-answers' shortens both answers, marked \"[truncated]\", never the question or the verdict position.",
      ),
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
