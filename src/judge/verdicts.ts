// Verdict indicators and the parser that reads them from a judge's own completion.
//
// The indicator strings are the judge format's (docs/ARCHITECTURE.md, src/data/judgeFormat.ts):
// [[A]] / [[B]] pairwise, [[YES]] / [[NO]] pointwise. The parser here is that module's, extended
// to what instruction LLMs write ("[[ a ]]").
import { parsePointVerdict as parseCompactPointVerdict, parseVerdict, type PairLabel, type PointLabel } from '../data/judgeFormat.js';
export { VERDICT_A, VERDICT_B, VERDICT_YES, VERDICT_NO } from '../data/judgeFormat.js';

/** A verdict read from a completion: its label, or 'invalid' when it holds none. */
export type PairVerdict = PairLabel | 'invalid';
export type PointVerdict = PointLabel | 'invalid';

// Tolerant of what instruction LLMs write ("[[ a ]]"), strict about the double brackets so a
// stray "A" or "[A]" in prose is not read as a verdict. Such forms are rewritten to the judge
// format's own indicators, and the judge format's parser (the last indicator counts) reads them:
// one rule, in one place.
const PAIR_RE = /\[\[\s*(A|B)\s*\]\]/gi;
const POINT_RE = /\[\[\s*(YES|NO)\s*\]\]/gi;

/** The completion with every lenient indicator written in the judge format's exact form. */
function canonical(re: RegExp, completion: string): string {
  return completion.replace(re, (_m, v: string) => `[[${v.toUpperCase()}]]`);
}

/**
 * The verdict of a pairwise judge completion: the LAST indicator counts (a rationale may quote
 * an indicator while weighing the answers; its conclusion comes last). No indicator: 'invalid'.
 * Only the completion is parsed, never the prompt, so text inside the answers cannot vote.
 */
export function parsePairVerdict(completion: string): PairVerdict {
  return parseVerdict(canonical(PAIR_RE, completion)) ?? 'invalid';
}

/**
 * Where the verdict that counts sits in a pairwise completion: the last indicator (lenient, as
 * parsePairVerdict reads it) and its span, so a caller can cut the rationale before it. null: none.
 */
export function pairVerdictSpan(completion: string): { verdict: 'A' | 'B'; start: number; end: number } | null {
  let last: RegExpMatchArray | undefined;
  for (const m of completion.matchAll(PAIR_RE)) last = m;
  if (!last || last.index === undefined) return null;
  return { verdict: (last[1] as string).toUpperCase() as 'A' | 'B', start: last.index, end: last.index + last[0].length };
}

/** Pointwise twin of parsePairVerdict: the last [[YES]] / [[NO]] counts. */
export function parsePointVerdict(completion: string): PointVerdict {
  return parseCompactPointVerdict(canonical(POINT_RE, completion)) ?? 'invalid';
}

/** The score a verdict earns for "A is better" (RewardBench's rule: invalid counts as a tie, 0.5). */
export function verdictScore(v: PairVerdict): number {
  return v === 'A' ? 1 : v === 'B' ? 0 : 0.5;
}
