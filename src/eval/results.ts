// The results object: everything a report shows, computed from records only. It is written as
// results.json and read back through this schema, so a report can be re-rendered later.
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

export const ReliabilityBinSchema = z.object({ lo: z.number(), hi: z.number(), n: z.number().int(), confidence: Num, accuracy: Num }).strict();
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

export const GROUP_KINDS = ['all', 'category', 'family', 'shift'] as const;
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
  })
  .strict();
export type Group = z.infer<typeof GroupSchema>;

export const OmittedSchema = z.object({ method: z.string(), split: z.string().optional(), metric: z.string(), reason: z.string() }).strict();
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
    iterations: z.array(z.object({ iteration: z.number().int(), split: z.string(), accuracy: EstimateSchema }).strict()).default([]),
    /** Gold-tie pairs left out of accuracy. */
    tiesExcluded: z.number().int().default(0),
  })
  .strict();
export type MethodResult = z.infer<typeof MethodResultSchema>;

export const CLAIM_STATUSES = ['reproduced', 'not reproduced', 'inconclusive'] as const;
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

export const NotesSchema = z
  .object({
    /** A quick run: what it cut compared with the full experiment (printed by the caller). */
    quick: z.boolean().default(false),
    cut: z.array(z.string()).default([]),
    /** How the sample counts were planned (text given by the caller, e.g. from measured tokens/s). */
    samplePlan: z.string().optional(),
    timings: z.array(z.object({ stage: z.string(), seconds: z.number() }).strict()).default([]),
    /** Anything else the caller wants said (world spec, base model, seeds). */
    extra: z.array(z.string()).default([]),
  })
  .strict();
export type Notes = z.infer<typeof NotesSchema>;

export const ResultsSchema = z
  .object({
    version: z.literal(1),
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
    omitted: z.array(OmittedSchema),
    notes: NotesSchema,
  })
  .strict();
export type Results = z.infer<typeof ResultsSchema>;
