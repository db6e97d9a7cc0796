// Conversations to (prompt, final answer): the PreferencePair contract (docs/ARCHITECTURE.md) keeps only the last assistant turn as the
// answer and gives everything before it to the prompt. Used by the TRL implicit-prompt form,
// UltraFeedback's chat lists and HH-RLHF's transcripts.
import type { ChatMessage, Prompt } from '../pair.js';
import { FieldError } from './errors.js';
import { simplifyPrompt } from './fields.js';

export interface Split {
  prefix: ChatMessage[];
  answer: string;
}

/** The last message must be the assistant's answer (it may be empty: the loader flags it); the rest is its context. */
export function splitLastAssistant(msgs: ChatMessage[], field: string): Split {
  const last = msgs[msgs.length - 1];
  if (!last || last.role !== 'assistant')
    throw new FieldError(
      'wrong-type',
      field,
      `expected the conversation to end with an assistant turn, found "${last?.role ?? 'nothing'}"`,
    );
  return { prefix: msgs.slice(0, -1), answer: last.content };
}

const sameMessages = (a: ChatMessage[], b: ChatMessage[]): boolean =>
  a.length === b.length && a.every((m, i) => m.role === b[i]?.role && m.content === b[i]?.content);

/**
 * Two full conversations sharing everything up to their last assistant turn (TRL's implicit-prompt
 * preference form, HH-RLHF). If the prefixes differ the record is not one prompt with two answers.
 */
export function splitSharedPrefix(chosen: ChatMessage[], rejected: ChatMessage[]): { prompt: Prompt; chosen: string; rejected: string } {
  const c = splitLastAssistant(chosen, 'chosen');
  const r = splitLastAssistant(rejected, 'rejected');
  if (!sameMessages(c.prefix, r.prefix)) {
    const at = c.prefix.findIndex((m, i) => m.role !== r.prefix[i]?.role || m.content !== r.prefix[i]?.content);
    throw new FieldError(
      'prefix-mismatch',
      'rejected',
      `chosen and rejected differ before their last assistant turn (first at turn ${at < 0 ? c.prefix.length : at}); expected one shared conversation and two final answers`,
    );
  }
  if (c.prefix.length === 0)
    throw new FieldError('missing-field', 'chosen', 'no turns before the assistant answer: expected a user prompt');
  return { prompt: simplifyPrompt(c.prefix), chosen: c.answer, rejected: r.answer };
}

// HH-RLHF writes each conversation as one string: "\n\nHuman: …\n\nAssistant: …" (Anthropic,
// github.com/anthropics/hh-rlhf README; the dataset's `chosen`/`rejected` columns).
const HH_TURN = /\n\n(Human|Assistant):[ ]?/g;

export function parseHhTranscript(t: string, field: string): ChatMessage[] {
  const marks = [...t.matchAll(HH_TURN)];
  if (marks.length === 0) throw new FieldError('wrong-type', field, 'expected an HH transcript ("\\n\\nHuman: …\\n\\nAssistant: …")');
  const out: ChatMessage[] = [];
  const lead = t.slice(0, marks[0]?.index ?? 0);
  if (lead.trim() !== '') out.push({ role: 'user', content: lead });
  marks.forEach((m, i) => {
    const start = (m.index ?? 0) + m[0].length;
    const end = marks[i + 1]?.index ?? t.length;
    out.push({ role: m[1] === 'Human' ? 'user' : 'assistant', content: t.slice(start, end) });
  });
  return out;
}
