// From the sampler's samples.jsonl to the two STaR datasets and the report. Pure given the
// samples and the build config, so a dataset can be rebuilt with another filter or pairing rule
// without sampling again.
//
// STaR-SFT keeps, per (pair, order), every rationale whose parsed verdict is the order's right
// one (the paper's rule); with `requireResultRight`, also only those whose own result the checker
// accepts (where graded). A rationalized sample (hint given) is kept the same way and trained on
// the CoT prompt WITHOUT the hint.
// STaR-DPO pairs, per (pair, order), a kept (right) rationale as chosen with a wrong-verdict one
// as rejected; completions with no verdict are in neither (they are not "a wrong verdict").
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
  /** Completions with no verdict token. */
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
    /** Right-verdict rationales dropped because their result was wrong (requireResultRight). */
    droppedForResult: number;
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
    sft: { kept: 0, pairs: 0, rightForWrongReason: 0, droppedForResult: 0, duplicates: 0 },
    dpo: { pairs: 0, sourcePairs: 0, ordersOneSided: 0, chosenRightForWrongReason: 0 },
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
      const cands = [...o.samples.map((s) => ({ s, rationalized: false })), ...(o.rationalized ? [{ s: o.rationalized, rationalized: true }] : [])];
      const seen = new Set<string>();
      const kept: { completion: string; rationalized: boolean; resultRight: boolean | null }[] = [];
      const wrong: string[] = [];
      for (const { s, rationalized } of cands) {
        if (!rationalized) r.samples++;
        if (s.resultRight !== null) r.graded = true;
        const completion = trainedCompletion(s.text);
        if (completion === null) {
          if (!rationalized) r.invalid++;
          continue;
        }
        if (c.dedupe) {
          const key = `${s.correct ? 1 : 0}\u0000${completion}`;
          if (seen.has(key)) {
            r.sft.duplicates += s.correct ? 1 : 0;
            continue;
          }
          seen.add(key);
        }
        if (!s.correct) {
          wrong.push(completion);
          continue;
        }
        if (c.requireResultRight && s.resultRight === false) {
          r.sft.droppedForResult++;
          continue;
        }
        kept.push({ completion, rationalized, resultRight: s.resultRight });
      }
      kept.forEach((k, i) => {
        sft.push({ id: `${p.pairId}/${o.order}/${i}`, pairId: p.pairId, order: o.order, prompt: o.prompt, completion: k.completion, rationalized: k.rationalized, resultRight: k.resultRight });
        if (k.resultRight === false) r.sft.rightForWrongReason++;
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
        combos = Array.from(perm.subarray(0, Math.min(perm.length, c.maxPairsPerOrder)), (x) => [Math.floor(x / wrong.length), x % wrong.length]);
      }
      combos.forEach(([i, j], m) => {
        const k = kept[i]!;
        dpo.push({ id: `${p.pairId}/${o.order}/${m}`, pairId: p.pairId, order: o.order, prompt: o.prompt, chosen: k.completion, rejected: wrong[j]!, chosenRationalized: k.rationalized });
        if (k.resultRight === false) r.dpo.chosenRightForWrongReason++;
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
