// Any JSONL/JSON/CSV file, mapped by flags: which field is the prompt, the answers, the label.
// Without --label-field the chosen/rejected fields say it; with one, they are the first and second
// answer and the label's value (--label-values FIRST,SECOND[,TIE]) says which is better.
import { pairFromAnswers } from './preference.js';
import { type LabelValues, orient, readLabel } from './labeled.js';
import { getField, optId, optText, prompt } from './fields.js';
import type { FormatDef } from './types.js';

export interface FieldMap {
  prompt: string; // default "prompt": the TRL/RewardBench name
  chosen: string; // default "chosen"
  rejected: string; // default "rejected"
  label?: string;
  labelValues: LabelValues; // default 1,2,0: LLMBar/PandaLM's convention
  id?: string;
  category?: string;
  subset?: string;
}

export const DEFAULT_FIELDS: FieldMap = { prompt: 'prompt', chosen: 'chosen', rejected: 'rejected', labelValues: { first: '1', second: '2', tie: '0' } };

/** "1,2" or "A,B,tie" -> LabelValues. */
export function parseLabelValues(s: string): LabelValues {
  const parts = s.split(',').map((p) => p.trim());
  const [first, second, tie] = parts;
  if (parts.length < 2 || parts.length > 3 || !first || !second || new Set(parts).size !== parts.length)
    throw new Error(`--label-values: expected FIRST,SECOND[,TIE] (distinct, e.g. "1,2,0" or "A,B"), got "${s}"`);
  return tie ? { first, second, tie } : { first, second };
}

export function genericFormat(f: FieldMap): FormatDef {
  return {
    name: 'generic',
    describe: `fields by flags: prompt=${f.prompt} chosen=${f.chosen} rejected=${f.rejected}${f.label ? ` label=${f.label}` : ''}`,
    detect: () => true,
    map: (rec, ctx) => {
      const id = (f.id === undefined ? optId(rec, 'id') : optId(rec, f.id)) ?? ctx.fallbackId;
      const p = getField(rec, f.prompt) === undefined ? undefined : prompt(rec, f.prompt);
      const names = { chosen: f.chosen, rejected: f.rejected };
      const extra = {
        ...(f.category !== undefined && optText(rec, f.category) !== undefined && { category: optText(rec, f.category) as string }),
        ...(f.subset !== undefined && optText(rec, f.subset) !== undefined && { subset: optText(rec, f.subset) as string }),
      };
      const base = pairFromAnswers(p, getField(rec, f.chosen), getField(rec, f.rejected), names);
      if (f.label === undefined) return { id, ...base, ...extra };
      const winner = readLabel(rec, f.label, f.labelValues);
      return { ...orient(id, base.prompt, base.chosen, base.rejected, winner, { label: getField(rec, f.label) }), ...extra };
    },
  };
}
