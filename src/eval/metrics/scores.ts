// Per-pair scores: how much credit one record earns. RewardBench's rule throughout: a verdict for
// the chosen answer scores 1, for the rejected answer 0, and a tie or an invalid verdict 0.5
// (a coin flip's expected score, so a judge cannot gain by refusing to answer).
import type { JudgeRecord, OrderRecord, SlotVerdict } from '../records.js';

export type OrderName = 'chosenFirst' | 'chosenSecond';
export const ORDER_NAMES: readonly OrderName[] = ['chosenFirst', 'chosenSecond'];

/** A slot verdict in chosen terms: +1 chosen, -1 rejected, 0 tie/invalid. */
export function towardChosen(v: SlotVerdict, order: OrderName): 1 | -1 | 0 {
  if (v !== 'A' && v !== 'B') return 0;
  const chosenSlot = order === 'chosenFirst' ? 'A' : 'B';
  return v === chosenSlot ? 1 : -1;
}

/** Score of a probability of the chosen answer: 1 above 0.5, 0 below, 0.5 at exactly 0.5. */
export function scoreOfP(p: number): number {
  return p > 0.5 ? 1 : p < 0.5 ? 0 : 0.5;
}

/** Share of the first k valid votes of one order that name the chosen answer; 0.5 when none is valid. */
export function chosenShare(o: OrderRecord, order: OrderName, k = o.verdicts.length): number {
  let pro = 0;
  let valid = 0;
  for (const v of o.verdicts.slice(0, k)) {
    const t = towardChosen(v, order);
    if (t !== 0) {
      valid++;
      if (t > 0) pro++;
    }
  }
  return valid === 0 ? 0.5 : pro / valid;
}

export function ordersOf(r: JudgeRecord): [OrderName, OrderRecord][] {
  const out: [OrderName, OrderRecord][] = [];
  for (const name of ORDER_NAMES) {
    const o = r[name];
    if (o) out.push([name, o]);
  }
  return out;
}

/** Samples per order (the smallest over the orders present): the largest k maj@k can use. */
export function samplesOf(r: JudgeRecord): number {
  return Math.min(...ordersOf(r).map(([, o]) => o.verdicts.length));
}

/**
 * maj@k: the first k votes of each order, combined as the judge combines orders (the mean of the
 * orders' chosen shares, src/judge/pairwise.ts with weighting "none"); score 1/0, 0.5 at an even split.
 */
export function majScore(r: JudgeRecord, k: number): number {
  const orders = ordersOf(r);
  const share = orders.reduce((s, [name, o]) => s + chosenShare(o, name, k), 0) / orders.length;
  return scoreOfP(share);
}

/** One order's own score: its probability when it has one, else the majority of all its votes. */
export function orderScore(o: OrderRecord, order: OrderName): number {
  return o.pChosen !== undefined ? scoreOfP(o.pChosen) : scoreOfP(chosenShare(o, order));
}

/** The headline score: the judge's combined probability when recorded, else maj@(all samples). */
export function pairScore(r: JudgeRecord): number {
  return r.pChosen !== undefined ? scoreOfP(r.pChosen) : majScore(r, samplesOf(r));
}

/** Which answer one order's verdict points at: +1 chosen, -1 rejected, 0 neither. */
export function orderDirection(o: OrderRecord, order: OrderName): 1 | -1 | 0 {
  const s = orderScore(o, order);
  return s === 1 ? 1 : s === 0 ? -1 : 0;
}
