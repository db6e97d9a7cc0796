// What each format module provides: how to recognise its records and how to map one onto
// PreferencePairs (docs/ARCHITECTURE.md, Contracts). Mappers are pure and throw FieldError; the loader adds file:line.
import type { PreferencePair, Prompt } from '../pair.js';
import type { AnswerFlag } from './errors.js';
import type { Fields } from './source.js';

export interface MapContext {
  /** The id to use when the record has none: "<file name>:<line>", stable and easy to trace. */
  fallbackId: string;
  /** A JSON document's key the record was listed under (EvalBiasBench: the bias type). */
  group?: string;
  /** Count an answer the mapper kept but changed or found odd (a boolean read as "true"). */
  flag(kind: AnswerFlag, field: string): void;
}

/** One record's pairs: most formats give one, RM-Bench a 3×3 grid of styles. */
export type Mapper = (rec: Fields, ctx: MapContext) => PreferencePair | PreferencePair[];

/** One answer of a grouped format, waiting for a partner of the other kind. */
export interface Member {
  /** Records with the same key answer the same prompt. */
  key: string;
  id?: string;
  prompt: Prompt;
  answer: string;
  /** true: a right answer; false: a wrong one; null: neither (left unpaired, counted). */
  good: boolean | null;
  /** Said in the report when the member stays unpaired. */
  why?: string;
  category?: string;
  subset?: string;
  meta?: Record<string, unknown>;
}

/**
 * Formats whose records are single answers with a verdict (XSTest completions, solutions with a
 * correctness flag): the file is read whole, answers are grouped by prompt, and each wrong
 * answer is paired with a right one of the same prompt.
 */
export interface GroupedFormat {
  member(rec: Fields, ctx: MapContext): Member;
}

export interface FormatDef {
  name: string;
  /** One line for `--help` and `inspect`, with where the field names come from. */
  describe: string;
  /** True when a record's fields look like this format (checked in registry order). */
  detect(rec: Fields): boolean;
  map?: Mapper;
  grouped?: GroupedFormat;
}

export const has = (rec: Fields, ...keys: string[]): boolean => keys.every((k) => k in rec);
