// Reading a verdict's probability out of a generated sample whose tokens are strings (HTTP
// servers): find the position where the model chose between the verdicts, and read the
// alternatives the server reported there.
//
// The verdicts share a prefix ("[[A]]" / "[[B]]" → "[["). The choice happens at the first token
// that begins the distinguishing part (usually "A" or "B" after "[["; some tokenizers fuse it,
// e.g. "[[A"). At that position, candidate c's probability is the sum over reported alternatives t
// such that (text before the position + t) starts a string that is consistent with
// prefix + c's distinguishing remainder — i.e. t agrees with c's text for its whole length and
// reaches into the distinguishing part. The rest of c after that token is taken as certain (the
// format forces "]]" once "A" is written).
import type { CandidateLogprob, TokenAlternative } from './types.js';
import { commonPrefix } from '../util/strings.js';
import { logsumexp } from '../util/math.js';

/**
 * Log-probs of candidate continuations at one position, from the alternatives reported there.
 * `before` is the text already written since the candidates' common prefix began (the part of
 * the prefix already emitted). Returns undefined when no alternative reaches a distinguishing part.
 */
export function candidatesAtPosition(alts: TokenAlternative[], candidates: string[], before: string): CandidateLogprob[] | undefined {
  const prefix = commonPrefix(candidates);
  const per: number[][] = candidates.map(() => []);
  for (const a of alts) {
    const s = before + a.token;
    if (s.length <= prefix.length) continue; // still inside the shared prefix: no choice made yet
    candidates.forEach((c, k) => {
      // The token must agree with c for as far as both go (s may run past the end of c, e.g. "A]]\n").
      const n = Math.min(s.length, c.length);
      if (s.slice(0, n) === c.slice(0, n)) per[k]?.push(a.logprob);
    });
  }
  if (per.every((p) => p.length === 0)) return undefined;
  const floor = Math.min(...alts.map((a) => a.logprob));
  return per.map((p) => (p.length > 0 ? { logprob: logsumexp(p), found: true } : { logprob: floor, found: false }));
}

/**
 * In a sample of string tokens with per-position alternatives, find where the verdict among
 * `candidates` was chosen — the LAST such position whose emitted token starts a candidate after
 * the common prefix — and read the candidates' log-probs there. undefined: no verdict position.
 */
export function verdictLogprobsFromSample(
  tokens: string[],
  logprobs: number[],
  topLogprobs: TokenAlternative[][] | undefined,
  candidates: string[],
): CandidateLogprob[] | undefined {
  if (!topLogprobs) return undefined;
  const prefix = commonPrefix(candidates);
  let text = '';
  let found: CandidateLogprob[] | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] ?? '';
    // How much of the common prefix is already written right before this token (longest suffix of
    // text that is a prefix of `prefix`, but only counting a full or partial prefix match).
    for (let k = Math.min(prefix.length, text.length); k >= 0; k--) {
      const before = text.slice(text.length - k);
      if (!prefix.startsWith(before)) continue;
      const s = before + tok;
      if (
        s.length > prefix.length &&
        candidates.some((c) => {
          const n = Math.min(s.length, c.length);
          return s.slice(0, n) === c.slice(0, n);
        })
      ) {
        // The emitted token counts too: a server may leave it out of top_logprobs when it was sampled
        // from outside the top k.
        const alts = [...(topLogprobs[i] ?? [])];
        const lp = logprobs[i];
        if (lp !== undefined && !alts.some((a) => a.token === tok)) alts.push({ token: tok, logprob: lp });
        const r = candidatesAtPosition(alts, candidates, before);
        if (r) found = r;
        break;
      }
    }
    text += tok;
  }
  return found;
}
