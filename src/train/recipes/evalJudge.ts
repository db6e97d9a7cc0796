// Held-out judge accuracy during training, on the recipe's eval pairs in both orders, through
// src/judge's pieces (the compact template, verdict scoring and parsing, the order combination),
// so training measures what `genrm eval` measures. The training loop is synchronous, so the
// model runs through the engine directly instead of judgePairs' async LanguageModel path:
//   direct — P([[A]]) vs P([[B]]) at the end of the direct prompt (GenRM), renormalised over the
//            two (verdictProb): `evalAcc` is the share of (pair, order) items whose right verdict
//            is the likelier; `evalAccPair` combines the two orders as the judge does
//            (combineOrders: P(chosen) = (p1 + 1 - p2) / 2 > 0.5), cancelling position bias;
//            `evalPosBias` = mean P(first slot wins) - 0.5.
//   cot    — greedy rationale + verdict from the CoT prompt on a small slice (generation is the
//            expensive part), parsed as the judge parses (the last verdict counts):
//            `evalCotAcc` right verdicts, `evalCotInvalid` no verdict at all.
// Pairs with an order whose prompt does not fit the context are left out and counted
// (`evalSkipped`, `evalCotSkipped`: pairs).
import type { PreferencePair } from '../../data/pair.js';
import type { Llama } from '../../engine/model/index.js';
import { candidateLogprobs, generate } from '../../engine/sampling/index.js';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import {
  combineOrders,
  labelledFields,
  PAIR_SPEC,
  slotVerdict,
  verdictOf,
  type OrderResult,
  type PairOrder,
} from '../../judge/pairwise.js';
import { directScore, rationaleOf, tally } from '../../judge/scoring.js';
import { compactPair } from '../../judge/templates.js';
import { encodePrompt } from '../../backends/embedded/render.js';
import type { Validation } from '../trainer.js';

const ORDERS: readonly PairOrder[] = [0, 1];

/** Order 1 shows the chosen answer as A (right verdict A), order 2 as B (right verdict B). */
const RIGHT: Record<PairOrder, 'A' | 'B'> = { 0: 'A', 1: 'B' };

/** A labelled pair's encoded judge prompts, order 1 (chosen shown as A) then order 2, as src/judge renders them. */
export function bothOrders(tok: Tokenizer, pair: PreferencePair, mode: 'direct' | 'cot'): number[][] {
  return ORDERS.map((o) => encodePrompt(tok, compactPair(labelledFields(pair, o), mode)));
}

/** Both orders' encoded prompts of every pair that fits with `room` tokens to spare; the rest counted. */
export function fittingPairs(
  tok: Tokenizer,
  model: Llama,
  pairs: readonly PreferencePair[],
  mode: 'direct' | 'cot',
  room: number,
): { pairs: PreferencePair[]; ids: number[][]; skipped: number } {
  const kept: PreferencePair[] = [];
  const ids: number[][] = [];
  for (const pair of pairs) {
    const both = bothOrders(tok, pair, mode);
    if (both.some((p) => p.length + room > model.config.maxSeqLen)) continue;
    kept.push(pair);
    ids.push(...both);
  }
  return { pairs: kept, ids, skipped: pairs.length - kept.length };
}

export function directAccuracy(model: Llama, tok: Tokenizer, pairs: readonly PreferencePair[]): Record<string, number> {
  if (pairs.length === 0) return {};
  const fit = fittingPairs(tok, model, pairs, 'direct', 1);
  const cands = PAIR_SPEC.pair.map((v) => [tok.specialId(v)]);
  const lp = fit.ids.length ? candidateLogprobs(model, fit.ids, cands) : [];
  let right = 0;
  let first = 0;
  let pairRight = 0;
  fit.pairs.forEach((_, i) => {
    const [o1, o2] = ORDERS.map((o): OrderResult => {
      const { p } = directScore(lp[2 * i + o] as [number, number]);
      first += p;
      const verdict = verdictOf(p);
      if (verdict === RIGHT[o]) right++;
      return { p, verdict };
    }) as [OrderResult, OrderResult];
    if (combineOrders(o1, o2).pA > 0.5) pairRight++;
  });
  const n = fit.ids.length;
  return {
    evalAcc: n ? right / n : NaN,
    evalAccPair: fit.pairs.length ? pairRight / fit.pairs.length : NaN,
    evalPosBias: n ? first / n - 0.5 : NaN,
    ...(fit.skipped ? { evalSkipped: fit.skipped } : {}),
  };
}

/** Greedy CoT judging of the first `maxPairs` pairs (both orders); `maxTokens` per rationale. */
export function cotAccuracy(
  model: Llama,
  tok: Tokenizer,
  pairs: readonly PreferencePair[],
  o: { maxPairs: number; maxTokens: number },
): Record<string, number> {
  const slice = pairs.slice(0, o.maxPairs);
  if (slice.length === 0) return {};
  const fit = fittingPairs(tok, model, slice, 'cot', 8);
  if (fit.ids.length === 0) return { evalCotSkipped: fit.skipped };
  // Greedy decoding draws nothing, so both orders decode in one batch with one seed; as in
  // judgePairs (the embedded backend), generation runs to end of text and the last verdict counts.
  const out = generate(model, tok, fit.ids, { temperature: 0, maxTokens: o.maxTokens, seed: 0 });
  let right = 0;
  let invalid = 0;
  out.forEach((samples, k) => {
    const verdict = slotVerdict(
      tally(
        samples.map((s) => rationaleOf(s, PAIR_SPEC)),
        false,
      ).verdict,
    );
    if (verdict === 'invalid') invalid++;
    else if (verdict === RIGHT[(k % 2) as PairOrder]) right++;
  });
  const n = fit.ids.length;
  return { evalCotAcc: right / n, evalCotInvalid: invalid / n, ...(fit.skipped ? { evalCotSkipped: fit.skipped } : {}) };
}

/**
 * Early stopping on the held-out pairs' greedy CoT verdict error ("val/cotError", lower is
 * better), for CoT judges trained on their own samples (rationalize, star-sft, grpo); `who`
 * names the recipe in the error when no pair fits the context.
 */
export function cotErrorValidation(
  model: Llama,
  tok: Tokenizer,
  pairs: readonly PreferencePair[],
  maxTokens: number,
  who: string,
): Validation {
  return {
    metric: 'val/cotError',
    run: () => {
      const acc = cotAccuracy(model, tok, pairs, { maxPairs: pairs.length, maxTokens });
      if (acc.evalCotAcc === undefined)
        throw new Error(`${who}: none of the ${pairs.length} held-out pairs fits the context for a CoT validation`);
      return { 'val/cotError': 1 - acc.evalCotAcc, 'val/cotAcc': acc.evalCotAcc, 'val/cotInvalid': acc.evalCotInvalid ?? 0 };
    },
  };
}
