// Judge benchmarks whose records are not one plain pair: RM-Bench (three styles of each answer,
// expanded into its 3×3 grid of pairs) and Prometheus' pairwise sets (the pair wrapped in the
// judge's own prompt, unwrapped back into instruction and responses).
import type { PreferencePair } from '../pair.js';
import { FieldError } from './errors.js';
import { answer, answerValue, optId, optText, text, typeName } from './fields.js';
import { orient, readLabel, type Winner } from './labeled.js';
import type { Fields } from './source.js';
import { type FormatDef, has } from './types.js';

// RM-Bench's order of the three responses (THU-KEG/RM-Bench README): concise, detailed in plain
// text, detailed in markdown.
const RM_STYLES = ['concise', 'detailed_plain', 'detailed_markdown'] as const;
const isTextList = (v: unknown): boolean => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string');

/**
 * RM-Bench (THU-KEG/RM-Bench): id, prompt, chosen and rejected as lists of three styles, domain
 * (chat, code, math, safety-refuse, safety-response). Each (chosen style, rejected style) cell of
 * the 3×3 grid is a pair, as its paper scores it: chosen less styled than rejected is "hard",
 * equally styled "normal", more styled "easy" (the subset); the styles go in meta.
 */
export const rmBenchFormat: FormatDef = {
  name: 'rmbench',
  describe:
    'RM-Bench: prompt, chosen/rejected as [concise, detailed plain, detailed markdown]; 9 pairs per record (hard/normal/easy as subset, domain as category)',
  detect: (rec) => has(rec, 'prompt', 'chosen', 'rejected') && isTextList(rec['chosen']),
  map: (rec, ctx) => {
    const lists = (['chosen', 'rejected'] as const).map((k) => {
      const v = rec[k];
      if (!Array.isArray(v) || v.length !== RM_STYLES.length)
        throw new FieldError(
          'wrong-type',
          k,
          `expected a list of ${RM_STYLES.length} responses (${RM_STYLES.join(', ')}), found ${Array.isArray(v) ? `${v.length} items` : typeName(v)}`,
        );
      return v.map((x, i) => answerValue(x, `${k}[${i}]`, ctx));
    });
    const [chosen, rejected] = lists as [string[], string[]];
    const id = optId(rec, 'id') ?? ctx.fallbackId;
    const domain = optText(rec, 'domain');
    const category = domain?.startsWith('safety') ? 'safety' : domain;
    const prompt = text(rec, 'prompt');
    const out: PreferencePair[] = [];
    chosen.forEach((c, i) =>
      rejected.forEach((r, j) => {
        const level = i < j ? 'hard' : i === j ? 'normal' : 'easy';
        out.push({
          id: `${id}:${i + 1}x${j + 1}`,
          prompt,
          chosen: c,
          rejected: r,
          subset: level,
          ...(category !== undefined && { category }),
          meta: { chosen_style: RM_STYLES[i], rejected_style: RM_STYLES[j], ...(domain !== undefined && { domain }), record: id },
        });
      }),
    );
    return out;
  },
};

// Prometheus 2's pairwise prompt (prometheus-eval/Preference-Collection README): section headers
// in this order; the rubric is "Score Rubric" in the collection, "Evaluation Criteria" elsewhere.
const P_INSTRUCTION = '###The instruction to evaluate:';
const P_A = '###Response A to evaluate:';
const P_B = '###Response B to evaluate:';
const P_AFTER = ['###Reference Answer:', '###Score Rubric:', '###Evaluation Criteria:', '###Feedback:'];

function section(t: string, head: string, from: number, ends: string[]): { body: string; end: number } | undefined {
  const at = t.indexOf(head, from);
  if (at < 0) return undefined;
  const start = at + head.length;
  const stops = ends.map((e) => t.indexOf(e, start)).filter((i) => i >= 0);
  const end = stops.length ? Math.min(...stops) : t.length;
  return { body: t.slice(start, end).trim(), end };
}

/** The instruction, both responses, and the reference and rubric when present, out of the wrapped prompt. */
export function unwrapPrometheus(t: string): { instruction: string; a: string; b: string; reference?: string; rubric?: string } {
  const ins = section(t, P_INSTRUCTION, 0, [P_A]);
  const a = ins && section(t, P_A, ins.end, [P_B]);
  const b = a && section(t, P_B, a.end, P_AFTER);
  if (!ins || !a || !b)
    throw new FieldError(
      'missing-field',
      'instruction',
      `expected Prometheus' pairwise prompt with the sections "${P_INSTRUCTION}", "${P_A}" and "${P_B}" in this order`,
    );
  const ref = section(t, '###Reference Answer:', b.end, P_AFTER.slice(1));
  const rubric = section(t, '###Score Rubric:', b.end, ['###Feedback:']) ?? section(t, '###Evaluation Criteria:', b.end, ['###Feedback:']);
  return { instruction: ins.body, a: a.body, b: b.body, ...(ref && { reference: ref.body }), ...(rubric && { rubric: rubric.body }) };
}

/** orig_preference "A"/"B", else the [RESULT] of the feedback, else the two scores; a tie when the scores are equal. */
function prometheusWinner(rec: Fields): Winner {
  if (rec['orig_preference'] !== undefined && rec['orig_preference'] !== null)
    return readLabel(rec, 'orig_preference', { first: 'A', second: 'B' });
  const out = rec['output'];
  if (typeof out === 'string') {
    const m = [...out.matchAll(/\[RESULT\]\s*\(?\s*([AB])\b/g)].at(-1);
    if (m) return m[1] === 'A' ? 'first' : 'second';
  }
  const sa = Number(rec['orig_score_A']);
  const sb = Number(rec['orig_score_B']);
  if (rec['orig_score_A'] !== undefined && rec['orig_score_B'] !== undefined && Number.isFinite(sa) && Number.isFinite(sb))
    return sa > sb ? 'first' : sa < sb ? 'second' : 'tie';
  throw new FieldError(
    'missing-field',
    'orig_preference',
    'no label: expected orig_preference (A | B), an output ending "[RESULT] A|B", or orig_score_A/orig_score_B',
  );
}

const wrapped = (rec: Fields): boolean =>
  typeof rec['instruction'] === 'string' && rec['instruction'].includes(P_A) && rec['instruction'].includes(P_B);

/**
 * Prometheus pairwise sets (prometheus-eval Preference-Collection / Preference-Bench):
 * orig_instruction, orig_response_A, orig_response_B, orig_preference, orig_reference_answer,
 * orig_criteria; or only the wrapped prompt (`instruction`) and the judge's `output` ("… [RESULT] B"),
 * unwrapped into the instruction and the two responses.
 */
export const prometheusFormat: FormatDef = {
  name: 'prometheus',
  describe:
    'Prometheus pairwise: orig_instruction, orig_response_A/B, orig_preference (A | B); or the wrapped prompt in "instruction", unwrapped',
  detect: (rec) => has(rec, 'orig_instruction', 'orig_response_A', 'orig_response_B') || wrapped(rec),
  map: (rec, ctx) => {
    const winner = prometheusWinner(rec);
    const id = optId(rec, 'id') ?? ctx.fallbackId;
    if (has(rec, 'orig_instruction', 'orig_response_A', 'orig_response_B')) {
      const meta: Record<string, unknown> = {};
      for (const [k, m] of [
        ['orig_reference_answer', 'reference'],
        ['orig_criteria', 'rubric'],
      ] as const)
        if (typeof rec[k] === 'string') meta[m] = rec[k];
      return orient(
        id,
        text(rec, 'orig_instruction'),
        answer(rec, 'orig_response_A', ctx),
        answer(rec, 'orig_response_B', ctx),
        winner,
        meta,
      );
    }
    const u = unwrapPrometheus(text(rec, 'instruction'));
    if (u.instruction === '') throw new FieldError('empty-field', 'instruction', 'the wrapped instruction is empty');
    return orient(id, u.instruction, u.a, u.b, winner, {
      unwrapped: true,
      ...(u.reference !== undefined && { reference: u.reference }),
      ...(u.rubric !== undefined && { rubric: u.rubric }),
    });
  },
};
