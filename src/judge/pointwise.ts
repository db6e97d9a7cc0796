// Pointwise verification after Generative Verifiers (Zhang et al., arXiv 2408.15240): "is this
// answer right?" → P([[YES]]). Direct: renormalised over [[YES]]/[[NO]] at the verdict position.
// CoT: averaged over sampled rationales (weighting "verdict-prob" is the paper's average of
// P(Yes | rationale); "none" is the share of YES votes). An absolute reward: no second answer.
import type { LanguageModel } from '../backends/types.js';
import type { JudgeConfig } from './config.js';
import { fitAnswers } from './context.js';
import { scoreCot, scoreDirect, type CotScore, type DirectScore, type VerdictSpec } from './scoring.js';
import { questionText, type PointTemplate } from './templates.js';
import { VERDICT_NO, VERDICT_YES, parsePointVerdict } from './verdicts.js';
import type { PairInput, PairJudgment } from './pairwise.js';

export const POINT_SPEC: VerdictSpec = {
  pair: [VERDICT_YES, VERDICT_NO],
  parse: (c) => {
    const v = parsePointVerdict(c);
    return v === 'YES' ? 'pos' : v === 'NO' ? 'neg' : 'invalid';
  },
};

export interface PointInput {
  id?: string;
  prompt: string | { role: 'system' | 'user' | 'assistant'; content: string }[];
  answer: string;
}

export interface PointJudgment {
  id: string;
  /** P(the answer is correct). */
  pYes: number;
  verdict: 'YES' | 'NO' | 'tie' | 'invalid';
  direct?: DirectScore;
  cot?: CotScore;
  truncated: boolean;
  approximate: boolean;
}

export async function verifyAnswers(
  model: LanguageModel,
  items: PointInput[],
  template: PointTemplate,
  cfg: JudgeConfig,
): Promise<PointJudgment[]> {
  const mode = cfg.mode;
  const budget = mode === 'cot' ? cfg.maxTokens : 8;
  const rendered = await Promise.all(
    items.map((it, i) =>
      fitAnswers(
        model,
        [it.answer],
        ([a]) => template.render({ question: questionText(it.prompt), answer: a ?? '' }, mode),
        budget,
        cfg.contextPolicy,
        `item ${it.id ?? i}`,
      ),
    ),
  );
  const prompts = rendered.map((r) => r.prompt);
  const label = (p: number): PointJudgment['verdict'] => (p > 0.5 ? 'YES' : p < 0.5 ? 'NO' : 'tie');
  if (mode === 'direct') {
    const s = await scoreDirect(model, prompts, POINT_SPEC.pair);
    return s.map((d, i) => ({
      id: items[i]?.id ?? String(i),
      pYes: d.p,
      verdict: label(d.p),
      direct: d,
      truncated: rendered[i]?.truncated ?? false,
      approximate: d.approximate,
    }));
  }
  const s = await scoreCot(model, prompts, POINT_SPEC, cfg);
  return s.map((c, i) => ({
    id: items[i]?.id ?? String(i),
    pYes: c.p,
    verdict: c.verdict === 'invalid' ? 'invalid' : label(c.p),
    cot: c,
    truncated: rendered[i]?.truncated ?? false,
    approximate: false,
  }));
}

/**
 * Pairs judged pointwise: each answer verified alone, then P(A better) = P(yes | A) / (P(yes | A)
 * + P(yes | B)) (0.5 when both are 0). One "order" per pair: each answer is shown alone, so no
 * position to swap; 'invalid' only when neither answer got a verdict.
 */
export async function judgePairsPointwise(
  model: LanguageModel,
  pairs: PairInput[],
  template: PointTemplate,
  cfg: JudgeConfig,
): Promise<PairJudgment[]> {
  const items = pairs.flatMap((p, i) => [
    { id: `${p.id ?? i}/A`, prompt: p.prompt, answer: p.answerA },
    { id: `${p.id ?? i}/B`, prompt: p.prompt, answer: p.answerB },
  ]);
  const v = await verifyAnswers(model, items, template, cfg);
  return pairs.map((p, i) => {
    const a = v[2 * i]!;
    const b = v[2 * i + 1]!;
    const pA = a.pYes + b.pYes > 0 ? a.pYes / (a.pYes + b.pYes) : 0.5;
    const verdict = pA > 0.5 ? 'A' : pA < 0.5 ? 'B' : 'tie';
    return {
      id: p.id ?? String(i),
      pA,
      verdict: a.verdict === 'invalid' && b.verdict === 'invalid' ? 'invalid' : verdict,
      orders: [{ p: pA, verdict, truncated: a.truncated || b.truncated }],
      approximate: a.approximate || b.approximate,
    };
  });
}
