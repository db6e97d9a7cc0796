// Why a record could not be read, named so a report can count by reason and a person can find the
// line; and why a whole file cannot be read (FileError: empty, not text, truncated, undetectable).
// Extends the JSONL module's error so every bad record in genrm reads the same way:
// "file:line: field "x": what was wrong, what was expected".
import { GenrmError } from '../../util/errors.js';
import { JsonlError } from '../jsonl.js';

export const INVALID_REASONS = [
  'encoding', // bytes that are not UTF-8
  'json', // not valid JSON (or a JSON array element that is not an object)
  'csv', // a CSV row the parser rejects (unclosed quote, wrong column count)
  'missing-field', // a field the format needs is absent
  'wrong-type', // a field of the wrong JSON type (e.g. a list where text is expected)
  'empty-field', // a needed text field (the prompt) that is empty or only whitespace
  'identical', // chosen and rejected are the same text and the record is not a tie: nothing to prefer
  'too-long', // the prompt is over --max-prompt-chars
  'label-range', // a label / vote outside the values the format allows
  'prefix-mismatch', // conversations that differ before their last assistant turn
  'duplicate-id', // an id seen before in the same split: eval keys records by (split, id)
  'unpaired', // grouped formats (XSTest, solutions): no partner of the other kind for this answer
] as const;
export type InvalidReason = (typeof INVALID_REASONS)[number];

/** Answers kept as they are but counted, so a report shows them: other harnesses keep these records too. */
export const ANSWER_FLAGS = [
  'empty-answer', // an answer that is empty or only whitespace (kept: the judge sees an empty answer)
  'non-text-answer', // a number or boolean answer, read as its text ("true", "5")
] as const;
export type AnswerFlag = (typeof ANSWER_FLAGS)[number];

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

/** The file as a whole cannot be read (nothing to skip past): empty, binary, truncated, or its format unknown. */
export class FileError extends GenrmError {
  constructor(
    readonly file: string,
    detail: string,
    readonly line?: number,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${detail}`, 'bad_input');
    this.name = 'FileError';
  }
}

/** Thrown by record mappers (which know neither file nor line); the loader adds both. */
export class FieldError extends GenrmError {
  constructor(
    readonly reason: InvalidReason,
    readonly field: string | undefined,
    detail: string,
  ) {
    super(detail, 'bad_input');
    this.name = 'FieldError';
  }
}
