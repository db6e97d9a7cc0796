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
    /** The same for STaR iterations before the last (their curve is read at maj@iterationVotes for every iteration). */
    iterationVotes: z.number().int().min(1),
    /** STaR iterations (each on a fresh slice of its training pairs) and rationales per pair and order. */
    starIterations: z.number().int().min(1),
    starK: z.number().int().min(1),
    /** GRPO's group: rationales per pair and order each update (its k). */
    grpoK: z.number().int().min(2),
    /**
     * GRPO's cap on updates, under the same stopping rule as every method: each update samples
     * 2 pairs × 2 orders × k rationales, so the common cap would cost the grpo rows hours here.
     */
    grpoSteps: z.number().int().min(1),
    /** Hinted samples per (pair, order) for `rationalize`. */
    rationalizeSamples: z.number().int().min(1),
    /**
     * The training budget, the same for every method of a run (issue 20, "fair budgets"): train
     * until a validation slice of train stops improving on the recipe's cheap metric, checked
     * every `valEvery` updates with `patience` and `minDelta`, keeping the best checkpoint; at most
     * `steps` updates per training run (STaR: per iteration, each on fresh samples).
     */
    budget: z
      .object({
        steps: z.number().int().min(1),
        /** Pairs of train held out for the stopping rule; 0: none, every method trains to the cap. */
        valPairs: z.number().int().min(0),
        valEvery: z.number().int().min(1),
        patience: z.number().int().min(1),
        minDelta: z.number().min(0),
      })
      .strict(),
    /** Training pairs for bt / pairrm / genrm (a seeded sample of train). */
    trainPairs: z.number().int().min(1),
    /** Seconds of generation the whole run may spend: eval votes, rationalize and STaR sampling (planned from tokens/s). */
    samplingSeconds: z.number().positive(),
    /** Bounds on the planned pair counts: fewer than `minPairs` says nothing; `maxPairs` caps a fast machine. */
    minPairs: z.number().int().min(1),
    maxPairs: z.number().int().min(1),
    /** Eval pairs per split at least, whatever the budget affords (issue 20: ≥ 400 in full, a CI half-width of ≈ ±5 points). */
    minEvalPairs: z.number().int().min(1),
    /** Most tokens per sampled rationale: PrefWorld's reference rationales are well under this. */
    maxTokens: z.number().int().min(8),
    /** Rows the engine decodes together: 128 measured ~25 % faster than 64 at the base shape, KV cache ~400 MB. */
    maxBatchRows: z.number().int().min(1),
    /**
     * Best-of-N (beyond the paper): `prompts` per split answered by the base, the N's, and the
     * CoT judges' rationales per order for each compared pair.
     */
    bon: z
      .object({ prompts: z.number().int().min(1), ns: z.array(z.number().int().min(1)).min(1), votes: z.number().int().min(1) })
      .strict(),
    /**
     * Overoptimisation (beyond the paper): the base trained as a policy by GRPO with each judge as
     * its reward, `steps` updates of `promptsPerStep` prompts × `k` answers at `lr` (1e-4: the
     * gold reward lifted held-out accuracy 15 → 26 % in 30 updates; 3e-4 rose and fell back);
     * every `evalEvery` updates, `evalSamples` answers to each of `evalPrompts` held-out prompts per
     * split. CoT judges: `votes` rationales per order per compared pair.
     */
    overopt: z
      .object({
        steps: z.number().int().min(1),
        promptsPerStep: z.number().int().min(1),
        k: z.number().int().min(2),
        lr: z.number().positive(),
        evalEvery: z.number().int().min(1),
        evalPrompts: z.number().int().min(1),
        evalSamples: z.number().int().min(1),
        votes: z.number().int().min(1),
      })
      .strict(),
  })
  .strict();
export type SizeSettings = z.infer<typeof SizeSettingsSchema>;

export const SIZE_SETTINGS: Record<ReproSize, SizeSettings> = {
  // The paper's settings where they are given: 32 votes, 3 STaR iterations. Since
  // world v2 the full world has the quick world's corpus (one spec, one corpus), so the committed
  // base serves it. Budget: a cap of 1500 updates is 6 epochs of the 4000 training pairs at batch
  // 16, well past the 600 at which issue 20 saw BT and SFT still gaining, so the stopping rule,
  // not the cap, ends a run: a check every 100 updates on 200 held-out train pairs, stopping after
  // 3 checks without improvement. 400 eval pairs per split at least: a CI half-width of ≈ ±5
  // points at 70 % accuracy (1.96 × √(0.7 × 0.3 / 400) = 4.5). STaR iterations before the last are
  // judged with 8 votes: with 32 for all 14 CoT judges the plan expected ~6000 s of generation
  // (8,800 tokens/s measured), almost twice the budget; 6 judges at 32 and 8 at 8 need 57 % of that.
  full: {
    world: 'full',
    basePreset: 'base',
    pretrain: {},
    votes: 32,
    iterationVotes: 8,
    starIterations: 3,
    starK: 8,
    grpoK: 8,
    grpoSteps: 400,
    rationalizeSamples: 4,
    budget: { steps: 1500, valPairs: 200, valEvery: 100, patience: 3, minDelta: 0 },
    trainPairs: 4000,
    samplingSeconds: 3300,
    minPairs: 48,
    maxPairs: 1000,
    minEvalPairs: 400,
    maxTokens: 256,
    maxBatchRows: 128,
    bon: { prompts: 50, ns: [1, 2, 4, 8, 16], votes: 1 },
    overopt: { steps: 60, promptsPerStep: 4, k: 8, lr: 1e-4, evalEvery: 10, evalPrompts: 50, evalSamples: 4, votes: 1 },
  },
  // ≤ 10 minutes on the committed base: everything runs, with fewer of everything. Cap 200: eight
  // methods at ~0.3 s an update on the 2-core machine leave the run its 10 minutes even if none
  // stops early; checks every 25 updates on 64 held-out train pairs. The pairwise methods get
  // the whole quick train split (4000 pairs): on 480, BT overfit by update 25 (63.7 % test-id).
  quick: {
    world: 'quick',
    basePreset: 'base',
    pretrain: {},
    votes: 8,
    iterationVotes: 8,
    starIterations: 1,
    starK: 4,
    grpoK: 4,
    grpoSteps: 50,
    rationalizeSamples: 2,
    budget: { steps: 200, valPairs: 64, valEvery: 25, patience: 3, minDelta: 0 },
    trainPairs: 4000,
    samplingSeconds: 210,
    minPairs: 12,
    maxPairs: 200,
    minEvalPairs: 12,
    maxTokens: 192,
    maxBatchRows: 128,
    bon: { prompts: 12, ns: [1, 2, 4, 8], votes: 1 },
    overopt: { steps: 10, promptsPerStep: 2, k: 4, lr: 1e-4, evalEvery: 5, evalPrompts: 12, evalSamples: 4, votes: 1 },
  },
  // Tests: every stage end to end in seconds, nothing measured about quality (no stopping rule:
  // the micro world's 48 training pairs have none to spare).
  micro: {
    // rationalizeSamples 8: a 4-step model writes a verdict token by chance (~2 % of 12-token
    // samples end in the hinted one); with 1 sample per item, rationalize found none about half
    // the time, depending on the world's bytes, and the stage was left out.
    world: 'micro',
    basePreset: 'tiny',
    pretrain: { seqLen: 320, steps: 4, evalTasks: 0, evalEvery: 0, checkpointEvery: 0, logEvery: 1 },
    votes: 2,
    iterationVotes: 2,
    starIterations: 1,
    starK: 2,
    grpoK: 2,
    grpoSteps: 2,
    rationalizeSamples: 8,
    budget: { steps: 2, valPairs: 0, valEvery: 1, patience: 1, minDelta: 0 },
    trainPairs: 16,
    samplingSeconds: 1,
    minPairs: 4,
    maxPairs: 4,
    minEvalPairs: 4,
    maxTokens: 12,
    maxBatchRows: 64,
    bon: { prompts: 2, ns: [1, 2], votes: 1 },
    overopt: { steps: 2, promptsPerStep: 1, k: 2, lr: 1e-4, evalEvery: 1, evalPrompts: 2, evalSamples: 2, votes: 1 },
  },
};

/** The stopping rule of a budget, in words. */
export function budgetRule(b: SizeSettings['budget']): string {
  return b.valPairs === 0
    ? 'no early stopping'
    : `stopping after ${b.patience} checks (every ${b.valEvery} updates, on ${b.valPairs} held-out train pairs) without improvement`;
}

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
    `GRPO: groups of ${s.grpoK} rationales and at most ${s.grpoSteps} updates instead of ${f.grpoK} and ${f.grpoSteps}`,
    `training: every method at most ${s.budget.steps} updates (STaR: per iteration) instead of ${f.budget.steps}, ${budgetRule(s.budget)} instead of ${budgetRule(f.budget)}${s.trainPairs !== f.trainPairs ? `; ${s.trainPairs} training pairs instead of ${f.trainPairs}` : ''}`,
    `generation budget: ${s.samplingSeconds} s instead of ${f.samplingSeconds} s, so fewer pairs are judged and sampled (see the sample plan); at least ${s.minEvalPairs} eval pairs per split instead of ${f.minEvalPairs}`,
    `rationale length: at most ${s.maxTokens} tokens instead of ${f.maxTokens}`,
    `best-of-N: ${s.bon.prompts} prompts per split, N up to ${Math.max(...s.bon.ns)}, instead of ${f.bon.prompts} and ${Math.max(...f.bon.ns)}`,
    `overoptimisation: ${s.overopt.steps} policy updates of ${s.overopt.promptsPerStep} prompts × ${s.overopt.k} answers, ${s.overopt.evalPrompts} held-out prompts per split, instead of ${f.overopt.steps}, ${f.overopt.promptsPerStep} × ${f.overopt.k} and ${f.overopt.evalPrompts}`,
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
