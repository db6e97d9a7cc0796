// What each format module provides: how to recognise its records and how to map one onto a
// PreferencePair (DESIGN.md §5). Mappers are pure and throw FieldError; the loader adds file:line.
import type { PreferencePair } from '../pair.js';
import type { Fields } from './source.js';

export interface MapContext {
  /** The id to use when the record has none: "<file name>:<line>", stable and easy to trace. */
  fallbackId: string;
}

export type Mapper = (rec: Fields, ctx: MapContext) => PreferencePair;

export interface FormatDef {
  name: string;
  /** One line for `--help` and `inspect`, with where the field names come from. */
  describe: string;
  /** True when a record's fields look like this format (checked in registry order). */
  detect(rec: Fields): boolean;
  map: Mapper;
}

export const has = (rec: Fields, ...keys: string[]): boolean => keys.every((k) => k in rec);
