// Any JSONL/JSON/CSV file, mapped by flags: which field is the prompt, the answers, the label.
// Without --label-field the chosen/rejected fields say it; with one, they are the first and second
// answer and the label's value (--label-values FIRST,SECOND[,TIE]) says which is better.
// Labels are never guessed: the loader reads every label value first (resolveLabelValues), and a
// value outside the mapping, or a set of values that fits more than one convention, refuses the
// file naming --label-values, so an Auto-J file (0 first, 1 second, 2 tie) is never read as
// PandaLM's (0 tie, 1 first, 2 second) with every label shifted.
import { pairFromAnswers } from './preference.js';
import { type LabelValues, labelText, orient, readLabel } from './labeled.js';
import { getField, optId, optText, prompt } from './fields.js';
import type { FormatDef } from './types.js';

export interface FieldMap {
  prompt: string; // default "prompt": the TRL/RewardBench name
  chosen: string; // default "chosen"
  rejected: string; // default "rejected"
  label?: string;
  /** undefined: read from the values in the file when they fit one convention only (see resolveLabelValues). */
  labelValues?: LabelValues;
  id?: string;
  category?: string;
  subset?: string;
}

export const DEFAULT_FIELDS: FieldMap = { prompt: 'prompt', chosen: 'chosen', rejected: 'rejected' };

/** "1,2" or "A,B,tie" -> LabelValues. */
export function parseLabelValues(s: string): LabelValues {
  const parts = s.split(',').map((p) => p.trim());
  const [first, second, tie] = parts;
  if (parts.length < 2 || parts.length > 3 || !first || !second || new Set(parts).size !== parts.length)
    throw new Error(`--label-values: expected FIRST,SECOND[,TIE] (distinct, e.g. "1,2,0" or "A,B"), got "${s}"`);
  return tie ? { first, second, tie } : { first, second };
}

const showValues = (l: LabelValues): string => [l.first, l.second, ...(l.tie === undefined ? [] : [l.tie])].join(',');

// Value sets that can mean one thing only: 1/2 (LLMBar), A/B with an optional "tie".
const UNAMBIGUOUS: LabelValues[] = [
  { first: '1', second: '2' },
  { first: 'A', second: 'B', tie: 'tie' },
  { first: 'a', second: 'b', tie: 'tie' },
];

/**
 * The label mapping for the values a file holds (`seen`: every distinct label text). Given
 * values must cover all of them; without given values, the seen set must fit one convention.
 * Returns the mapping, or the reason to refuse (which names --label-values).
 */
export function resolveLabelValues(
  field: string,
  seen: readonly string[],
  given: LabelValues | undefined,
): { values: LabelValues } | { refuse: string } {
  const list = seen.map((v) => `"${v}"`).join(', ');
  if (given) {
    const allowed = new Set([given.first, given.second, ...(given.tie === undefined ? [] : [given.tie])]);
    const outside = seen.filter((v) => !allowed.has(v));
    if (outside.length === 0) return { values: given };
    return {
      refuse: `field "${field}": label values ${outside.map((v) => `"${v}"`).join(', ')} are not in --label-values ${showValues(given)} (the file holds ${list}); give the mapping that fits them all, FIRST,SECOND[,TIE]`,
    };
  }
  const fit = UNAMBIGUOUS.find((u) => seen.every((v) => v === u.first || v === u.second || v === u.tie));
  if (fit && seen.length > 0) return { values: seen.includes(fit.tie ?? '\u0000') ? fit : { first: fit.first, second: fit.second } };
  return {
    refuse:
      `field "${field}": label values ${list} do not say which answer each means (0,1,2 is first,second,tie in Auto-J ` +
      `but 1,2,0 is first,second,tie in PandaLM); give the mapping with --label-values FIRST,SECOND[,TIE], e.g. --label-values 0,1,2`,
  };
}

/** Distinct label texts of some records (at most `cap`, then the set is certainly not a label). */
export function collectLabel(seen: Set<string>, v: unknown, cap = 50): void {
  if (seen.size >= cap) return;
  try {
    seen.add(labelText(v, 'label'));
  } catch {
    // a missing or odd label is the record's own error, reported when it is mapped
  }
}

export function genericFormat(f: FieldMap): FormatDef {
  return {
    name: 'generic',
    describe: `fields by flags: prompt=${f.prompt} chosen=${f.chosen} rejected=${f.rejected}${f.label ? ` label=${f.label} (values ${f.labelValues ? showValues(f.labelValues) : 'from the file'} = first,second[,tie])` : ''}`,
    detect: () => true,
    map: (rec, ctx) => {
      const id = (f.id === undefined ? optId(rec, 'id') : optId(rec, f.id)) ?? ctx.fallbackId;
      const p = getField(rec, f.prompt) === undefined ? undefined : prompt(rec, f.prompt);
      const names = { chosen: f.chosen, rejected: f.rejected };
      const extra = {
        ...(f.category !== undefined && optText(rec, f.category) !== undefined && { category: optText(rec, f.category) as string }),
        ...(f.subset !== undefined && optText(rec, f.subset) !== undefined && { subset: optText(rec, f.subset) as string }),
      };
      const base = pairFromAnswers(p, getField(rec, f.chosen), getField(rec, f.rejected), ctx, names);
      if (f.label === undefined) return { id, ...base, ...extra };
      if (!f.labelValues) throw new Error('genericFormat: label values must be resolved before mapping (resolveLabelValues)');
      const winner = readLabel(rec, f.label, f.labelValues);
      return { ...orient(id, base.prompt, base.chosen, base.rejected, winner, { label: getField(rec, f.label) }), ...extra };
    },
  };
}
