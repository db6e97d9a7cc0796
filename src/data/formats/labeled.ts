// Pairwise sets that give two answers in a fixed order and a label saying which is better:
// LLMBar (label 1|2), PandaLM (three annotators voting 0 = tie, 1, 2), and the generic mapping
// (--label-field). The better answer becomes `chosen`; a tie keeps the given order with tie: true.
import type { PreferencePair, Prompt } from '../pair.js';
import { FieldError } from './errors.js';
import { getField, optId, optText, text, typeName } from './fields.js';
import type { Fields } from './source.js';
import { type FormatDef, has } from './types.js';

export type Winner = 'first' | 'second' | 'tie';

/** The PreferencePair for two answers in given order and a winner; `label` is kept in meta. */
export function orient(id: string, prompt: Prompt, first: string, second: string, winner: Winner, meta: Record<string, unknown>): PreferencePair {
  const [chosen, rejected] = winner === 'second' ? [second, first] : [first, second];
  return { id, prompt, chosen, rejected, ...(winner === 'tie' && { tie: true }), meta };
}

/** A label value as text: numbers and strings alike ("1" from CSV, 1 from JSON). */
function labelText(v: unknown, field: string): string {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (v === undefined) throw new FieldError('missing-field', field, 'missing; expected a label');
  throw new FieldError('wrong-type', field, `expected a label (number or text), found ${typeName(v)}`);
}

export interface LabelValues {
  first: string;
  second: string;
  tie?: string;
}

export function readLabel(rec: Fields, field: string, values: LabelValues): Winner {
  const l = labelText(getField(rec, field), field);
  if (l === values.first) return 'first';
  if (l === values.second) return 'second';
  if (values.tie !== undefined && l === values.tie) return 'tie';
  const allowed = [values.first, values.second, ...(values.tie === undefined ? [] : [values.tie])];
  throw new FieldError('label-range', field, `label "${l}" is outside its range: expected ${allowed.join(' | ')}`);
}

/** LLMBar (princeton-nlp/LLMBar, Dataset/*.json): input, output_1, output_2, label (1 or 2). */
export const llmBarFormat: FormatDef = {
  name: 'llmbar',
  describe: 'LLMBar-style pairwise: input, output_1, output_2, label (1 | 2)',
  detect: (rec) => has(rec, 'input', 'output_1', 'output_2', 'label'),
  map: (rec, ctx) => {
    const winner = readLabel(rec, 'label', { first: '1', second: '2' });
    return orient(optId(rec, 'id') ?? ctx.fallbackId, text(rec, 'input'), text(rec, 'output_1'), text(rec, 'output_2'), winner, { label: Number(labelText(rec['label'], 'label')) });
  },
};

const ANNOTATORS = ['annotator1', 'annotator2', 'annotator3'];

/**
 * PandaLM (WeOpenML/PandaLM, data/testset-v1.json): idx, instruction, input (may be NaN/null),
 * response1, response2, annotator1..3 each 0 (tie), 1 or 2. The most-voted option wins; no
 * single leader (a 1-1-1 split) or most votes for 0 is a tie.
 */
export const pandaLmFormat: FormatDef = {
  name: 'pandalm',
  describe: 'PandaLM: instruction, input, response1, response2, annotator1..3 votes (0 tie, 1, 2) by majority',
  detect: (rec) => has(rec, 'instruction', 'response1', 'response2') && ANNOTATORS.some((a) => a in rec),
  map: (rec, ctx) => {
    const votes = { first: 0, second: 0, tie: 0 };
    const given: number[] = [];
    for (const a of ANNOTATORS) {
      if (!(a in rec)) continue;
      const w = readLabel(rec, a, { first: '1', second: '2', tie: '0' });
      votes[w]++;
      given.push(w === 'first' ? 1 : w === 'second' ? 2 : 0);
    }
    // Plurality with a unique top: [2,2,0] -> second; [1,2,0] or [1,2] -> no majority -> tie.
    const top = Math.max(votes.first, votes.second, votes.tie);
    const leaders = (Object.keys(votes) as Winner[]).filter((k) => votes[k] === top);
    const winner: Winner = leaders.length === 1 ? (leaders[0] as Winner) : 'tie';
    const instruction = text(rec, 'instruction');
    const input = optText(rec, 'input');
    const promptText = input === undefined ? instruction : `${instruction}\n\n${input}`;
    return orient(optId(rec, 'idx') ?? optId(rec, 'id') ?? ctx.fallbackId, promptText, text(rec, 'response1'), text(rec, 'response2'), winner, { votes: given });
  },
};
