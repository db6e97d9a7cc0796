// Every known format, in the order detection tries them (most specific first: RM-Bench before
// genrm, whose records also have id/prompt/chosen/rejected; HH before TRL, which also has
// chosen/rejected; genrm before RewardBench, which also has id and prompt; PandaLM before
// EvalBiasBench, which has the same fields but a label instead of annotators).
import { rmBenchFormat, prometheusFormat } from './benchmarks.js';
import { FieldError } from './errors.js';
import { type FieldMap, genericFormat } from './generic.js';
import { solutionsFormat, xsTestFormat } from './grouped.js';
import { autoJFormat, evalBiasBenchFormat, judgeBenchFormat, llmBarFormat, pandaLmFormat } from './labeled.js';
import { genrmFormat, hhFormat, rewardBenchFormat, trlFormat, ultraFeedbackFormat } from './preference.js';
import type { Fields } from './source.js';
import type { FormatDef } from './types.js';

export const FORMATS: readonly FormatDef[] = [
  rmBenchFormat,
  genrmFormat,
  ultraFeedbackFormat,
  rewardBenchFormat,
  hhFormat,
  trlFormat,
  llmBarFormat,
  pandaLmFormat,
  autoJFormat,
  judgeBenchFormat,
  evalBiasBenchFormat,
  prometheusFormat,
  xsTestFormat,
  solutionsFormat,
];
export const FORMAT_NAMES = [...FORMATS.map((f) => f.name), 'generic'] as const;

export function formatByName(name: string, fields: FieldMap): FormatDef {
  if (name === 'generic') return genericFormat(fields);
  const f = FORMATS.find((x) => x.name === name);
  if (!f) throw new Error(`--format: unknown format "${name}"; expected one of ${FORMAT_NAMES.join(', ')}`);
  return f;
}

/** The first format whose detector accepts the first records (a majority of them, to ride out one odd line). */
export function detectFormat(sample: readonly Fields[]): FormatDef | undefined {
  if (sample.length === 0) return undefined;
  for (const f of FORMATS) if (sample.filter((r) => f.detect(r)).length * 2 > sample.length) return f;
  return undefined;
}

export function undetectedError(sample: readonly Fields[]): FieldError {
  const keys = [...new Set(sample.flatMap((r) => Object.keys(r)))].slice(0, 20);
  return new FieldError(
    'missing-field',
    undefined,
    `cannot tell the format from the fields [${keys.join(', ')}]: name it with --format (${FORMAT_NAMES.join(', ')}) or map fields with --prompt-field/--chosen-field/--rejected-field[/--label-field]`,
  );
}
