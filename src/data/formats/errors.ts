// Why a record could not be read, named so a report can count by reason (`--skip-invalid`) and a
// person can find the line. Extends the JSONL module's error so every bad record in genrm reads
// the same way: "file:line: field "x": what was wrong, what was expected".
import { JsonlError } from '../jsonl.js';

export const INVALID_REASONS = [
  'encoding', // bytes that are not UTF-8
  'json', // not valid JSON (or a JSON array element that is not an object)
  'csv', // a CSV row the parser rejects (unclosed quote, wrong column count)
  'missing-field', // a field the format needs is absent
  'wrong-type', // a field of the wrong JSON type (e.g. a number where text is expected)
  'empty-field', // a needed text field that is empty or only whitespace
  'identical', // chosen and rejected are the same text: nothing to prefer
  'too-long', // the prompt is over --max-prompt-chars
  'label-range', // a label / vote outside the values the format allows
  'prefix-mismatch', // conversations that differ before their last assistant turn
] as const;
export type InvalidReason = (typeof INVALID_REASONS)[number];

export class FormatError extends JsonlError {
  constructor(
    file: string,
    line: number,
    readonly reason: InvalidReason,
    field: string | undefined,
    detail: string,
  ) {
    super(file, line, field, detail);
    this.name = 'FormatError';
  }
}

/** Thrown by record mappers (which know neither file nor line); the loader adds both. */
export class FieldError extends Error {
  constructor(
    readonly reason: InvalidReason,
    readonly field: string | undefined,
    detail: string,
  ) {
    super(detail);
    this.name = 'FieldError';
  }
}
