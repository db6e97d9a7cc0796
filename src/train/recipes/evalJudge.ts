// Held-out judge accuracy during training, on the recipe's eval pairs in both orders:
//   direct — P([[A]]) vs P([[B]]) at the end of the direct prompt (GenRM): `evalAcc` is the share
//            of (pair, order) items whose right verdict is the likelier; `evalAccPair` combines
//            the two orders as the judge does (P(chosen) = (p1 + 1 - p2) / 2 > 0.5), cancelling
//            position bias; `evalPosBias` = mean P(first slot wins) - 0.5.
//   cot    — greedy rationale + verdict from the CoT prompt on a small slice (generation is the
//            expensive part): `evalCotAcc` right verdicts, `evalCotInvalid` no verdict at all.
// Items whose prompt does not fit the context are left out and counted (`evalSkipped`).
import { parseVerdict, VERDICT_A, VERDICT_B } from '../../data/judgeFormat.js';
import type { PreferencePair } from '../../data/pair.js';
import type { Llama } from '../../engine/model/index.js';
import { candidateLogprobs, generate } from '../../engine/sampling/index.js';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import { bothOrders, judgePrompt, type OrderedPair } from './data.js';
import { encodePrompt } from '../../backends/embedded/render.js';

/** Ordered items whose encoded prompt leaves `room` tokens of context. */
function fitting(tok: Tokenizer, model: Llama, items: OrderedPair[], mode: 'direct' | 'cot', room: number): { items: OrderedPair[]; ids: number[][]; skipped: number } {
  const out: OrderedPair[] = [];
  const ids: number[][] = [];
  for (const op of items) {
    const p = encodePrompt(tok, judgePrompt(op, mode));
    if (p.length + room > model.config.maxSeqLen) continue;
    out.push(op);
    ids.push(p);
  }
  return { items: out, ids, skipped: items.length - out.length };
}

export function directAccuracy(model: Llama, tok: Tokenizer, pairs: readonly PreferencePair[]): Record<string, number> {
  if (pairs.length === 0) return {};
  const { items, ids, skipped } = fitting(tok, model, bothOrders(pairs), 'direct', 1);
  const cands = [[tok.specialId(VERDICT_A)], [tok.specialId(VERDICT_B)]];
  const lp = items.length ? candidateLogprobs(model, ids, cands) : [];
  let right = 0;
  let first = 0;
  // P(chosen wins) per pair id, from each order (normalised over the two verdicts).
  const perPair = new Map<string, number[]>();
  items.forEach((op, i) => {
    const [a, b] = lp[i] as [number, number];
    const pA = 1 / (1 + Math.exp(b - a));
    first += pA;
    if ((op.verdict === 'A' ? a > b : b > a)) right++;
    const pChosen = op.chosenFirst ? pA : 1 - pA;
    const list = perPair.get(op.pair.id) ?? [];
    list.push(pChosen);
    perPair.set(op.pair.id, list);
  });
  let pairRight = 0;
  for (const ps of perPair.values()) if (ps.reduce((x, y) => x + y, 0) / ps.length > 0.5) pairRight++;
  const n = items.length;
  return {
    evalAcc: n ? right / n : NaN,
    evalAccPair: perPair.size ? pairRight / perPair.size : NaN,
    evalPosBias: n ? first / n - 0.5 : NaN,
    ...(skipped ? { evalSkipped: skipped } : {}),
  };
}

/** Greedy CoT judging of the first `maxPairs` pairs (both orders); `maxTokens` per rationale. */
export function cotAccuracy(model: Llama, tok: Tokenizer, pairs: readonly PreferencePair[], o: { maxPairs: number; maxTokens: number }): Record<string, number> {
  const slice = pairs.slice(0, o.maxPairs);
  if (slice.length === 0) return {};
  const { items, ids, skipped } = fitting(tok, model, bothOrders(slice), 'cot', 8);
  if (items.length === 0) return { evalCotSkipped: skipped };
  const out = generate(model, tok, ids, { temperature: 0, maxTokens: o.maxTokens, seed: 0, stopTokens: [tok.eotId, tok.specialId(VERDICT_A), tok.specialId(VERDICT_B)] });
  let right = 0;
  let invalid = 0;
  items.forEach((op, i) => {
    const s = out[i]![0]!;
    const v = parseVerdict(tok.decode(s.tokens));
    if (v === null) invalid++;
    else if (v === op.verdict) right++;
  });
  return { evalCotAcc: right / items.length, evalCotInvalid: invalid / items.length, ...(skipped ? { evalCotSkipped: skipped } : {}) };
}
