// Pairwise sets that give two answers in a fixed order and a label saying which is better:
// LLMBar (label 1|2), PandaLM (three annotators voting 0 = tie, 1, 2), Auto-J (0 first, 1 second,
// 2 tie), JudgeBench ("A>B" | "B>A"), EvalBiasBench (1|2), and the generic mapping (--label-field).
// The better answer becomes `chosen`; a tie keeps the given order with tie: true.
import type { PreferencePair, Prompt } from '../pair.js';
import { FieldError } from './errors.js';
import { answer, getField, optId, optText, text, typeName } from './fields.js';
import type { Fields } from './source.js';
import { type FormatDef, has } from './types.js';

export type Winner = 'first' | 'second' | 'tie';

/** The PreferencePair for two answers in given order and a winner; `label` is kept in meta. */
export function orient(
  id: string,
  prompt: Prompt,
  first: string,
  second: string,
  winner: Winner,
  meta: Record<string, unknown>,
): PreferencePair {
  const [chosen, rejected] = winner === 'second' ? [second, first] : [first, second];
  return { id, prompt, chosen, rejected, ...(winner === 'tie' && { tie: true }), meta };
}

/** A label value as text: numbers and strings alike ("1" from CSV, 1 from JSON). */
export function labelText(v: unknown, field: string): string {
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
    return orient(
      optId(rec, 'id') ?? ctx.fallbackId,
      text(rec, 'input'),
      answer(rec, 'output_1', ctx),
      answer(rec, 'output_2', ctx),
      winner,
      { label: Number(labelText(rec['label'], 'label')) },
    );
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
    return orient(
      optId(rec, 'idx') ?? optId(rec, 'id') ?? ctx.fallbackId,
      promptText,
      answer(rec, 'response1', ctx),
      answer(rec, 'response2', ctx),
      winner,
      { votes: given },
    );
  },
};

/**
 * Auto-J (GAIR-NLP/auto-j, data/test/testdata_pairwise.jsonl; its README): scenario, label,
 * prompt, "response 1", "response 2"; label 0 = the first is preferred, 1 = the second, 2 = tie.
 */
export const autoJFormat: FormatDef = {
  name: 'autoj',
  describe: 'Auto-J pairwise: prompt, "response 1", "response 2", label (0 first | 1 second | 2 tie), scenario as subset',
  detect: (rec) => has(rec, 'response 1', 'response 2', 'label'),
  map: (rec, ctx) => {
    const winner = readLabel(rec, 'label', { first: '0', second: '1', tie: '2' });
    const scenario = optText(rec, 'scenario');
    const pair = orient(
      optId(rec, 'id') ?? ctx.fallbackId,
      text(rec, 'prompt'),
      answer(rec, 'response 1', ctx),
      answer(rec, 'response 2', ctx),
      winner,
      { label: Number(labelText(rec['label'], 'label')) },
    );
    return scenario === undefined ? pair : { ...pair, subset: scenario };
  },
};

// JudgeBench's sources are "mmlu-pro-<subject>", "livebench-reasoning", "livebench-math" and
// "livecodebench"; its paper reports those four as categories.
const JUDGEBENCH_CATEGORIES = ['mmlu-pro', 'livebench-reasoning', 'livebench-math', 'livecodebench'];

/**
 * JudgeBench (ScalerLab/JudgeBench, data/*.jsonl; its README): pair_id, original_id, source,
 * question, response_model, response_A, response_B, label "A>B" | "B>A" (objective correctness).
 */
export const judgeBenchFormat: FormatDef = {
  name: 'judgebench',
  describe: 'JudgeBench: question, response_A, response_B, label (A>B | B>A), source as subset and its benchmark as category',
  detect: (rec) => has(rec, 'question', 'response_A', 'response_B', 'label'),
  map: (rec, ctx) => {
    const winner = readLabel(rec, 'label', { first: 'A>B', second: 'B>A' });
    const source = optText(rec, 'source');
    const category = source === undefined ? undefined : JUDGEBENCH_CATEGORIES.find((c) => source === c || source.startsWith(`${c}-`));
    const meta: Record<string, unknown> = { label: labelText(rec['label'], 'label') };
    for (const k of ['original_id', 'response_model']) if (rec[k] !== undefined) meta[k] = rec[k];
    const pair = orient(
      optId(rec, 'pair_id') ?? ctx.fallbackId,
      text(rec, 'question'),
      answer(rec, 'response_A', ctx),
      answer(rec, 'response_B', ctx),
      winner,
      meta,
    );
    return { ...pair, ...(source !== undefined && { subset: source }), ...(category !== undefined && { category }) };
  },
};

/**
 * EvalBiasBench (ncsoft/offsetbias, data/evalbiasbench/biasbench.json): one JSON object, bias type
 * → list of {bias, instruction, response1, response2, label}; label 1 = response1 is better, 2 = response2.
 */
export const evalBiasBenchFormat: FormatDef = {
  name: 'evalbiasbench',
  describe: 'EvalBiasBench: {bias type: [records]} of instruction, response1, response2, label (1 | 2); the bias type as subset',
  detect: (rec) => has(rec, 'instruction', 'response1', 'response2', 'label') && !ANNOTATORS.some((a) => a in rec),
  map: (rec, ctx) => {
    const winner = readLabel(rec, 'label', { first: '1', second: '2' });
    const bias = optText(rec, 'bias') ?? ctx.group;
    const pair = orient(
      optId(rec, 'id') ?? ctx.fallbackId,
      text(rec, 'instruction'),
      answer(rec, 'response1', ctx),
      answer(rec, 'response2', ctx),
      winner,
      { label: Number(labelText(rec['label'], 'label')) },
    );
    return bias === undefined ? pair : { ...pair, subset: bias };
  },
};
