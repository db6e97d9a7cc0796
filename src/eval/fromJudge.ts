// Adapters from what src/judge and the scalar baselines return to JudgeRecords.
//
// The judge is asked about (answerA, answerB); the caller knows which one is the chosen answer.
// With swap, judgePairs' order 1 shows (A, B) and order 2 shows (B, A) (src/judge/pairwise.ts),
// so order 1 is `chosenFirst` exactly when chosen = A.
import type { PreferencePair } from '../data/pair.js';
import { combineOrders, verdictOf, type OrderJudgment, type PairJudgment } from '../judge/pairwise.js';
import { sigmoid } from '../util/math.js';
import type { RecordMode, JudgeRecord, OrderRecord, SlotVerdict } from './records.js';
import { JudgeRecordSchema } from './records.js';

export interface RecordOptions {
  method: string;
  iteration?: number;
  /** Which slot the chosen answer had in the judge's order 1. */
  chosenSlot: 'A' | 'B';
  /** Keep the rationale texts in the record (off by default: files grow ~1 kB per sample). */
  keepRationales?: boolean;
  /**
   * PrefWorld: grades a rationale: whether its own result is right (a boolean), or the grade
   * (gradeRationale(task, text)), whose restated / checksConsistent are recorded too.
   */
  gradeRationale?: (text: string) => boolean | RationaleFlags;
}

/** The parts of PrefWorld's RationaleGrade a record keeps. */
export interface RationaleFlags {
  resultRight: boolean;
  restated?: boolean;
  checksConsistent?: boolean;
}

/** The pair's own fields every record repeats, so a record stands alone. */
export function pairFields(pair: PreferencePair): Pick<JudgeRecord, 'pairId' | 'split' | 'category' | 'subset' | 'shift' | 'tie'> {
  const shift = pair.meta?.['shift'];
  return {
    pairId: pair.id,
    ...(pair.split !== undefined ? { split: pair.split } : {}),
    ...(pair.category !== undefined ? { category: pair.category } : {}),
    ...(pair.subset !== undefined ? { subset: pair.subset } : {}),
    shift: Array.isArray(shift) ? shift.filter((s): s is string => typeof s === 'string') : [],
    ...(pair.tie ? { tie: true } : {}),
  };
}

/** A verdict-prob CoT score or a direct score is a probability; a plain vote share is not reported as one. */
function hasProbability(o: OrderJudgment): boolean {
  if (o.direct) return true;
  return !!o.cot && o.cot.rationales.some((r) => r.p !== undefined);
}

function orderRecord(o: OrderJudgment, chosenFirst: boolean, opts: RecordOptions): OrderRecord {
  const rec: OrderRecord = { verdicts: [] };
  if (o.cot) {
    rec.verdicts = o.cot.rationales.map((r): SlotVerdict => (r.verdict === 'pos' ? 'A' : r.verdict === 'neg' ? 'B' : 'invalid'));
    if (opts.gradeRationale) {
      const grade = opts.gradeRationale;
      const gs = o.cot.rationales.map((r): RationaleFlags => {
        const g = grade(r.text);
        return typeof g === 'boolean' ? { resultRight: g } : g;
      });
      rec.rationaleRight = gs.map((g) => g.resultRight);
      if (gs.every((g) => g.restated !== undefined)) rec.restated = gs.map((g) => g.restated!);
      if (gs.every((g) => g.checksConsistent !== undefined)) rec.checksConsistent = gs.map((g) => g.checksConsistent!);
    }
    if (opts.keepRationales) rec.rationales = o.cot.rationales.map((r) => r.text);
  } else {
    rec.verdicts = [o.verdict];
  }
  if (hasProbability(o)) rec.pChosen = chosenFirst ? o.p : 1 - o.p;
  if (o.truncated) rec.truncated = true;
  return rec;
}

/** A pairwise judgment (direct or CoT, one or both orders) as a record. */
export function recordFromJudgment(pair: PreferencePair, j: PairJudgment, opts: RecordOptions): JudgeRecord {
  const mode: RecordMode = j.orders[0].cot ? 'cot' : 'direct';
  const chosenIsA = opts.chosenSlot === 'A';
  const rec: Record<string, unknown> = { v: 1, ...pairFields(pair), method: opts.method, mode };
  if (opts.iteration !== undefined) rec['iteration'] = opts.iteration;
  const [o1, o2] = j.orders;
  rec[chosenIsA ? 'chosenFirst' : 'chosenSecond'] = orderRecord(o1, chosenIsA, opts);
  if (o2) rec[chosenIsA ? 'chosenSecond' : 'chosenFirst'] = orderRecord(o2, !chosenIsA, opts);
  if (j.orders.every(hasProbability)) rec['pChosen'] = chosenIsA ? j.pA : 1 - j.pA;
  return JudgeRecordSchema.parse(rec);
}

/** A scalar reward model (BT): r(chosen), r(rejected); P(chosen) = sigmoid(difference), the BT model. */
export function recordFromScores(
  pair: PreferencePair,
  scores: { chosen: number; rejected: number },
  opts: Omit<RecordOptions, 'chosenSlot'>,
): JudgeRecord {
  const d = scores.chosen - scores.rejected;
  const p = sigmoid(d);
  const verdict: SlotVerdict = d > 0 ? 'A' : d < 0 ? 'B' : 'tie';
  // Order-free: recorded as the chosen-first order so verdict 'A' means "chosen".
  return JudgeRecordSchema.parse({
    v: 1,
    ...pairFields(pair),
    method: opts.method,
    mode: 'scalar',
    ...(opts.iteration !== undefined ? { iteration: opts.iteration } : {}),
    chosenFirst: { verdicts: [verdict], pChosen: p },
    pChosen: p,
    scores,
  });
}

/**
 * A pairwise classifier (PairRM-style) that returns P(first shown better) per order: pFirst[0] with
 * the chosen answer first, pFirst[1] (optional) with it second. Combined like judgePairs does.
 */
export function recordFromOrderProbs(
  pair: PreferencePair,
  pFirst: [number] | [number, number],
  opts: Omit<RecordOptions, 'chosenSlot'>,
): JudgeRecord {
  const v = (p: number): SlotVerdict => verdictOf(p);
  const [p1, p2] = pFirst;
  const pChosen = p2 === undefined ? p1 : combineOrders({ p: p1, verdict: v(p1) }, { p: p2, verdict: v(p2) }).pA;
  return JudgeRecordSchema.parse({
    v: 1,
    ...pairFields(pair),
    method: opts.method,
    mode: 'direct',
    ...(opts.iteration !== undefined ? { iteration: opts.iteration } : {}),
    chosenFirst: { verdicts: [v(p1)], pChosen: p1 },
    ...(p2 !== undefined ? { chosenSecond: { verdicts: [v(p2)], pChosen: 1 - p2 } } : {}),
    pChosen,
  });
}

/**
 * A pointwise verifier judged each answer alone (P(YES) each, src/judge/pointwise.ts): the pair's
 * verdict is the answer with the higher P(YES). No P(chosen) is recorded: two independent
 * P(YES)s do not make a calibrated pairwise probability.
 */
export function recordFromPointwise(
  pair: PreferencePair,
  pYes: { chosen: number; rejected: number },
  opts: Omit<RecordOptions, 'chosenSlot'>,
): JudgeRecord {
  const verdict: SlotVerdict = pYes.chosen > pYes.rejected ? 'A' : pYes.chosen < pYes.rejected ? 'B' : 'tie';
  return JudgeRecordSchema.parse({
    v: 1,
    ...pairFields(pair),
    method: opts.method,
    mode: 'pointwise',
    ...(opts.iteration !== undefined ? { iteration: opts.iteration } : {}),
    chosenFirst: { verdicts: [verdict] },
    scores: pYes,
  });
}
