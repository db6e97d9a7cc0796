// What a `genrm repro` run does, per size. `full` is the experiment (the `full` world, 32 votes,
// 3 STaR iterations of k = 8); `quick` is its ≤ 10-minute form on the committed base, whose cuts
// are listed (and printed, and written into the report); `micro` is a hidden size for tests (a
// tiny world and a tiny base pretrained in seconds). Only these CUTS differ between sizes: the
// world's definition, the methods and their thresholds are the same (never tuned to make a method
// win). How many pairs each stage judges or samples is not fixed here: it is planned at the start
// of a run from the measured tokens/s of batched generation and `samplingSeconds` (./plan.ts).
import { z } from 'zod';

export const REPRO_SIZES = ['quick', 'full', 'micro'] as const;
export type ReproSize = (typeof REPRO_SIZES)[number];

export const SizeSettingsSchema = z
  .object({
    /** PrefWorld size preset (`micro`: a custom tiny world). */
    world: z.enum(['quick', 'full', 'micro']),
    /** Pretrain preset used when no matching base checkpoint is found. */
    basePreset: z.enum(['tiny', 'base']),
    /** Overrides of the pretrain preset (micro only: a few steps at a context that fits byte-level judge prompts). */
    pretrain: z.record(z.string(), z.unknown()).default({}),
    /** CoT rationales per order at evaluation, sampled once; maj@k for k ≤ votes comes from them. */
    votes: z.number().int().min(1),
    /** STaR iterations (each on a fresh slice of its training pairs) and rationales per pair and order. */
    starIterations: z.number().int().min(1),
    starK: z.number().int().min(1),
    /** Hinted samples per (pair, order) for `rationalize`. */
    rationalizeSamples: z.number().int().min(1),
    /** Updates per recipe (STaR: at most this many per iteration). */
    steps: z.object({ bt: z.number().int().min(1), pairrm: z.number().int().min(1), genrm: z.number().int().min(1), rationalize: z.number().int().min(1), star: z.number().int().min(1) }).strict(),
    /** Training pairs for bt / pairrm / genrm (a seeded sample of train). */
    trainPairs: z.number().int().min(1),
    /** Seconds of generation the whole run may spend: eval votes, rationalize and STaR sampling (planned from tokens/s). */
    samplingSeconds: z.number().positive(),
    /** Bounds on the planned pair counts: fewer than `minPairs` says nothing; `maxPairs` caps a fast machine. */
    minPairs: z.number().int().min(1),
    maxPairs: z.number().int().min(1),
    /** Most tokens per sampled rationale: PrefWorld's reference rationales are well under this. */
    maxTokens: z.number().int().min(8),
    /** Rows the engine decodes together: 128 measured ~25 % faster than 64 at the base shape, KV cache ~400 MB. */
    maxBatchRows: z.number().int().min(1),
  })
  .strict();
export type SizeSettings = z.infer<typeof SizeSettingsSchema>;

export const SIZE_SETTINGS: Record<ReproSize, SizeSettings> = {
  // The paper's settings where they are given (DESIGN.md §1): 32 votes, 3 STaR iterations. Since
  // world v2 the full world has the quick world's corpus (one spec, one corpus), so the committed
  // base serves it; ~1200 updates at ~1.3 s each (~26 min) and 55 minutes of generation fit 2
  // hours on the 2-core machine with room for the reports (a base pretrained here instead, with
  // --base or without models/base, adds ~70 min).
  full: {
    world: 'full', basePreset: 'base', pretrain: {}, votes: 32, starIterations: 3, starK: 8, rationalizeSamples: 4,
    steps: { bt: 150, pairrm: 150, genrm: 150, rationalize: 150, star: 100 }, trainPairs: 4000,
    samplingSeconds: 3300, minPairs: 48, maxPairs: 1000, maxTokens: 256, maxBatchRows: 128,
  },
  // ≤ 10 minutes on the committed base: everything runs, with fewer of everything.
  quick: {
    world: 'quick', basePreset: 'base', pretrain: {}, votes: 8, starIterations: 1, starK: 4, rationalizeSamples: 2,
    steps: { bt: 30, pairrm: 30, genrm: 30, rationalize: 30, star: 30 }, trainPairs: 480,
    samplingSeconds: 210, minPairs: 12, maxPairs: 200, maxTokens: 192, maxBatchRows: 128,
  },
  // Tests: every stage end to end in seconds, nothing measured about quality.
  micro: {
    // rationalizeSamples 8: a 4-step model writes a verdict token by chance (~2 % of 12-token
    // samples end in the hinted one); with 1 sample per item, rationalize found none about half
    // the time, depending on the world's bytes, and the stage was left out.
    world: 'micro', basePreset: 'tiny', pretrain: { seqLen: 320, steps: 4, evalTasks: 0, evalEvery: 0, checkpointEvery: 0, logEvery: 1 }, votes: 2, starIterations: 1, starK: 2, rationalizeSamples: 8,
    steps: { bt: 2, pairrm: 2, genrm: 2, rationalize: 2, star: 2 }, trainPairs: 16,
    samplingSeconds: 1, minPairs: 4, maxPairs: 4, maxTokens: 12, maxBatchRows: 64,
  },
};

/** What `quick` cuts compared with `full`, in words (printed and written into the report). */
export function cutsOf(size: ReproSize): string[] {
  if (size === 'full') return [];
  const s = SIZE_SETTINGS[size];
  const f = SIZE_SETTINGS.full;
  return [
    `world: the ${s.world} PrefWorld instead of ${f.world}`,
    `votes: ${s.votes} rationales per order instead of ${f.votes} (maj@k up to k = ${s.votes})`,
    `STaR: ${s.starIterations} iteration${s.starIterations > 1 ? 's' : ''} of k = ${s.starK} instead of ${f.starIterations} of k = ${f.starK}`,
    `rationalize: ${s.rationalizeSamples} hinted samples per pair and order instead of ${f.rationalizeSamples}`,
    `training: ${s.steps.bt}/${s.steps.pairrm}/${s.steps.genrm}/${s.steps.rationalize} updates for bt/pairrm/genrm/rationalize and ≤ ${s.steps.star} per STaR iteration instead of ${f.steps.bt}/${f.steps.pairrm}/${f.steps.genrm}/${f.steps.rationalize} and ≤ ${f.steps.star}; ${s.trainPairs} training pairs instead of ${f.trainPairs}`,
    `generation budget: ${s.samplingSeconds} s instead of ${f.samplingSeconds} s, so fewer pairs are judged and sampled (see the sample plan)`,
    `rationale length: at most ${s.maxTokens} tokens instead of ${f.maxTokens}`,
  ];
}

/** The settings a run folder is tied to: a rerun with the same ones resumes, different ones are refused. */
export const RunSettingsSchema = z
  .object({
    version: z.literal(1),
    size: z.enum(REPRO_SIZES),
    seed: z.number().int().min(0),
    /** The base checkpoint asked for (--base), or null: the committed one if it matches, else pretrain. */
    base: z.string().nullable(),
    settings: SizeSettingsSchema,
  })
  .strict();
export type RunSettings = z.infer<typeof RunSettingsSchema>;
