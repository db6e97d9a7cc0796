// Records out of a file, whatever its container: JSON Lines, one JSON document (an array of
// records, an object of lists of records, or one record) or CSV/TSV with a header row. Each record
// comes with the line it starts on; a record that cannot be read comes as a FormatError instead
// (the loader skips and counts it, or throws it under --strict). Everything streams: memory stays
// flat on files of any size. A file that is not text at all is refused here, before any record.
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { type Options as CsvOptions, parse as parseCsv } from 'csv-parse';
import { FileError, FormatError } from './errors.js';
import { jsonDocRecords } from './jsonDoc.js';
import { type ReadProgress, gzipError, isZlibError, openBytes, readLines } from '../jsonl.js';

export const CONTAINERS = ['jsonl', 'json', 'csv', 'tsv'] as const;
export type Container = (typeof CONTAINERS)[number];

export type Fields = Record<string, unknown>;
export type RecordItem = { line: number; rec: Fields; group?: string } | { line: number; error: FormatError };

const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

const HEAD_BYTES = 1 << 20; // enough for the first line of any JSONL file we have seen

async function readHead(file: string): Promise<Buffer> {
  if (file.endsWith('.gz')) {
    const parts: Buffer[] = [];
    let n = 0;
    try {
      for await (const c of openBytes(file)) {
        parts.push(c as Buffer);
        n += (c as Buffer).length;
        if (n >= HEAD_BYTES) break;
      }
    } catch (e) {
      // A short .gz may fail before its first chunk: what was read is still the head.
      if (!isZlibError(e)) throw e;
      if (n === 0) throw gzipError(file, 1, e);
    }
    return Buffer.concat(parts).subarray(0, HEAD_BYTES);
  }
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(HEAD_BYTES), 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Refuses bytes that are not text: NULs, mostly invalid UTF-8, or gzip data under another name.
 * A text file with a few bad bytes passes: those lines are the records' own errors.
 */
function checkText(file: string, head: Buffer): string {
  if (!file.endsWith('.gz') && head[0] === 0x1f && head[1] === 0x8b)
    throw new FileError(file, 'not a text file: it is gzip-compressed; name it with a .gz ending (genrm reads .gz files as they are)');
  // stream: a multi-byte character straddling the end of the head is left undecoded, not replaced.
  const text = new TextDecoder('utf-8').decode(head, { stream: true });
  let bad = 0;
  for (const ch of text) if (ch === '\uFFFD') bad++;
  if (head.includes(0) || bad > Math.max(8, text.length / 100))
    throw new FileError(
      file,
      'not a text file (binary or non-UTF-8 bytes near its start); expected UTF-8 JSON Lines, JSON or CSV/TSV, optionally gzipped as .gz',
    );
  return text;
}

/**
 * From the extension (.jsonl, .csv, .tsv), else from the first non-blank character: '[' is a JSON
 * array; '{' is JSON Lines when its first line is a whole object and another line starts with
 * '{', otherwise one JSON document (a .json file holding an object of lists, or one record).
 */
export async function detectContainer(file: string): Promise<Container> {
  const head = await readHead(file);
  const text = checkText(file, head);
  const name = file.replace(/\.gz$/, '').toLowerCase();
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.tsv')) return 'tsv';
  const body = text.replace(/^\uFEFF/, '');
  const first = body.trimStart()[0];
  if (first === '[') return 'json';
  if (first !== '{') return 'csv';
  const lines = body.split('\n').filter((l) => l.trim() !== '');
  try {
    if (isObject(JSON.parse(lines[0] ?? '')) && lines[1]?.trimStart().startsWith('{')) return 'jsonl';
  } catch {
    // the first line is not a whole object: a pretty-printed document
  }
  return 'json';
}

export function readRecords(file: string, container: Container, progress?: ReadProgress): AsyncGenerator<RecordItem> {
  if (container === 'jsonl') return jsonlRecords(file, progress);
  if (container === 'json') return jsonDocRecords(file, progress);
  return csvRecords(file, container === 'tsv' ? '\t' : ',', progress);
}

const badBytes = (file: string, line: number): FormatError =>
  new FormatError(file, line, 'encoding', undefined, 'not valid UTF-8 (expected UTF-8 text; re-encode the file, e.g. iconv -t UTF-8)');

async function* jsonlRecords(file: string, progress?: ReadProgress): AsyncGenerator<RecordItem> {
  for await (const { line, text } of readLines(file, progress)) {
    if (text === null) {
      yield { line, error: badBytes(file, line) };
      continue;
    }
    if (text.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      yield {
        line,
        error: new FormatError(
          file,
          line,
          'json',
          undefined,
          `not valid JSON (${(e as Error).message}); expected one JSON object per line`,
        ),
      };
      continue;
    }
    if (!isObject(v)) yield { line, error: new FormatError(file, line, 'json', undefined, 'expected a JSON object on this line') };
    else yield { line, rec: v };
  }
}

/**
 * CSV/TSV with a header row, through csv-parse (quoted commas, doubled quotes and newlines inside
 * quoted fields). Fields come as bytes and are decoded strictly so bad UTF-8 names its row. Every
 * row, good or bad, is named by the line it starts on (a quoted field may span lines).
 */
async function* csvRecords(file: string, delimiter: string, progress?: ReadProgress): AsyncGenerator<RecordItem> {
  // The line a row starts on: one past where the previous row ended, plus blank lines skipped.
  let prevEnd = 0;
  let prevEmpty = 0;
  const startOf = (ctx: { lines: number; empty_lines: number }): number => prevEnd + 1 + (ctx.empty_lines - prevEmpty);
  const skipped: { line: number; message: string }[] = [];
  const options: CsvOptions<unknown, unknown> = {
    delimiter,
    bom: true,
    encoding: null,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    // A bad row is reported and skipped; the rows before it in the same chunk are kept.
    skip_records_with_error: true,
    on_record: (r: unknown, ctx) => {
      const start = startOf(ctx);
      prevEnd = ctx.lines;
      prevEmpty = ctx.empty_lines;
      return { record: (r as { record: Buffer[] }).record, start };
    },
  };
  const parser = parseCsv(options as CsvOptions);
  parser.on('skip', (e: Error & { lines?: number; empty_lines?: number }) => {
    const line = startOf({ lines: e.lines ?? 0, empty_lines: e.empty_lines ?? prevEmpty });
    if (skipped.at(-1)?.line !== line) skipped.push({ line, message: e.message });
  });
  // pipeline: an input error (missing file, bad gzip) reaches the parser; an early stop by the
  // consumer destroys the parser, and pipeline then closes the file.
  pipeline(openBytes(file, progress), parser, () => undefined);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const csvError = (s: { line: number; message: string }): RecordItem => ({
    line: s.line,
    error: new FormatError(
      file,
      s.line,
      'csv',
      undefined,
      `${s.message.replace(/ at line \d+/, '')} in the row starting here (expected RFC 4180 CSV: quote fields holding commas, quotes or newlines)`,
    ),
  });
  let header: string[] | null = null;
  try {
    for await (const item of parser as AsyncIterable<{ record: Buffer[]; start: number }>) {
      const line = item.start;
      while (skipped.length > 0 && (skipped[0] as { line: number }).line < line) yield csvError(skipped.shift()!);
      let cells: string[];
      try {
        cells = item.record.map((b) => decoder.decode(b));
      } catch {
        yield { line, error: badBytes(file, line) };
        continue;
      }
      if (header === null) {
        header = cells.map((h) => h.trim());
        continue;
      }
      if (cells.length !== header.length) {
        yield {
          line,
          error: new FormatError(file, line, 'csv', undefined, `expected ${header.length} columns as in the header, found ${cells.length}`),
        };
        continue;
      }
      const rec: Fields = {};
      header.forEach((h, i) => (rec[h] = cells[i]));
      yield { line, rec };
    }
  } catch (e) {
    if (isZlibError(e)) throw gzipError(file, prevEnd + 1, e);
    throw e;
  }
  for (const s of skipped) yield csvError(s);
}
