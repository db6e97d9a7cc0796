// Verdict indicators and the parser that reads them from a judge's own completion.
//
// The indicator strings are the judge format's (DESIGN.md §5, src/data/judgeFormat.ts):
// [[A]] / [[B]] pairwise, [[YES]] / [[NO]] pointwise. The parser here agrees with that module's
// on its own output and is also tolerant of what instruction LLMs write ("[[ a ]]").
export { VERDICT_A, VERDICT_B, VERDICT_YES, VERDICT_NO } from '../data/judgeFormat.js';

export type PairVerdict = 'A' | 'B' | 'invalid';
export type PointVerdict = 'YES' | 'NO' | 'invalid';

// Tolerant of what instruction LLMs write ("[[ a ]]"), strict about the double brackets so a
// stray "A" or "[A]" in prose is not read as a verdict.
const PAIR_RE = /\[\[\s*(A|B)\s*\]\]/gi;
const POINT_RE = /\[\[\s*(YES|NO)\s*\]\]/gi;

function lastMatch(re: RegExp, text: string): string | undefined {
  let last: string | undefined;
  for (const m of text.matchAll(re)) last = m[1];
  return last?.toUpperCase();
}

/**
 * The verdict of a pairwise judge completion: the LAST indicator counts (a rationale may quote
 * an indicator while weighing the answers; its conclusion comes last). No indicator: 'invalid'.
 * Only the completion is parsed, never the prompt, so text inside the answers cannot vote.
 */
export function parsePairVerdict(completion: string): PairVerdict {
  const v = lastMatch(PAIR_RE, completion);
  return v === 'A' || v === 'B' ? v : 'invalid';
}

/** Pointwise twin of parsePairVerdict: the last [[YES]] / [[NO]] counts. */
export function parsePointVerdict(completion: string): PointVerdict {
  const v = lastMatch(POINT_RE, completion);
  return v === 'YES' || v === 'NO' ? v : 'invalid';
}

/** The score a verdict earns for "A is better" (RewardBench's rule: invalid counts as a tie, 0.5). */
export function verdictScore(v: PairVerdict): number {
  return v === 'A' ? 1 : v === 'B' ? 0 : 0.5;
}

/** Longest common prefix of some strings ("[[A]]", "[[B]]" → "[["). */
export function commonPrefix(strings: string[]): string {
  if (strings.length === 0) return '';
  let p = strings[0] ?? '';
  for (const s of strings) {
    let i = 0;
    while (i < p.length && i < s.length && p[i] === s[i]) i++;
    p = p.slice(0, i);
  }
  return p;
}
