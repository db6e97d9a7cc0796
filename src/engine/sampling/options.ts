// The sampling options every generate in genrm takes, their defaults and their rules, in one place:
// the engine's generate, the LanguageModel seam (backends/types.ts resolveGenerateOptions) and the
// server's request schemas (serve/schemas.ts, under OpenAI's field names) all check against
// SAMPLING_FIELDS, so a rule changed here changes everywhere.
import { z } from 'zod';

/** Defaults shared by every backend: one sample, the model's own distribution, 256 tokens (a judge rationale fits). */
export const SAMPLING_DEFAULTS = {
  n: 1,
  temperature: 1.0,
  topP: 1.0,
  topK: 0,
  maxTokens: 256,
  topLogprobs: 0,
} as const;

/** Each field's rule and what it must be, in words (for the error). zod numbers refuse NaN and ±Infinity. */
export const SAMPLING_FIELDS = {
  n: { schema: z.number().int().min(1), want: 'an integer >= 1' },
  temperature: { schema: z.number().min(0), want: 'a number >= 0' },
  topP: { schema: z.number().gt(0).max(1), want: 'in (0, 1]' },
  topK: { schema: z.number().int().min(0), want: 'an integer >= 0' },
  maxTokens: { schema: z.number().int().min(0), want: 'an integer >= 0' },
  seed: { schema: z.number().int(), want: 'an integer' },
  topLogprobs: { schema: z.number().int().min(0), want: 'an integer >= 0' },
} as const;

export type SamplingField = keyof typeof SAMPLING_FIELDS;

/** Throws a RangeError naming the first field (absent ones skipped) that breaks its rule, with the value given. */
export function checkSampling(o: Partial<Record<SamplingField, unknown>>): void {
  for (const [field, rule] of Object.entries(SAMPLING_FIELDS)) {
    const v = o[field as SamplingField];
    if (v !== undefined && !rule.schema.safeParse(v).success)
      throw new RangeError(`generate options: ${field} must be ${rule.want}, got ${String(v)}`);
  }
}
