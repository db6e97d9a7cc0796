// Records out of a file, whatever its container: JSON Lines, one JSON array of objects, or CSV/TSV
// with a header row. Each record comes with the line it starts on; a record that cannot be read
// comes as a FormatError instead (the loader throws it, or skips and counts it). Everything
// streams: memory stays flat on files of any size.
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { FormatError } from './errors.js';
import { type ReadProgress, openBytes, readLines } from '../jsonl.js';

export const CONTAINERS = ['jsonl', 'json', 'csv', 'tsv'] as const;
export type Container = (typeof CONTAINERS)[number];

export type Fields = Record<string, unknown>;
export type RecordItem = { line: number; rec: Fields } | { line: number; error: FormatError };

const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

/** From the extension, else from the first non-blank byte ('[' a JSON array, '{' JSONL, else CSV). */
export async function detectContainer(file: string): Promise<Container> {
  const name = file.replace(/\.gz$/, '').toLowerCase();
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.tsv')) return 'tsv';
  let head = '';
  if (file.endsWith('.gz')) {
    for await (const c of openBytes(file)) {
      head = c.subarray(0, 4096).toString('utf8');
      break;
    }
  } else {
    const fh = await open(file, 'r');
    try {
      const { buffer, bytesRead } = await fh.read(Buffer.alloc(4096), 0, 4096, 0);
      head = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  }
  const first = head.replace(/^\uFEFF/, '').trimStart()[0];
  if (first === '[') return 'json';
  if (first === '{') return 'jsonl';
  return 'csv';
}

export function readRecords(file: string, container: Container, progress?: ReadProgress): AsyncGenerator<RecordItem> {
  if (container === 'jsonl') return jsonlRecords(file, progress);
  if (container === 'json') return jsonArrayRecords(file, progress);
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
      yield { line, error: new FormatError(file, line, 'json', undefined, `not valid JSON (${(e as Error).message}); expected one JSON object per line`) };
      continue;
    }
    if (!isObject(v)) yield { line, error: new FormatError(file, line, 'json', undefined, 'expected a JSON object on this line') };
    else yield { line, rec: v };
  }
}

/**
 * A top-level JSON array streamed element by element: a small scanner tracks strings and nesting
 * so each object's text is cut out and parsed alone. Bare NaN (pandas writes it for missing values,
 * e.g. PandaLM's testset-v1.json) is read as null. Structural damage (or bad bytes) ends the file
 * with an error: past it, element boundaries cannot be trusted.
 */
async function* jsonArrayRecords(file: string, progress?: ReadProgress): AsyncGenerator<RecordItem> {
  let depth = 0; // 0: before '[', 1: inside the array, >1: inside an element
  let inString = false;
  let escaped = false;
  let parts: string[] = []; // the current element's text
  let startLine = 0;
  let done = false;
  for await (const { line, text } of readLines(file, progress)) {
    if (text === null) {
      yield { line, error: badBytes(file, line) };
      return;
    }
    if (done) {
      if (text.trim() !== '') {
        yield { line, error: new FormatError(file, line, 'json', undefined, 'text after the closing "]" of the array') };
        return;
      }
      continue;
    }
    let seg = 0; // start of the current element's text within this line
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (depth === 0) {
        if (c === '[') depth = 1;
        else if (!/\s/.test(c as string)) {
          yield { line, error: new FormatError(file, line, 'json', undefined, 'expected a JSON array of objects ("[") at the top of the file') };
          return;
        }
        continue;
      }
      if (depth === 1) {
        if (c === '{') {
          depth = 2;
          startLine = line;
          parts = [];
          seg = i;
        } else if (c === ']') done = true;
        else if (c !== ',' && !/\s/.test(c as string)) {
          yield { line, error: new FormatError(file, line, 'json', undefined, `expected an object in the array, found "${c}"`) };
          return;
        }
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === 'N' && text.startsWith('NaN', i)) {
        parts.push(text.slice(seg, i), 'null');
        seg = i + 3;
        i += 2;
      } else if (c === '}' || c === ']') {
        depth--;
        if (depth === 1) {
          parts.push(text.slice(seg, i + 1));
          const body = parts.join('');
          parts = [];
          try {
            yield { line: startLine, rec: JSON.parse(body) as Fields };
          } catch (e) {
            yield { line: startLine, error: new FormatError(file, startLine, 'json', undefined, `not valid JSON (${(e as Error).message})`) };
          }
        }
      }
    }
    if (depth > 1) parts.push(text.slice(seg), '\n');
  }
  if (!done) yield { line: startLine, error: new FormatError(file, startLine, 'json', undefined, 'the JSON array is not closed (file truncated?)') };
}

/**
 * CSV/TSV with a header row, through csv-parse (quoted commas, doubled quotes and newlines inside
 * quoted fields). Fields come as bytes and are decoded strictly so bad UTF-8 names its row.
 */
async function* csvRecords(file: string, delimiter: string, progress?: ReadProgress): AsyncGenerator<RecordItem> {
  const parser = parseCsv({ delimiter, bom: true, encoding: null, info: true, relax_column_count: true, skip_empty_lines: true });
  // pipeline: an input error (missing file, bad gzip) reaches the parser; an early stop by the
  // consumer destroys the parser, and pipeline then closes the file.
  pipeline(openBytes(file, progress), parser, () => undefined);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let header: string[] | null = null;
  try {
    for await (const item of parser as AsyncIterable<{ record: Buffer[]; info: { lines: number } }>) {
      // info.lines is the line the row ends on; a quoted field may span lines, so report that.
      const line = item.info.lines;
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
        yield { line, error: new FormatError(file, line, 'csv', undefined, `expected ${header.length} columns as in the header, found ${cells.length}`) };
        continue;
      }
      const rec: Fields = {};
      header.forEach((h, i) => (rec[h] = cells[i]));
      yield { line, rec };
    }
  } catch (e) {
    const err = e as Error & { lines?: number };
    const line = err.lines ?? 0;
    yield { line, error: new FormatError(file, line, 'csv', undefined, `${err.message} (expected RFC 4180 CSV: quote fields holding commas, quotes or newlines)`) };
  }
}
