// From the sampler's samples.jsonl to the two STaR datasets and the report. Pure given the
// samples and the build config, so a dataset can be rebuilt with another filter or pairing rule
// without sampling again.
//
// Per (pair, order), a sample is right, wrong or neither:
//   right   — its verdict is the order's right one (filter 'verdict', the paper's rule); with
//             filter 'checked', also right for the right reason by PrefWorld's grader.
//   wrong   — its verdict is the wrong one, or it has no verdict at all (it stopped at
//             end-of-text or the token limit without judging: a failed judgement, as the paper's
//             STaR counts anything but the right answer). Its trained text is the whole completion
//             (an empty one is skipped: there is no text to reject).
//   neither — filter 'checked' only: a right verdict the grader does not pass.
// STaR-SFT keeps the right ones. A rationalized sample (hint given) is kept the same way and
// trained on the CoT prompt WITHOUT the hint.
// STaR-DPO pairs a right one (chosen) with a wrong one (rejected) of the same (pair, order).
// Pairing: `all` = R × W in a seeded shuffle, at most maxPairsPerOrder; `random-one` = one pair.
import { join } from 'node:path';
import { Prng } from '../../engine/prng.js';
import { writeFileAtomic } from '../../engine/atomic.js';
import { permutation } from '../batches.js';
import type { StarBuildConfig } from './config.js';
import { DPO_FILE, REPORT_FILE, SFT_FILE, trainedCompletion, type DpoRecord, type PairSamples, type SftRecord } from './records.js';

export interface StarReport {
  pairs: number;
  /** (pair, order) prompts sampled: 2 per pair. */
  orders: number;
  samples: number;
  /** Sampled completions with no verdict token (each a DPO rejected candidate). */
  invalid: number;
  /** Mean over pairs of the share of its sampled rationales (both orders) whose verdict is right. */
  rightShareMean: number;
  /** Pairs by share of right verdicts, in 10 bins [0, 0.1), ..., [0.9, 1.0]. */
  rightShareHistogram: number[];
  /** Share of pairs with at least one right rationale (sampled; rationalized ones not counted). */
  pairsWithRight: number;
  /** Share of orders with at least one right rationale. */
  ordersWithRight: number;
  /** Whether a checker graded the rationales' own results (PrefWorld); the counts below need it. */
  graded: boolean;
  rationalized: {
    /** Pairs where at least one order took the fallback (no right rationale among its k). */
    pairs: number;
    orders: number;
    /** Hinted samples that ended in the right verdict (those are kept). */
    kept: number;
  };
  sft: {
    /** Rationales kept. */
    kept: number;
    /** Pairs with at least one kept rationale. */
    pairs: number;
    /** Kept rationales whose verdict is right but whose own result is wrong (graded only). */
    rightForWrongReason: number;
    /** Kept rationales the grader does not call right for the right reason (graded, filter 'verdict'). */
    unchecked: number;
    /** Right-verdict rationales neither kept nor rejected because the grader does not pass them (filter 'checked'). */
    droppedUnchecked: number;
    /** Right-verdict completions dropped as identical to one already kept in the same order (dedupe). */
    duplicates: number;
  };
  dpo: {
    /** Preference pairs written. */
    pairs: number;
    /** Source pairs that gave at least one. */
    sourcePairs: number;
    /** Orders with a right rationale but no wrong one (or vice versa): no DPO pair possible. */
    ordersOneSided: number;
    /** DPO pairs whose chosen rationale is right for the wrong reason (graded only). */
    chosenRightForWrongReason: number;
    /** DPO pairs whose rejected completion has no verdict (invalid counted as wrong). */
    rejectedInvalid: number;
  };
  config: StarBuildConfig;
}

export interface StarDatasets {
  sft: SftRecord[];
  dpo: DpoRecord[];
  report: StarReport;
}

/** A stable per-(pair, order) seed for the pairing shuffle. */
function orderSeed(seed: number, pairId: string, order: string): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (const ch of `${pairId}\u0000${order}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

export function buildStarDatasets(records: readonly PairSamples[], c: StarBuildConfig): StarDatasets {
  const sft: SftRecord[] = [];
  const dpo: DpoRecord[] = [];
  const hist = new Array<number>(10).fill(0);
  const r: Omit<StarReport, 'config'> = {
    pairs: records.length,
    orders: 0,
    samples: 0,
    invalid: 0,
    rightShareMean: 0,
    rightShareHistogram: hist,
    pairsWithRight: 0,
    ordersWithRight: 0,
    graded: false,
    rationalized: { pairs: 0, orders: 0, kept: 0 },
    sft: { kept: 0, pairs: 0, rightForWrongReason: 0, unchecked: 0, droppedUnchecked: 0, duplicates: 0 },
    dpo: { pairs: 0, sourcePairs: 0, ordersOneSided: 0, chosenRightForWrongReason: 0, rejectedInvalid: 0 },
  };
  let shareSum = 0;
  for (const p of records) {
    let right = 0;
    let n = 0;
    let keptHere = 0;
    let dpoHere = 0;
    let tookFallback = false;
    for (const o of p.orders) {
      r.orders++;
      n += o.samples.length;
      const rightHere = o.samples.filter((s) => s.correct).length;
      right += rightHere;
      if (rightHere > 0) r.ordersWithRight++;
      if (o.rationalized) {
        tookFallback = true;
        r.rationalized.orders++;
        if (o.rationalized.correct) r.rationalized.kept++;
      }
      // Candidates: sampled rationales, then the rationalized one; each with its trained text.
      const cands = [
        ...o.samples.map((s) => ({ s, rationalized: false })),
        ...(o.rationalized ? [{ s: o.rationalized, rationalized: true }] : []),
      ];
      const seen = new Set<string>();
      const kept: { completion: string; rationalized: boolean; resultRight: boolean | null; checked: boolean | null }[] = [];
      const wrong: { completion: string; invalid: boolean }[] = [];
      for (const { s, rationalized } of cands) {
        if (!rationalized) r.samples++;
        if (s.resultRight !== null) r.graded = true;
        const invalid = s.verdict === null;
        if (invalid && !rationalized) r.invalid++;
        // A hinted sample counts only if right (Zelikman et al. 2022): the fallback runs where no
        // sample was right, so a wrong one has nothing to pair with, and hinted text is off-policy.
        if (rationalized && !s.correct) continue;
        if (c.filter === 'checked' && s.checked === null)
          throw new Error(
            `STaR datasets: filter 'checked' needs graded samples, but pair "${p.pairId}" was sampled without PrefWorld's grader; use filter 'verdict'`,
          );
        const completion = trainedCompletion(s.text);
        // An empty completion (end-of-text at once) has no text for a rejected: TRL's and OpenAI's
        // preference layouts need one, and the dataset is the same for every trainer.
        if (completion === '') continue;
        if (c.dedupe) {
          const key = `${s.correct ? 1 : 0}\u0000${completion}`;
          if (seen.has(key)) {
            r.sft.duplicates += s.correct ? 1 : 0;
            continue;
          }
          seen.add(key);
        }
        if (!s.correct) {
          wrong.push({ completion, invalid });
          continue;
        }
        if (c.filter === 'checked' && s.checked !== true) {
          r.sft.droppedUnchecked++;
          continue;
        }
        kept.push({ completion, rationalized, resultRight: s.resultRight, checked: s.checked });
      }
      kept.forEach((k, i) => {
        sft.push({
          id: `${p.pairId}/${o.order}/${i}`,
          pairId: p.pairId,
          order: o.order,
          prompt: o.prompt,
          completion: k.completion,
          rationalized: k.rationalized,
          resultRight: k.resultRight,
        });
        if (k.resultRight === false) r.sft.rightForWrongReason++;
        if (k.checked === false) r.sft.unchecked++;
      });
      keptHere += kept.length;

      if (kept.length === 0 || wrong.length === 0) {
        if (kept.length + wrong.length > 0) r.dpo.ordersOneSided++;
        continue;
      }
      const rng = new Prng(orderSeed(c.seed, p.pairId, o.order));
      let combos: [number, number][];
      if (c.pairing === 'random-one') combos = [[rng.int(kept.length), rng.int(wrong.length)]];
      else {
        const perm = permutation(kept.length * wrong.length, rng);
        combos = Array.from(perm.subarray(0, Math.min(perm.length, c.maxPairsPerOrder)), (x) => [
          Math.floor(x / wrong.length),
          x % wrong.length,
        ]);
      }
      combos.forEach(([i, j], m) => {
        const k = kept[i]!;
        const w = wrong[j]!;
        dpo.push({
          id: `${p.pairId}/${o.order}/${m}`,
          pairId: p.pairId,
          order: o.order,
          prompt: o.prompt,
          chosen: k.completion,
          rejected: w.completion,
          chosenRationalized: k.rationalized,
          rejectedInvalid: w.invalid,
        });
        if (k.resultRight === false) r.dpo.chosenRightForWrongReason++;
        if (w.invalid) r.dpo.rejectedInvalid++;
      });
      dpoHere += combos.length;
    }
    const share = n > 0 ? right / n : 0;
    shareSum += share;
    hist[Math.min(9, Math.floor(share * 10))]!++;
    if (right > 0) r.pairsWithRight++;
    if (tookFallback) r.rationalized.pairs++;
    if (keptHere > 0) r.sft.pairs++;
    if (dpoHere > 0) r.dpo.sourcePairs++;
  }
  r.sft.kept = sft.length;
  r.dpo.pairs = dpo.length;
  r.rightShareMean = records.length ? shareSum / records.length : 0;
  r.pairsWithRight = records.length ? r.pairsWithRight / records.length : 0;
  r.ordersWithRight = r.orders ? r.ordersWithRight / r.orders : 0;
  return { sft, dpo, report: { ...r, config: c } };
}

const jsonl = (rows: readonly unknown[]): string => rows.map((x) => JSON.stringify(x) + '\n').join('');

/** Writes sft.jsonl, dpo.jsonl and report.json into `dir`, each atomically. */
export function writeStarDatasets(dir: string, d: StarDatasets, extra: Record<string, unknown> = {}): void {
  writeFileAtomic(join(dir, SFT_FILE), jsonl(d.sft));
  writeFileAtomic(join(dir, DPO_FILE), jsonl(d.dpo));
  writeFileAtomic(join(dir, REPORT_FILE), JSON.stringify({ ...d.report, ...extra }, null, 2) + '\n');
}
