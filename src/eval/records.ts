// The per-pair verdict record: what every judge run writes (one JSON line per pair and method)
// and every metric reads, so any number in a report can be traced back to its examples.
//
// Conventions (read these before computing anything from a record):
// - Orders are named by where the CHOSEN answer was shown: `chosenFirst` (chosen in slot A) and
//   `chosenSecond` (chosen in slot B). A judge run without order swap fills only one of them.
// - `verdicts` are in that order's SLOT terms, exactly as the judge wrote them: 'A' = the answer
//   shown first. In `chosenFirst`, 'A' is right; in `chosenSecond`, 'B' is right.
// - `verdicts` keep sampling order, so maj@k for every k is computed from the first k of ONE set
//   of samples (no re-sampling per k). Direct/scalar judges have exactly one verdict per order;
//   'tie' appears only there (the judge's probability was exactly 0.5).
// - Probabilities are in CHOSEN terms (P(chosen is better)), not slot terms, so calibration never
//   has to know the order: `pChosen` per order and a record-level `pChosen` (both orders combined,
//   as the judge combined them). Absent for judges that give no probability.
import { z } from 'zod';
import { readJsonl, readJsonlAll, writeJsonl } from '../data/jsonl.js';
import { SLOT_VERDICTS, type SlotVerdict } from '../judge/pairwise.js';

/** How a record's judge produced its verdicts (not judge/templates' JudgeMode: a prompt layout). */
export const RECORD_MODES = ['direct', 'cot', 'pointwise', 'scalar'] as const;
export type RecordMode = (typeof RECORD_MODES)[number];

export const SlotVerdictSchema = z.enum(SLOT_VERDICTS);
export type { SlotVerdict };

const Prob = z.number().min(0).max(1);

export const OrderRecordSchema = z
  .object({
    /** Sampled verdicts in sampling order ('A' = first shown). At least one. */
    verdicts: z.array(SlotVerdictSchema).min(1),
    /** P(chosen better) as read in this order alone (direct logits, or verdict-prob weighting). */
    pChosen: Prob.optional(),
    /** Per sample, same length as `verdicts`: the rationale's own result is right (PrefWorld checks it). */
    rationaleRight: z.array(z.boolean()).optional(),
    /** Per sample: the rationale restates the question in its family's own layout (PrefWorld's grader). */
    restated: z.array(z.boolean()).optional(),
    /** Per sample: both checks are present and agree with the rationale's own worked result (PrefWorld's grader). */
    checksConsistent: z.array(z.boolean()).optional(),
    /** Per sample rationales, same length as `verdicts` (optional: they make files large). */
    rationales: z.array(z.string()).optional(),
    /** The answers were shortened to fit the context. */
    truncated: z.boolean().optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    for (const key of ['rationaleRight', 'restated', 'checksConsistent', 'rationales'] as const) {
      const a = o[key];
      if (a && a.length !== o.verdicts.length) {
        ctx.addIssue({ code: 'custom', path: [key], message: `has ${a.length} entries, expected one per verdict (${o.verdicts.length})` });
      }
    }
  });
export type OrderRecord = z.infer<typeof OrderRecordSchema>;

export const JudgeRecordSchema = z
  .object({
    /** Record format version; bump on an incompatible change. */
    v: z.literal(1),
    pairId: z.string().min(1),
    split: z.string().optional(),
    category: z.string().optional(),
    /** RewardBench's subset; PrefWorld's task family. */
    subset: z.string().optional(),
    /** PrefWorld meta.shift: the OOD shifts this pair carries ([] = none). */
    shift: z.array(z.string()).default([]),
    /** The gold label is a tie: such pairs are excluded from accuracy (counted apart). */
    tie: z.boolean().optional(),
    /** Method name, e.g. "zero-shot", "zero-shot-cot", "bt", "star-dpo" (see METHODS). */
    method: z.string().min(1),
    mode: z.enum(RECORD_MODES),
    /** STaR iteration (1-based) the judge came from; absent for single-shot methods. */
    iteration: z.number().int().min(0).optional(),
    chosenFirst: OrderRecordSchema.optional(),
    chosenSecond: OrderRecordSchema.optional(),
    /** P(chosen better), both orders combined as the judge combined them. */
    pChosen: Prob.optional(),
    /** Scalar/pointwise judges: the score each answer got (BT reward, P(YES)). */
    scores: z.object({ chosen: z.number(), rejected: z.number() }).strict().optional(),
  })
  .strict()
  .refine((r) => r.chosenFirst !== undefined || r.chosenSecond !== undefined, {
    message: 'a record needs at least one order (chosenFirst or chosenSecond)',
    path: ['chosenFirst'],
  });
export type JudgeRecord = z.output<typeof JudgeRecordSchema>;
export type JudgeRecordInput = z.input<typeof JudgeRecordSchema>;

/** Method names the report's claims refer to (the repro pipeline writes records under these). */
export const METHODS = {
  zeroShot: 'zero-shot',
  zeroShotCot: 'zero-shot-cot',
  bt: 'bt',
  pairrm: 'pairrm',
  genrm: 'genrm',
  rationalize: 'rationalize',
  starSft: 'star-sft',
  starDpo: 'star-dpo',
  /** Labelled variants: STaR with PrefWorld's grader as the filter (supervision the paper did not have). */
  starSftChecked: 'star-sft+checked',
  starDpoChecked: 'star-dpo+checked',
  /** Beyond the paper: the judge trained online by GRPO (J1), reward right verdict or both orders right. */
  grpo: 'grpo',
  grpoConsistent: 'grpo-consistent',
} as const;

/** Rows that are not the paper's methods: reported beside them, never in the paper's claims. */
export const VARIANT_METHODS: ReadonlySet<string> = new Set([
  METHODS.starSftChecked,
  METHODS.starDpoChecked,
  METHODS.grpo,
  METHODS.grpoConsistent,
]);

export function readRecords(file: string): AsyncGenerator<[JudgeRecord, number]> {
  return readJsonl(file, JudgeRecordSchema);
}

/** Reads a whole records file; a bad line throws a JsonlError naming file, line and field. */
export function readRecordsAll(file: string): Promise<JudgeRecord[]> {
  return readJsonlAll(file, JudgeRecordSchema);
}

/** Validates then writes atomically, so a file on disk always reads back. */
export async function writeRecords(file: string, records: Iterable<JudgeRecordInput>): Promise<void> {
  const out: JudgeRecord[] = [];
  let i = 0;
  for (const r of records) {
    const p = JudgeRecordSchema.safeParse(r);
    if (!p.success) {
      const issue = p.error.issues[0];
      throw new RangeError(
        `${file}: record ${i} (${(r as { pairId?: string }).pairId ?? '?'}): ${issue ? `${issue.path.join('.') || '(record)'}: ${issue.message}` : 'invalid'}`,
      );
    }
    out.push(p.data);
    i++;
  }
  return writeJsonl(file, out);
}
