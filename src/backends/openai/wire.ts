// The response shapes we read from OpenAI-compatible servers (fields per the OpenAI API
// reference: completions choices[].logprobs = { tokens, token_logprobs, top_logprobs, text_offset };
// chat choices[].logprobs.content[] = { token, logprob, bytes, top_logprobs: [{ token, logprob }] }).
// Everything is optional here because servers differ; the readers below check what they need.
import type { FinishReason, Sample, TokenAlternative } from '../types.js';

export interface CompletionChoice {
  index?: number;
  text?: string;
  finish_reason?: string | null;
  logprobs?: {
    tokens?: string[];
    token_logprobs?: (number | null)[];
    top_logprobs?: (Record<string, number> | null)[] | null;
    text_offset?: number[];
  } | null;
}

export interface ChatChoice {
  index?: number;
  message?: { content?: string | null };
  finish_reason?: string | null;
  logprobs?: { content?: { token: string; logprob: number; top_logprobs?: { token: string; logprob: number }[] }[] | null } | null;
}

export interface ListReply<C> {
  choices?: C[];
}

export function finish(r: string | null | undefined): FinishReason {
  return r === 'stop' || r === 'length' ? r : r === 'eos' ? 'stop' : 'unknown';
}

function byIndex<C extends { index?: number }>(cs: C[]): C[] {
  return [...cs].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
}

export function completionSamples(reply: ListReply<CompletionChoice>, topK: number): Sample[] {
  return byIndex(reply.choices ?? []).map((c) => {
    const lp = c.logprobs;
    const s: Sample = {
      text: c.text ?? '',
      tokens: lp?.tokens ?? [],
      logprobs: (lp?.token_logprobs ?? []).map((x) => x ?? Number.NaN),
      finishReason: finish(c.finish_reason),
    };
    if (topK > 0 && lp?.top_logprobs) {
      s.topLogprobs = lp.top_logprobs.map((d) => topAlternatives(d ?? {}).slice(0, topK));
    }
    return s;
  });
}

export function chatSamples(reply: ListReply<ChatChoice>, topK: number): Sample[] {
  return byIndex(reply.choices ?? []).map((c) => {
    const content = c.logprobs?.content ?? [];
    const s: Sample = {
      text: c.message?.content ?? '',
      tokens: content.map((t) => t.token),
      logprobs: content.map((t) => t.logprob),
      finishReason: finish(c.finish_reason),
    };
    if (topK > 0 && c.logprobs?.content)
      s.topLogprobs = content.map((t) => (t.top_logprobs ?? []).map((a) => ({ token: a.token, logprob: a.logprob })));
    return s;
  });
}

/** A completions top_logprobs entry ({ token: logprob }) as a list, most likely first. */
export function topAlternatives(d: Record<string, number>): TokenAlternative[] {
  return Object.entries(d)
    .map(([token, logprob]) => ({ token, logprob }))
    .sort((a, b) => b.logprob - a.logprob);
}
