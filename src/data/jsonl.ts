// JSON Lines in and out, validated with a zod schema. A bad line is an error that names the file,
// the line and the field (DESIGN.md §3: never a crash or a silent skip). Reading streams line by
// line so large files never sit in memory whole; writing is atomic (temp file, then rename).
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { z } from 'zod';

export class JsonlError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string | undefined,
    detail: string,
  ) {
    super(`${file}:${line}${field ? `: field "${field}"` : ''}: ${detail}`);
    this.name = 'JsonlError';
  }
}

/** Turns a zod issue path into "meta.styles.chosen" / "prompt[2].role". */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

/** Parses one line's text; throws JsonlError naming file:line:field. */
export function parseJsonlLine<T>(text: string, schema: z.ZodType<T>, file: string, line: number): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new JsonlError(file, line, undefined, `not valid JSON (${(e as Error).message})`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue ? fieldPath(issue.path) : undefined;
    throw new JsonlError(file, line, field === '' ? '(record)' : field, issue ? issue.message : 'invalid record');
  }
  return r.data;
}

/** Streams validated records from a JSONL file; blank lines are skipped. Yields [record, lineNo]. */
export async function* readJsonl<T>(file: string, schema: z.ZodType<T>): AsyncGenerator<[T, number]> {
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of rl) {
    lineNo++;
    if (line.trim() === '') continue;
    yield [parseJsonlLine(line, schema, file, lineNo), lineNo];
  }
}

/** Reads a whole JSONL file into an array of validated records. */
export async function readJsonlAll<T>(file: string, schema: z.ZodType<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const [rec] of readJsonl(file, schema)) out.push(rec);
  return out;
}

/** Writes `data` to `file` atomically: a temp file beside it, fsync'd, then renamed over it. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.floor(performance.now() * 1000)}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, file);
}

/** Serialises records one JSON object per line (with a trailing newline). */
export function toJsonl(records: Iterable<unknown>): string {
  const parts: string[] = [];
  for (const r of records) parts.push(JSON.stringify(r));
  return parts.length === 0 ? '' : parts.join('\n') + '\n';
}

export async function writeJsonl(file: string, records: Iterable<unknown>): Promise<void> {
  await writeFileAtomic(file, toJsonl(records));
}
