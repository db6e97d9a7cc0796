// The STaR sampler's files, record by record (zod, so a file written elsewhere, e.g. by a run
// against a remote server, is checked line by line when the recipes train from it).
//
//   samples.jsonl  one line per pair, appended as pairs finish: both orders, k rationales each,
//                  each with its parsed verdict, whether that verdict is right, whether its own
//                  result is right (where a checker exists), and the rationalized sample if any.
//   sft.jsonl      STaR-SFT: (prompt, completion) = CoT prompt without hint, kept rationale + verdict.
//   dpo.jsonl      STaR-DPO: (prompt, chosen, rejected) = a right rationale and a wrong-verdict or
//                  no-verdict one, same prompt.
//
// Orders: 'AB' shows the chosen answer as A (right verdict A); 'BA' shows it as B (right verdict B).
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseJsonlLine } from '../../data/jsonl.js';
import { VERDICT_A, VERDICT_B, type PairLabel } from '../../data/judgeFormat.js';

export const SAMPLES_FILE = 'samples.jsonl';
export const SAMPLE_CONFIG_FILE = 'sample-config.json';
export const SFT_FILE = 'sft.jsonl';
export const DPO_FILE = 'dpo.jsonl';
export const REPORT_FILE = 'report.json';

export type Order = 'AB' | 'BA';
export const ORDERS: readonly Order[] = ['AB', 'BA'];

/** The right verdict for an order: where the chosen answer is shown. */
export const rightVerdict = (order: Order): PairLabel => (order === 'AB' ? 'A' : 'B');

const VerdictSchema = z.enum(['A', 'B']).nullable();

export const StarSampleSchema = z.object({
  /** The completion as generated (everything after the prompt's "Check: "). */
  text: z.string(),
  /** The verdict that counts (the last one written), or null if none. */
  verdict: VerdictSchema,
  /** verdict === the order's right verdict. */
  correct: z.boolean(),
  /** The rationale's own result is right (checker), or null where the data has no checker. */
  resultRight: z.boolean().nullable(),
  /** Right for the right reason (checker): result right, checks consistent with it, verdict follows; null without a checker. */
  checked: z.boolean().nullable().default(null),
  /** Tokens generated. */
  tokens: z.number().int().min(0),
  finish: z.string(),
});
export type StarSample = z.infer<typeof StarSampleSchema>;

export const OrderSamplesSchema = z.object({
  order: z.enum(['AB', 'BA']),
  /** The CoT prompt (no hint) as text: what training conditions on. */
  prompt: z.string(),
  right: z.enum(['A', 'B']),
  samples: z.array(StarSampleSchema),
  /** Rationalization fallback: one sample written with the right verdict as a hint (null: not taken). */
  rationalized: StarSampleSchema.nullable(),
});
export type OrderSamples = z.infer<typeof OrderSamplesSchema>;

export const PairSamplesSchema = z.object({
  pairId: z.string().min(1),
  /** Position of the pair in the input (datasets come out in input order whatever the chunking). */
  index: z.number().int().min(0),
  orders: z.array(OrderSamplesSchema).min(1),
});
export type PairSamples = z.infer<typeof PairSamplesSchema>;

export const SftRecordSchema = z.object({
  id: z.string().min(1),
  pairId: z.string(),
  order: z.enum(['AB', 'BA']),
  prompt: z.string(),
  completion: z.string(),
  rationalized: z.boolean(),
  resultRight: z.boolean().nullable(),
});
export type SftRecord = z.infer<typeof SftRecordSchema>;

export const DpoRecordSchema = z.object({
  id: z.string().min(1),
  pairId: z.string(),
  order: z.enum(['AB', 'BA']),
  prompt: z.string(),
  chosen: z.string(),
  rejected: z.string(),
  chosenRationalized: z.boolean(),
  /** The rejected completion has no verdict (it counts as wrong); absent in files written before. */
  rejectedInvalid: z.boolean().optional(),
});
export type DpoRecord = z.infer<typeof DpoRecordSchema>;

/**
 * What is trained from a completion: the text up to and including the verdict that counts
 * (parseVerdict's: the last one); anything the model wrote after it is not part of the judgement.
 * A completion with no verdict is trained whole (it ended at end-of-text or the token limit):
 * only as a DPO rejected, so what is pushed down is exactly what the model wrote.
 */
export function trainedCompletion(text: string): string {
  const at = Math.max(text.lastIndexOf(VERDICT_A), text.lastIndexOf(VERDICT_B));
  if (at < 0) return text;
  return text.slice(0, at + VERDICT_A.length); // both verdict tokens have the same length
}

/** Reads a dataset file (sft.jsonl / dpo.jsonl) record by record; errors name the file and line. */
export function readRecords<T>(file: string, schema: z.ZodType<T>): T[] {
  if (!existsSync(file)) throw new Error(`${file}: missing (build the STaR datasets first)`);
  const out: T[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() !== '') out.push(parseJsonlLine(line, schema, file, i + 1));
    });
  return out;
}
