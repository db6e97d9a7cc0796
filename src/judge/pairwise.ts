// Pairwise judging: "which of A and B is better, and how sure?" for a batch of pairs.
// Both orders are judged when `swap` is on: order 1 shows (A, B), order 2 shows (B, A). With
// p1 = P(first shown wins) in order 1 and p2 the same in order 2, P(A better) = (p1 + (1 - p2)) / 2:
// a model that always prefers the first slot gets p1 = p2 = 1 and so 0.5 — position bias cancels.
// positionBias = (p1 + p2) / 2 - 0.5 measures it (0: none, +0.5: always the first slot).
//
// The pure pieces (orderFields, orderSeed, chosenShownFirst, combineOrders) are what every judging
// path shares: judgePairs here (eval, `genrm judge`, the servers), the STaR sampler and the
// in-training evaluation (src/train/), so a change to the judge format reaches all of them.
import { createHash } from 'node:crypto';
import type { LanguageModel, Prompt } from '../backends/types.js';
import type { PreferencePair } from '../data/pair.js';
import type { JudgeConfig } from './config.js';
import { fitAnswers } from './context.js';
import { scoreCot, scoreDirect, type CotScore, type DirectScore, type VerdictSpec } from './scoring.js';
import { questionText, type PairFields, type PairTemplate, type QuestionPrompt } from './templates.js';
import { VERDICT_A, VERDICT_B, parsePairVerdict } from './verdicts.js';

export const PAIR_SPEC: VerdictSpec = {
  pair: [VERDICT_A, VERDICT_B],
  parse: (c) => {
    const v = parsePairVerdict(c);
    return v === 'A' ? 'pos' : v === 'B' ? 'neg' : 'invalid';
  },
};

export interface PairInput {
  id?: string;
  prompt: string | { role: 'system' | 'user' | 'assistant'; content: string }[];
  answerA: string;
  answerB: string;
}

/** A judgment's verdict in slot terms (A = the answer shown first): a tie only from a direct judge's P of exactly 0.5. */
export const SLOT_VERDICTS = ['A', 'B', 'tie', 'invalid'] as const;
export type SlotVerdict = (typeof SLOT_VERDICTS)[number];

/** One order's judgment, in the terms of that order's slots (A = first shown). */
export interface OrderJudgment {
  /** P(first shown is better). */
  p: number;
  verdict: SlotVerdict;
  direct?: DirectScore;
  cot?: CotScore;
  truncated: boolean;
}

export interface PairJudgment {
  id: string;
  /** P(answer A is better), both orders combined when swapped. */
  pA: number;
  /** pA > 0.5: A; < 0.5: B; exactly 0.5: tie; invalid when no order produced a verdict. */
  verdict: SlotVerdict;
  /** Order 1 = (A, B); order 2 = (B, A), in its own slot terms. */
  orders: [OrderJudgment] | [OrderJudgment, OrderJudgment];
  /** The two orders' verdicts point at different answers (swap only). */
  disagree?: boolean;
  /** (p1 + p2) / 2 - 0.5: the judge's lean toward the first slot (swap only). */
  positionBias?: number;
  /** Some verdict log-prob was only bounded (outside the server's top-k). */
  approximate: boolean;
}

/** A scored verdict in an order's slot terms: positive = the first shown (A), negative = B. */
export const slotVerdict = (v: 'pos' | 'neg' | 'tie' | 'invalid'): SlotVerdict => (v === 'pos' ? 'A' : v === 'neg' ? 'B' : v);

/** pA > 0.5: A; < 0.5: B; exactly 0.5: tie. */
export function verdictOf(p: number): SlotVerdict {
  return p > 0.5 ? 'A' : p < 0.5 ? 'B' : 'tie';
}

/** 0: order 1, the pair as given (A, B); 1: order 2, swapped (B, A). */
export type PairOrder = 0 | 1;

/**
 * The template fields of a pair in one order: order 1 shows (A, B), order 2 (B, A). `hint`
 * (rationalize mode) is the verdict in that order's own slot terms.
 */
export function orderFields(
  pair: { prompt: QuestionPrompt; answerA: string; answerB: string },
  order: PairOrder,
  hint?: 'A' | 'B',
): PairFields {
  const question = questionText(pair.prompt);
  const [answerA, answerB] = order === 0 ? [pair.answerA, pair.answerB] : [pair.answerB, pair.answerA];
  return hint === undefined ? { question, answerA, answerB } : { question, answerA, answerB, hint };
}

/** A labelled pair's template fields in one order: order 1 shows the chosen answer as A, order 2 as B. */
export function labelledFields(p: Pick<PreferencePair, 'prompt' | 'chosen' | 'rejected'>, order: PairOrder, hint?: 'A' | 'B'): PairFields {
  return orderFields({ prompt: p.prompt as QuestionPrompt, answerA: p.chosen, answerB: p.rejected }, order, hint);
}

/** The sampling seed of an order: order 1 samples with `seed`, order 2 with seed + votes, so swapped votes are fresh draws. */
export function orderSeed(seed: number, votes: number, order: PairOrder): number {
  return order === 0 ? seed : seed + votes;
}

/**
 * Which answer a labelled pair's order 1 shows as A: the chosen one when this is true. Fixed per
 * (seed, id), so neither the chosen-first nor the chosen-second order is always the one sampled
 * with the base seed. Used by `genrm eval`/`repro` and the STaR sampler alike.
 */
export function chosenShownFirst(id: string, seed: number): boolean {
  return (createHash('sha256').update(`${seed}:${id}`).digest()[0]! & 1) === 0;
}

/** A labelled pair as the judge is shown it for `seed`: the chosen answer as A when chosenShownFirst says so, else as B. */
export function shownPair(p: Pick<PreferencePair, 'id' | 'prompt' | 'chosen' | 'rejected'>, seed: number): PairInput {
  const first = chosenShownFirst(p.id, seed);
  return {
    id: p.id,
    prompt: p.prompt as PairInput['prompt'],
    answerA: first ? p.chosen : p.rejected,
    answerB: first ? p.rejected : p.chosen,
  };
}

/** One order's result as the combination needs it: P(first shown wins) and the slot verdict. */
export type OrderResult = Pick<OrderJudgment, 'p' | 'verdict'>;

/**
 * Both orders into one judgment of (A, B): pA = (p1 + (1 - p2)) / 2, so a lean toward the first
 * slot cancels; invalid only when neither order produced a verdict.
 */
export function combineOrders(
  o1: OrderResult,
  o2: OrderResult,
): { pA: number; verdict: SlotVerdict; disagree: boolean; positionBias: number } {
  const pA = (o1.p + (1 - o2.p)) / 2;
  const bothInvalid = o1.verdict === 'invalid' && o2.verdict === 'invalid';
  // Map order 2's slot verdict back to the original answers before comparing.
  const o2orig: SlotVerdict = o2.verdict === 'A' ? 'B' : o2.verdict === 'B' ? 'A' : o2.verdict;
  return { pA, verdict: bothInvalid ? 'invalid' : verdictOf(pA), disagree: o1.verdict !== o2orig, positionBias: (o1.p + o2.p) / 2 - 0.5 };
}

/** Judge a batch of pairs with one template; all prompts go to the backend together. */
export async function judgePairs(
  model: LanguageModel,
  pairs: PairInput[],
  template: PairTemplate,
  cfg: JudgeConfig,
): Promise<PairJudgment[]> {
  const budget = cfg.mode === 'cot' ? cfg.maxTokens : 8; // direct: room for the verdict tokens
  const orders = cfg.swap ? 2 : 1;
  // prompts[o * pairs.length + i]: order o of pair i
  const rendered = await Promise.all(
    Array.from({ length: orders * pairs.length }, (_, k) => {
      const o = Math.floor(k / pairs.length) as PairOrder;
      const pair = pairs[k % pairs.length] as PairInput;
      const f = orderFields(pair, o);
      const item = `pair ${pair.id ?? k % pairs.length}${o === 1 ? ' (swapped)' : ''}`;
      const mode = cfg.mode;
      return fitAnswers(
        model,
        [f.answerA, f.answerB],
        ([a, b]) => template.render({ ...f, answerA: a ?? '', answerB: b ?? '' }, mode),
        budget,
        cfg.contextPolicy,
        item,
      );
    }),
  );
  const prompts: Prompt[] = rendered.map((r) => r.prompt);

  let perOrder: OrderJudgment[];
  if (cfg.mode === 'direct') {
    const s = await scoreDirect(model, prompts, PAIR_SPEC.pair);
    perOrder = s.map((d, k) => ({ p: d.p, verdict: verdictOf(d.p), direct: d, truncated: rendered[k]?.truncated ?? false }));
  } else {
    // Each order samples with its own seeds, so swapped votes are fresh draws, not replays.
    const [first, second] = await Promise.all([
      scoreCot(model, prompts.slice(0, pairs.length), PAIR_SPEC, { ...cfg, seed: orderSeed(cfg.seed, cfg.votes, 0) }),
      orders === 2
        ? scoreCot(model, prompts.slice(pairs.length), PAIR_SPEC, { ...cfg, seed: orderSeed(cfg.seed, cfg.votes, 1) })
        : Promise.resolve([]),
    ]);
    perOrder = [...first, ...second].map((c, k) => ({
      p: c.p,
      verdict: slotVerdict(c.verdict),
      cot: c,
      truncated: rendered[k]?.truncated ?? false,
    }));
  }

  return pairs.map((pair, i) => {
    const o1 = perOrder[i] as OrderJudgment;
    const approx1 = o1.direct?.approximate ?? false;
    const id = pair.id ?? String(i);
    if (orders === 1) return { id, pA: o1.p, verdict: o1.verdict, orders: [o1], approximate: approx1 };
    const o2 = perOrder[pairs.length + i] as OrderJudgment;
    return { id, ...combineOrders(o1, o2), orders: [o1, o2], approximate: approx1 || (o2.direct?.approximate ?? false) };
  });
}
