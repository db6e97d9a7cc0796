// The results object: everything a report shows, computed from records only. It is written as
// results.json and read back through this schema, so a report can be re-rendered later.
// Version 2 (issue 20): claim status "underpowered", rationale grades per group, "heldout" groups,
// goals, and each method's training cost in the notes.
import { z } from 'zod';

// NaN cannot travel in JSON; an interval that could not be computed is null.
const Num = z.number().nullable();
export const EstimateSchema = z.object({ value: Num, lo: Num, hi: Num, n: z.number().int().min(0) }).strict();
export type EstimateJson = z.infer<typeof EstimateSchema>;

export const MajKSchema = z.object({ k: z.number().int().min(1), accuracy: EstimateSchema }).strict();

export const OrderMetricsSchema = z
  .object({
    /** Score of the chosen-first order alone. */
    chosenFirst: EstimateSchema.nullable(),
    /** Score of the chosen-second order alone. */
    chosenSecond: EstimateSchema.nullable(),
    /** Both orders name the same answer (pairs judged in both orders). */
    agreement: EstimateSchema.nullable(),
    /** Share of definite order verdicts that pick the first slot (0.5 = no position bias). */
    firstSlotRate: EstimateSchema.nullable(),
  })
  .strict();

export const ReliabilityBinSchema = z
  .object({ lo: z.number(), hi: z.number(), n: z.number().int(), confidence: Num, accuracy: Num })
  .strict();
export const CalibrationSchema = z
  .object({
    brier: EstimateSchema,
    ece: z.number(),
    /** How ECE was binned, in words. */
    binning: z.string(),
    bins: z.array(ReliabilityBinSchema),
  })
  .strict();

export const ReasonSchema = z
  .object({
    /** Samples whose verdict is right AND whose rationale's own result is right, among all graded samples. */
    amongAll: EstimateSchema,
    /** The same, among samples whose verdict is right. */
    amongRight: EstimateSchema,
  })
  .strict();

/** Shares of graded CoT samples (PrefWorld's grader), beside a group's accuracy: why a judge wins or loses there. */
export const GradesSchema = z
  .object({
    /** The question restated in its family's own layout. */
    restated: EstimateSchema.optional(),
    /** The rationale's own worked result is right. */
    resultRight: EstimateSchema.optional(),
    /** Both checks present and agreeing with the rationale's own worked result. */
    checksConsistent: EstimateSchema.optional(),
  })
  .strict();

/** 'heldout': test-ood pairs of one task family held out of training (shift "family"), per family. */
export const GROUP_KINDS = ['all', 'category', 'family', 'shift', 'heldout'] as const;
export const GroupSchema = z
  .object({
    split: z.string(),
    by: z.enum(GROUP_KINDS),
    /** The category/family/shift name ('all' for the whole split; 'none' for OOD's control group). */
    value: z.string(),
    accuracy: EstimateSchema,
    /** Share of all sampled verdicts that were invalid (no indicator found). */
    invalidRate: z.number(),
    majAtK: z.array(MajKSchema).optional(),
    order: OrderMetricsSchema.optional(),
    calibration: CalibrationSchema.optional(),
    reason: ReasonSchema.optional(),
    grades: GradesSchema.optional(),
  })
  .strict();
export type Group = z.infer<typeof GroupSchema>;

export const OmittedSchema = z
  .object({ method: z.string(), split: z.string().optional(), metric: z.string(), reason: z.string() })
  .strict();
export type Omitted = z.infer<typeof OmittedSchema>;

export const MethodResultSchema = z
  .object({
    method: z.string(),
    mode: z.string(),
    /** The STaR iteration the main numbers come from (the last one), when the method has iterations. */
    iteration: z.number().int().optional(),
    samples: z.number().int(),
    groups: z.array(GroupSchema),
    /** Headline accuracy of every iteration, per split (STaR curves). */
    /** Accuracy per STaR iteration, every iteration at maj@`votes` (the fewest votes any iteration was judged with). */
    iterations: z
      .array(
        z
          .object({ iteration: z.number().int(), split: z.string(), votes: z.number().int().min(1).optional(), accuracy: EstimateSchema })
          .strict(),
      )
      .default([]),
    /** Gold-tie pairs left out of accuracy. */
    tiesExcluded: z.number().int().default(0),
  })
  .strict();
export type MethodResult = z.infer<typeof MethodResultSchema>;

/**
 * 'underpowered': undecided, and the CI's half-width exceeds the equivalence margin: at the planned
 * number of pairs a difference that large could not be told from none, so more pairs, not a
 * different method, would decide it. 'inconclusive': undecided with a narrower interval.
 */
export const CLAIM_STATUSES = ['reproduced', 'not reproduced', 'inconclusive', 'underpowered'] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];
export const CheckSchema = z
  .object({
    /** e.g. "star-dpo − bt on test-ood". */
    what: z.string(),
    diff: EstimateSchema.nullable(),
    status: z.enum(CLAIM_STATUSES),
    why: z.string(),
  })
  .strict();
export const ClaimSchema = z
  .object({
    id: z.string(),
    claim: z.string(),
    paper: z.string(),
    status: z.enum(CLAIM_STATUSES),
    checks: z.array(CheckSchema),
    summary: z.string(),
  })
  .strict();
export type Claim = z.infer<typeof ClaimSchema>;

/** A goal of issue 20 beside the claims: a number, the target it should reach, and whether it does. */
export const GoalSchema = z
  .object({
    id: z.string(),
    /** What is measured, e.g. "star-dpo − bt on test-ood". */
    what: z.string(),
    method: z.string(),
    estimate: EstimateSchema.nullable(),
    /** The target in words, e.g. "≥ 10 points, CI excluding 0"; "—" where the method has none. */
    target: z.string(),
    /** null: no target for this method, or nothing to measure. */
    met: z.boolean().nullable(),
    why: z.string(),
  })
  .strict();
export type Goal = z.infer<typeof GoalSchema>;

const OptNum = z.number().nullable().default(null);
/** What training a method cost (RecipeResult's counts; null where the recipe did not report one). */
export const TrainingCostSchema = z
  .object({
    method: z.string(),
    /** The step cap the run gave every method (STaR: per iteration). */
    cap: OptNum,
    steps: OptNum,
    bestStep: OptNum,
    stoppedEarly: z.boolean().nullable().default(null),
    tokens: OptNum,
    cpuSec: OptNum,
    /** Wall-clock seconds of the training stage. */
    seconds: OptNum,
  })
  .strict();
export type TrainingCost = z.infer<typeof TrainingCostSchema>;

export const NotesSchema = z
  .object({
    /** A quick run: what it cut compared with the full experiment (printed by the caller). */
    quick: z.boolean().default(false),
    cut: z.array(z.string()).default([]),
    /** How the sample counts were planned (text given by the caller, e.g. from measured tokens/s). */
    samplePlan: z.string().optional(),
    timings: z.array(z.object({ stage: z.string(), seconds: z.number() }).strict()).default([]),
    /** Each trained method's cost, in training order. */
    training: z.array(TrainingCostSchema).default([]),
    /** Anything else the caller wants said (world spec, base model, seeds). */
    extra: z.array(z.string()).default([]),
  })
  .strict();
export type Notes = z.infer<typeof NotesSchema>;

/** Best-of-N (beyond the paper): a judge's chosen answer's gold accuracy at one N on one split, beside the oracle. */
export const BonRowSchema = z
  .object({
    judge: z.string(),
    split: z.string(),
    n: z.number().int().min(1),
    /** The chosen answer is right. */
    accuracy: EstimateSchema,
    /** Some answer among the N is right (what a perfect judge would reach). */
    oracle: EstimateSchema,
    /** Pairs judged per prompt at this N. */
    comparisons: z.number().int().min(0),
  })
  .strict();
export type BonRow = z.infer<typeof BonRowSchema>;

/** Overoptimisation (beyond the paper): a policy trained on one reward, held-out gold and the judge's proxy at one step. */
export const OveroptRowSchema = z
  .object({
    /** The reward the policy was trained on: a judge's method name, or "gold". */
    judge: z.string(),
    step: z.number().int().min(0),
    split: z.string(),
    /** Share of the policy's answers that are right (PrefWorld's checker). */
    gold: EstimateSchema,
    /** The judge's P(a policy answer beats the base's answer to the same prompt); null for the gold reward. */
    proxy: EstimateSchema.nullable(),
  })
  .strict();
export type OveroptRow = z.infer<typeof OveroptRowSchema>;

export const ResultsSchema = z
  .object({
    version: z.literal(2),
    createdAt: z.string(),
    settings: z
      .object({
        bootstrap: z.object({ resamples: z.number().int(), seed: z.number().int(), level: z.number() }).strict(),
        ks: z.array(z.number().int()),
        splits: z.object({ id: z.string(), ood: z.string() }).strict(),
        /** Half-width (accuracy points, 0–1) within which "≈" counts as reproduced. */
        equivalenceMargin: z.number(),
      })
      .strict(),
    methods: z.array(MethodResultSchema),
    claims: z.array(ClaimSchema),
    goals: z.array(GoalSchema),
    omitted: z.array(OmittedSchema),
    notes: NotesSchema,
    /** Best-of-N rows (repro's bon stage; absent from runs without it). */
    bon: z.array(BonRowSchema).default([]),
    /** Overoptimisation curves (repro's overopt stage; absent from runs without it). */
    overopt: z.array(OveroptRowSchema).default([]),
  })
  .strict();
export type Results = z.infer<typeof ResultsSchema>;
