// One JSON document streamed record by record: a top-level array of records (LLMBar, PandaLM), or
// an object of lists of records (EvalBiasBench: bias type → records; the key comes along as the
// record's group), or a single object (one record). A small scanner tracks strings and nesting
// so each record's text is cut out and parsed alone: memory stays at one record. Bare NaN (pandas
// writes it for missing values, e.g. PandaLM's testset-v1.json) is read as null. Structural
// damage (or bad bytes) ends the file with an error: past it, record boundaries cannot be trusted.
import { FormatError } from './errors.js';
import type { Fields, RecordItem } from './source.js';
import { type ReadProgress, readLines } from '../jsonl.js';

const isWs = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

export async function* jsonDocRecords(file: string, progress?: ReadProgress): AsyncGenerator<RecordItem> {
  const fail = (line: number, detail: string): RecordItem => ({ line, error: new FormatError(file, line, 'json', undefined, detail) });
  let top: 'array' | 'object' | null = null;
  let closed = false;
  let depth = 0; // open containers, the top one included
  let inString = false;
  let escaped = false;
  // object documents
  let keyStart = -1; // where the key string being read starts in this line
  let key = '';
  let expectKey = false;
  let awaitingValue = false;
  let listsSeen = 0;
  let single: string[] | null = null; // the whole text, once the document turns out to be one record
  let undecided: string[] = []; // lines of an object document before its first value says which kind
  let docLine = 0;
  // the record being cut out
  let base = -1; // depth just outside the record; -1: none open
  let parts: string[] = [];
  let startLine = 0;
  let group: string | undefined;
  let lastLine = 0;

  for await (const { line, text } of readLines(file, progress)) {
    lastLine = line;
    if (text === null) {
      yield {
        line,
        error: new FormatError(
          file,
          line,
          'encoding',
          undefined,
          'not valid UTF-8 (expected UTF-8 text; re-encode the file, e.g. iconv -t UTF-8)',
        ),
      };
      return;
    }
    if (single) {
      single.push(text, '\n');
      continue;
    }
    let seg = 0; // start of the current record's text within this line
    for (let i = 0; i < text.length; i++) {
      const c = text[i] as string;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') {
          inString = false;
          if (keyStart >= 0) {
            key = JSON.parse(text.slice(keyStart, i + 1)) as string;
            keyStart = -1;
          }
        }
        continue;
      }
      if (depth === 0) {
        if (isWs(c)) continue;
        if (closed) {
          yield fail(
            line,
            `text after the end of the JSON document${top === 'object' && c === '{' ? ' (this looks like JSON Lines: name the file .jsonl or pass --container jsonl)' : ''}`,
          );
          return;
        }
        if (c === '[') top = 'array';
        else if (c === '{') {
          top = 'object';
          expectKey = true;
          docLine = line;
        } else {
          yield fail(line, 'expected a JSON array of records ("[") or an object ("{") at the top of the file');
          return;
        }
        depth = 1;
        continue;
      }
      if (base < 0 && top === 'array' && depth === 1) {
        if (c === '{') {
          base = 1;
          depth = 2;
          startLine = line;
          parts = [];
          seg = i;
          group = undefined;
        } else if (c === ']') {
          depth = 0;
          closed = true;
        } else if (c !== ',' && !isWs(c)) {
          yield fail(line, `expected a record (an object) in the array, found "${c}"`);
          return;
        }
        continue;
      }
      if (base < 0 && top === 'object' && depth === 1) {
        if (isWs(c) || c === ',') {
          if (c === ',') expectKey = true;
          continue;
        }
        if (c === '"' && expectKey) {
          inString = true;
          keyStart = i;
          expectKey = false;
        } else if (c === ':') awaitingValue = true;
        else if (c === '}') {
          depth = 0;
          closed = true;
        } else if (awaitingValue && c === '[') {
          awaitingValue = false;
          listsSeen++;
          undecided = [];
          depth = 2;
        } else if (awaitingValue && listsSeen === 0) {
          // Not an object of lists: the document is one record, read whole.
          single = [...undecided, text, '\n'];
          break;
        } else {
          yield fail(line, `field "${key}": expected a list of records, as under the keys before it`);
          return;
        }
        continue;
      }
      if (base < 0 && top === 'object' && depth === 2) {
        if (c === '{') {
          base = 2;
          depth = 3;
          startLine = line;
          parts = [];
          seg = i;
          group = key;
        } else if (c === ']') depth = 1;
        else if (c !== ',' && !isWs(c)) {
          yield fail(line, `field "${key}": expected records (objects) in the list, found "${c}"`);
          return;
        }
        continue;
      }
      // Inside a record.
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === 'N' && text.startsWith('NaN', i)) {
        parts.push(text.slice(seg, i), 'null');
        seg = i + 3;
        i += 2;
      } else if (c === '}' || c === ']') {
        depth--;
        if (depth === base) {
          parts.push(text.slice(seg, i + 1));
          const body = parts.join('');
          parts = [];
          base = -1;
          try {
            yield { line: startLine, rec: JSON.parse(body) as Fields, ...(group !== undefined && { group }) };
          } catch (e) {
            yield fail(startLine, `not valid JSON (${(e as Error).message})`);
          }
        }
      }
    }
    if (single) continue;
    if (base >= 0) parts.push(text.slice(seg), '\n');
    if (top === 'object' && listsSeen === 0) undecided.push(text, '\n');
  }
  if (single) {
    try {
      const v: unknown = JSON.parse(single.join(''));
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) yield { line: docLine, rec: v as Fields };
      else yield fail(docLine, 'expected a JSON object');
    } catch (e) {
      yield fail(docLine, `not valid JSON (${(e as Error).message})`);
    }
    return;
  }
  if (top !== null && !closed) yield fail(base >= 0 ? startLine : lastLine, `the JSON ${top} is not closed (file truncated?)`);
}
