// Knobs of the one STaR sampler (docs/ARCHITECTURE.md, Contracts), shared by `genrm star sample` and the star-sft /
// star-dpo recipes: one zod schema, so flags, config files and code validate the same way.
// `.strict()`: an unknown key is an error naming it.
import { z } from 'zod';
import { formatZodIssue, MAX_SEED } from '../config.js';
import { GenrmError } from '../../util/errors.js';

/** How sampling runs: what the model is asked and how many times. Fixed for a resumable run. */
export const StarSamplingSchema = z
  .object({
    /** Rationales sampled per pair and order: 8, the paper's STaR sampling budget scale (and the CLI's default). At most 1,024 (the judge's cap on votes). */
    k: z.number().int().min(1).max(1024).default(8),
    /** 1.0: sample from the model as it is (the paper). At most 5, as the judge's. */
    temperature: z.number().min(0).max(5).default(1.0),
    /** 0.95: the paper's nucleus mass. */
    topP: z.number().gt(0).max(1).default(0.95),
    /** 256: a PrefWorld CoT rationale and verdict fit in well under that many tokens. At most 32,768, past any context. */
    maxTokens: z.number().int().min(1).max(32_768).default(256),
    /** Stop strings passed to the model: none, since genrm's models end with end-of-text after the verdict. */
    stop: z.array(z.string()).default([]),
    /** Seeds every sample (sample i of a prompt draws as if seeded with seed + i). Below 2^32, as every seed. */
    seed: z.number().int().min(0).max(MAX_SEED).default(1),
    /** Pairs per generate call: 16 pairs × 2 orders × k = 256 rows keeps the batched engine full. At most 4,096: a call's KV cache grows with it. */
    chunkPairs: z.number().int().min(1).max(4096).default(16),
    /**
     * Rationalization fallback (Zelikman et al. 2022): for each order where none of the k
     * rationales is right, sample one more with the right verdict as a hint; kept (and trained
     * without the hint) only if it ends in that verdict. Off by default: the paper's STaR does not.
     */
    rationalize: z.boolean().default(false),
  })
  .strict();

export type StarSamplingConfig = z.infer<typeof StarSamplingSchema>;

/** How the datasets are built from the samples: can change without resampling. */
export const StarBuildSchema = z
  .object({
    /**
     * Which rationales count as right (STaR-SFT keeps them; STaR-DPO takes its chosen from them):
     *   verdict — its verdict is the order's right one: the paper's rule (Zelikman et al. 2022;
     *             GenRM §3), the default.
     *   checked — also right for the right reason by PrefWorld's grader (worked result right,
     *             both checks consistent with it, verdict follows them): supervision the paper did
     *             not have, so it is reported as its own rows (`star-sft+checked`,
     *             `star-dpo+checked`). A right-verdict rationale the grader does not pass is then
     *             neither kept nor rejected: it is no example of reasoning, yet its verdict is
     *             right, and DPO against it would push the judge off the right answer.
     * Either way a wrong-verdict or no-verdict sample is a DPO rejected. 'checked' needs a
     * grader (PrefWorld data): without one it is an error, not a silent 'verdict'.
     */
    filter: z.enum(['verdict', 'checked']).default('verdict'),
    /**
     * DPO pairing within one (pair, order), R = right rationales, W = wrong ones:
     *   all        — every (r, w) in R × W, at most `maxPairsPerOrder`, chosen by a seeded shuffle;
     *   random-one — one (r, w) drawn at random.
     */
    pairing: z.enum(['all', 'random-one']).default('all'),
    /** 4: more preference signal per sampled pair without letting pairs with many samples dominate. At most 1,024² (every chosen with every rejected of k 1,024). */
    maxPairsPerOrder: z.number().int().min(1).max(1024 * 1024).default(4),
    /** Drop repeated identical completions within an order: 8 copies of one rationale add weight, not information. */
    dedupe: z.boolean().default(true),
    /** Seeds the DPO pairing shuffle. Below 2^32, as every seed. */
    seed: z.number().int().min(0).max(MAX_SEED).default(1),
  })
  .strict();

export type StarBuildConfig = z.infer<typeof StarBuildSchema>;
export type StarFilter = StarBuildConfig['filter'];

/** Refuses the 'checked' filter where no grader can say which rationales are right for the right reason. */
export function requireGrader(filter: StarFilter, graded: boolean, data: string): void {
  if (filter === 'checked' && !graded) throw new Error(`${data}: filter 'checked' needs PrefWorld's rationale grader (a PrefWorld folder or a split file beside its spec.json); this data has none. Use filter 'verdict' (the paper's rule)`);
}

function parseWith<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(input ?? {});
  if (!r.success) throw new GenrmError(`${what}: ${formatZodIssue(r.error.issues[0])}`, 'bad_input');
  return r.data;
}

export const starSamplingConfig = (input: z.input<typeof StarSamplingSchema> = {}): StarSamplingConfig => parseWith(StarSamplingSchema, input, 'STaR sampling config');
export const starBuildConfig = (input: z.input<typeof StarBuildSchema> = {}): StarBuildConfig => parseWith(StarBuildSchema, input, 'STaR dataset config');

/** Sampling fields that must match when a run resumes: they change what the samples are. */
export const SAMPLE_FIXED = ['k', 'temperature', 'topP', 'maxTokens', 'stop', 'seed', 'rationalize'] as const;
