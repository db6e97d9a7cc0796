// Knobs of the one STaR sampler (docs/ARCHITECTURE.md, Contracts), shared by `genrm star sample` and the star-sft /
// star-dpo recipes: one zod schema, so flags, config files and code validate the same way.
// `.strict()`: an unknown key is an error naming it.
import { z } from 'zod';
import { formatZodIssue, MAX_SEED } from '../config.js';
import { GenrmError } from '../../util/errors.js';

/** How sampling runs: what the model is asked and how many times. Fixed for a resumable run. */
export const StarSamplingSchema = z
  .object({
    k: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(8)
      .describe(
        "Rationales sampled per pair and order. 8, the paper's STaR sampling budget scale (and the CLI's default); at most 1,024, the judge's cap on votes.",
      ),
    temperature: z
      .number()
      .min(0)
      .max(5)
      .default(1.0)
      .describe("Sampling temperature. 1.0: sample from the model as it is (the paper); at most 5, as the judge's."),
    topP: z.number().gt(0).max(1).default(0.95).describe("Nucleus mass. 0.95, the paper's (Mahan et al. 2024, arXiv 2410.12832)."),
    maxTokens: z
      .number()
      .int()
      .min(1)
      .max(32_768)
      .default(256)
      .describe(
        'Most tokens per rationale. 256: a PrefWorld CoT rationale and its verdict fit in well under that; at most 32,768, past any context.',
      ),
    stop: z
      .array(z.string())
      .default([])
      .describe(
        "Stop strings passed to the model. None, since genrm's models end with end-of-text after the verdict; a served model may need its own.",
      ),
    seed: z
      .number()
      .int()
      .min(0)
      .max(MAX_SEED)
      .default(1)
      .describe(
        'Seeds every sample: sample i of a prompt draws as if seeded with seed + i, so a resumed run samples what it would have. Below 2^32, as every seed.',
      ),
    chunkPairs: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(16)
      .describe(
        "Pairs per generate call. 16 pairs × 2 orders × k = 256 rows keeps the batched engine full; at most 4,096, as a call's KV cache grows with it.",
      ),
    rationalize: z
      .boolean()
      .default(false)
      .describe(
        "Rationalization fallback (Zelikman et al. 2022): for each order where none of the k rationales is right, sample one more with the right verdict as a hint, kept (and trained without the hint) only if it ends in that verdict. Off: the paper's STaR does not.",
      ),
  })
  .strict();

export type StarSamplingConfig = z.infer<typeof StarSamplingSchema>;

/** How the datasets are built from the samples: can change without resampling. */
export const StarBuildSchema = z
  .object({
    // 'checked' leaves a right-verdict rationale the grader does not pass neither kept nor
    // rejected: it is no example of reasoning, yet DPO against it would push the judge off the
    // right answer.
    filter: z
      .enum(['verdict', 'checked'])
      .default('verdict')
      .describe(
        "Which rationales count as right (STaR-SFT keeps them; STaR-DPO takes its chosen from them); a wrong-verdict or no-verdict sample is a DPO rejected either way. 'verdict', the default: its verdict is the order's right one, the paper's rule (Zelikman et al. 2022; GenRM §3). 'checked': also right for the right reason by PrefWorld's grader (worked result right, both checks consistent with it, verdict follows them), supervision the paper did not have, so it is reported as rows of its own (star-sft+checked, star-dpo+checked); it needs PrefWorld data and is an error without a grader.",
      ),
    pairing: z
      .enum(['all', 'random-one'])
      .default('all')
      .describe(
        "DPO pairing within one (pair, order) of R right and W wrong rationales: 'all' takes every (r, w) in R × W, at most maxPairsPerOrder, chosen by a seeded shuffle; 'random-one' draws one (r, w). 'all': more preference signal per sampled pair.",
      ),
    maxPairsPerOrder: z
      .number()
      .int()
      .min(1)
      .max(1024 * 1024)
      .default(4)
      .describe(
        "Most DPO pairs per (pair, order) with pairing 'all'. 4: more preference signal per sampled pair without letting pairs with many samples dominate; at most 1,024², every chosen with every rejected at k 1,024.",
      ),
    dedupe: z
      .boolean()
      .default(true)
      .describe(
        'Drop repeated identical completions within an order before building the datasets. On: 8 copies of one rationale add weight, not information.',
      ),
    seed: z.number().int().min(0).max(MAX_SEED).default(1).describe('Seeds the DPO pairing shuffle. Below 2^32, as every seed.'),
  })
  .strict();

export type StarBuildConfig = z.infer<typeof StarBuildSchema>;
export type StarFilter = StarBuildConfig['filter'];

/** Refuses the 'checked' filter where no grader can say which rationales are right for the right reason. */
export function requireGrader(filter: StarFilter, graded: boolean, data: string): void {
  if (filter === 'checked' && !graded)
    throw new Error(
      `${data}: filter 'checked' needs PrefWorld's rationale grader (a PrefWorld folder or a split file beside its spec.json); this data has none. Use filter 'verdict' (the paper's rule)`,
    );
}

function parseWith<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(input ?? {});
  if (!r.success) throw new GenrmError(`${what}: ${formatZodIssue(r.error.issues[0])}`, 'bad_input');
  return r.data;
}

export const starSamplingConfig = (input: z.input<typeof StarSamplingSchema> = {}): StarSamplingConfig =>
  parseWith(StarSamplingSchema, input, 'STaR sampling config');
export const starBuildConfig = (input: z.input<typeof StarBuildSchema> = {}): StarBuildConfig =>
  parseWith(StarBuildSchema, input, 'STaR dataset config');

/** Sampling fields that must match when a run resumes: they change what the samples are. */
export const SAMPLE_FIXED = ['k', 'temperature', 'topP', 'maxTokens', 'stop', 'seed', 'rationalize'] as const;
