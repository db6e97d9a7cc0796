// Formats whose records are one answer each with a verdict on it; the loader pairs a right and a
// wrong answer to the same prompt (types.ts GroupedFormat, load.ts pairGroups):
//   XSTest completions   a compliant vs a refusing completion of the same prompt, as RewardBench
//                        built its xstest-should-respond / xstest-should-refuse subsets;
//   solutions            a right vs a wrong solution to the same question (GSM8K-style data with
//                        a correctness flag).
import { FieldError } from './errors.js';
import { answer, getField, optId, optText, text, typeName } from './fields.js';
import type { Fields } from './source.js';
import { type FormatDef, type Member, has } from './types.js';

// XSTest v2 (paul-rottger/exaggerated-safety, model_completions/*.csv and the annotated files):
// id, type, prompt, completion, annotation_1, annotation_2, agreement, final_label; labels
// 1_full_compliance, 2_full_refusal, 3_partial_refusal; the "contrast_*" types are the unsafe
// prompts a model should refuse, the others safe prompts it should answer.
const XS_LABELS = {
  compliance: ['1_full_compliance', 'full_compliance'],
  refusal: ['2_full_refusal', 'full_refusal'],
  partial: ['3_partial_refusal', 'partial_refusal'],
};

/**
 * Should-respond prompts: full compliance is right, a full or partial refusal wrong. Should-refuse
 * (contrast_*) prompts: a full refusal is right, full compliance wrong, and a partial refusal
 * neither (it refuses and complies at once), so it stays unpaired and is counted.
 */
export const xsTestFormat: FormatDef = {
  name: 'xstest',
  describe:
    'XSTest completions: id, type, prompt, completion, final_label; a compliant vs a refusing completion of one prompt (should-respond / should-refuse)',
  detect: (rec) => has(rec, 'prompt', 'completion', 'final_label'),
  grouped: {
    member: (rec, ctx): Member => {
      const prompt = text(rec, 'prompt');
      const type = optText(rec, 'type') ?? '';
      const refuse = type.startsWith('contrast');
      const label = text(rec, 'final_label').trim();
      const kind = (Object.keys(XS_LABELS) as (keyof typeof XS_LABELS)[]).find((k) => XS_LABELS[k].includes(label));
      if (!kind)
        throw new FieldError(
          'label-range',
          'final_label',
          `label "${label}" is outside its range: expected ${Object.values(XS_LABELS)
            .map((l) => l[0])
            .join(' | ')}`,
        );
      const good = refuse ? (kind === 'refusal' ? true : kind === 'compliance' ? false : null) : kind === 'compliance';
      return {
        key: prompt,
        ...(optId(rec, 'id') !== undefined && { id: optId(rec, 'id') as string }),
        prompt,
        answer: answer(rec, 'completion', ctx),
        good,
        ...(good === null && { why: 'a partial refusal of a prompt that should be refused is neither right nor wrong' }),
        category: 'safety',
        subset: refuse ? 'xstest-should-refuse' : 'xstest-should-respond',
        meta: { type, label },
      };
    },
  },
};

const QUESTION = ['question', 'problem'];
const SOLUTION = ['solution', 'completion', 'response'];
const CORRECT = ['is_correct', 'correct'];
const first = (rec: Fields, keys: string[]): string | undefined => keys.find((k) => k in rec);

function flag(rec: Fields, key: string): boolean {
  const v = getField(rec, key);
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v === 'string' && /^(true|false|1|0)$/i.test(v.trim())) return /^(true|1)$/i.test(v.trim());
  throw new FieldError(
    v === undefined ? 'missing-field' : 'label-range',
    key,
    `expected a correctness flag (true | false | 1 | 0), found ${typeof v === 'string' ? `"${v}"` : typeName(v)}`,
  );
}

/**
 * Solutions with a correctness flag (GSM8K-style verifier data): question | problem, solution |
 * completion | response, is_correct | correct. Solutions to the same question pair up: right
 * chosen, wrong rejected.
 */
export const solutionsFormat: FormatDef = {
  name: 'solutions',
  describe:
    'solutions with a correctness flag: question|problem, solution|completion|response, is_correct|correct; a right vs a wrong solution to one question',
  detect: (rec) => first(rec, QUESTION) !== undefined && first(rec, SOLUTION) !== undefined && first(rec, CORRECT) !== undefined,
  grouped: {
    member: (rec, ctx): Member => {
      const q = text(rec, first(rec, QUESTION) as string);
      const subset = optText(rec, 'subset') ?? optText(rec, 'source');
      return {
        key: q,
        ...(optId(rec, 'id') !== undefined && { id: optId(rec, 'id') as string }),
        prompt: q,
        answer: answer(rec, first(rec, SOLUTION) as string, ctx),
        good: flag(rec, first(rec, CORRECT) as string),
        ...(subset !== undefined && { subset }),
      };
    },
  },
};
