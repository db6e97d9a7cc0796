// Reading one field of a raw record, with the error a person needs when it is not what the
// format expects (missing, wrong type, empty). Mappers throw FieldError; the loader adds file:line.
import type { ChatMessage, Prompt } from '../pair.js';
import { FieldError } from './errors.js';
import type { Fields } from './source.js';
import type { MapContext } from './types.js';

/** Dotted paths reach into nested objects ("meta.question"); a key with a dot wins if present. */
export function getField(rec: Fields, path: string): unknown {
  if (path in rec) return rec[path];
  let v: unknown = rec;
  for (const k of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Fields)[k];
  }
  return v;
}

export const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** A required text field: present, a string (numbers are not silently turned into text), non-blank. */
export function text(rec: Fields, key: string): string {
  const v = getField(rec, key);
  if (v === undefined) throw new FieldError('missing-field', key, 'missing; expected text');
  if (typeof v !== 'string') throw new FieldError('wrong-type', key, `expected text, found ${typeName(v)}`);
  if (v.trim() === '') throw new FieldError('empty-field', key, 'empty; expected non-blank text');
  return v;
}

/**
 * An answer: text as it is, even empty (the loader flags empty answers); a number or boolean is
 * read as its text and flagged; absent, null, a list or an object is an error.
 */
export function answerValue(v: unknown, field: string, ctx: Pick<MapContext, 'flag'>): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) {
    ctx.flag('non-text-answer', field);
    return String(v);
  }
  if (v === undefined) throw new FieldError('missing-field', field, 'missing; expected the answer text');
  throw new FieldError('wrong-type', field, `expected the answer text, found ${typeName(v)}`);
}

export const answer = (rec: Fields, key: string, ctx: Pick<MapContext, 'flag'>): string => answerValue(getField(rec, key), key, ctx);

/** An optional text field: absent, null or "" read as undefined; other non-strings are errors. */
export function optText(rec: Fields, key: string): string | undefined {
  const v = getField(rec, key);
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new FieldError('wrong-type', key, `expected text, found ${typeName(v)}`);
  return v;
}

/** An id as text: strings as they are, integers (RewardBench, PandaLM's idx) in decimal. */
export function optId(rec: Fields, key: string): string | undefined {
  const v = getField(rec, key);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return optText(rec, key);
}

/** A list of {role, content} chat messages. */
export function messages(v: unknown, field: string): ChatMessage[] {
  if (!Array.isArray(v)) throw new FieldError('wrong-type', field, `expected a list of {role, content} messages, found ${typeName(v)}`);
  if (v.length === 0) throw new FieldError('empty-field', field, 'empty message list');
  return v.map((m: unknown, i) => {
    const f = `${field}[${i}]`;
    if (typeof m !== 'object' || m === null)
      throw new FieldError('wrong-type', f, `expected a {role, content} message, found ${typeName(m)}`);
    const { role, content } = m as Fields;
    if (typeof role !== 'string' || role === '')
      throw new FieldError('wrong-type', `${f}.role`, 'expected a role such as "user" or "assistant"');
    if (typeof content !== 'string') throw new FieldError('wrong-type', `${f}.content`, `expected text, found ${typeName(content)}`);
    return { role, content };
  });
}

/** A prompt field: text, or chat messages (one lone user message collapses to its text). */
export function prompt(rec: Fields, key: string): Prompt {
  const v = getField(rec, key);
  if (Array.isArray(v)) return simplifyPrompt(messages(v, key));
  return text(rec, key);
}

/** The same information, in the plainer form: [{user: x}] is just x. */
export function simplifyPrompt(msgs: ChatMessage[]): Prompt {
  const only = msgs.length === 1 ? msgs[0] : undefined;
  return only && only.role === 'user' ? only.content : msgs;
}
