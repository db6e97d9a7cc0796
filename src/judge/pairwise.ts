// Pairwise judging: "which of A and B is better, and how sure?" for a batch of pairs.
// Both orders are judged when `swap` is on: order 1 shows (A, B), order 2 shows (B, A). With
// p1 = P(first shown wins) in order 1 and p2 the same in order 2, P(A better) = (p1 + (1 - p2)) / 2:
// a model that always prefers the first slot gets p1 = p2 = 1 and so 0.5 — position bias cancels.
// positionBias = (p1 + p2) / 2 - 0.5 measures it (0: none, +0.5: always the first slot).
import type { LanguageModel, Prompt } from '../backends/types.js';
import type { JudgeConfig } from './config.js';
import { fitAnswers } from './context.js';
import { scoreCot, scoreDirect, type CotScore, type DirectScore, type VerdictSpec } from './scoring.js';
import { questionText, type PairTemplate } from './templates.js';
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

export type Verdict = 'A' | 'B' | 'tie' | 'invalid';

/** One order's judgment, in the terms of that order's slots (A = first shown). */
export interface OrderJudgment {
  /** P(first shown is better). */
  p: number;
  verdict: Verdict;
  direct?: DirectScore;
  cot?: CotScore;
  truncated: boolean;
}

export interface PairJudgment {
  id: string;
  /** P(answer A is better), both orders combined when swapped. */
  pA: number;
  /** pA > 0.5: A; < 0.5: B; exactly 0.5: tie; invalid when no order produced a verdict. */
  verdict: Verdict;
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
export const slotVerdict = (v: 'pos' | 'neg' | 'tie' | 'invalid'): Verdict => (v === 'pos' ? 'A' : v === 'neg' ? 'B' : v);

function verdictOf(p: number): Verdict {
  return p > 0.5 ? 'A' : p < 0.5 ? 'B' : 'tie';
}

/** Judge a batch of pairs with one template; all prompts go to the backend together. */
export async function judgePairs(model: LanguageModel, pairs: PairInput[], template: PairTemplate, cfg: JudgeConfig): Promise<PairJudgment[]> {
  const budget = cfg.mode === 'cot' ? cfg.maxTokens : 8; // direct: room for the verdict tokens
  const orders = cfg.swap ? 2 : 1;
  // prompts[o * pairs.length + i]: order o of pair i
  const rendered = await Promise.all(
    Array.from({ length: orders * pairs.length }, (_, k) => {
      const o = Math.floor(k / pairs.length);
      const pair = pairs[k % pairs.length] as PairInput;
      const question = questionText(pair.prompt);
      const item = `pair ${pair.id ?? k % pairs.length}${o === 1 ? ' (swapped)' : ''}`;
      const shown = o === 0 ? [pair.answerA, pair.answerB] : [pair.answerB, pair.answerA];
      const mode = cfg.mode;
      return fitAnswers(model, shown, ([a, b]) => template.render({ question, answerA: a ?? '', answerB: b ?? '' }, mode), budget, cfg.contextPolicy, item);
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
      scoreCot(model, prompts.slice(0, pairs.length), PAIR_SPEC, { ...cfg, seed: cfg.seed }),
      orders === 2 ? scoreCot(model, prompts.slice(pairs.length), PAIR_SPEC, { ...cfg, seed: cfg.seed + cfg.votes }) : Promise.resolve([]),
    ]);
    perOrder = [...first, ...second].map((c, k) => ({ p: c.p, verdict: slotVerdict(c.verdict), cot: c, truncated: rendered[k]?.truncated ?? false }));
  }

  return pairs.map((pair, i) => {
    const o1 = perOrder[i] as OrderJudgment;
    const approx1 = o1.direct?.approximate ?? false;
    const id = pair.id ?? String(i);
    if (orders === 1) return { id, pA: o1.p, verdict: o1.verdict, orders: [o1], approximate: approx1 };
    const o2 = perOrder[pairs.length + i] as OrderJudgment;
    const pA = (o1.p + (1 - o2.p)) / 2;
    const bothInvalid = o1.verdict === 'invalid' && o2.verdict === 'invalid';
    // Map order 2's slot verdict back to the original answers before comparing.
    const o2orig: Verdict = o2.verdict === 'A' ? 'B' : o2.verdict === 'B' ? 'A' : o2.verdict;
    return {
      id,
      pA,
      verdict: bothInvalid ? 'invalid' : verdictOf(pA),
      orders: [o1, o2],
      disagree: o1.verdict !== o2orig,
      positionBias: (o1.p + o2.p) / 2 - 0.5,
      approximate: approx1 || (o2.direct?.approximate ?? false),
    };
  });
}
