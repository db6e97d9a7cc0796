// JSON Lines in and out: genrm's one JSONL module.
//
//   reading   lines are split on the raw bytes and each is decoded with a fatal UTF-8 decoder, so
//             bad bytes are an error naming the file and line (never a silent U+FFFD); `.gz`
//             files are gunzipped on the fly; memory is one chunk plus one partial line.
//             readJsonl validates each record with a zod schema; a bad line is an error that
//             names the file, the line and the field (never a crash or a silent skip).
//   writing   record by record into a temp file beside the target, fsync'd and renamed over it on
//             close (JsonlSink): atomic, and memory stays at one batch whatever the file size.
import { GenrmError } from '../util/errors.js';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { z } from 'zod';
import { tempPath, writeFileAtomicAsync } from '../engine/atomic.js';

export class JsonlError extends GenrmError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string | undefined,
    detail: string,
  ) {
    super(`${file}:${line}${field ? `: field "${field}"` : ''}: ${detail}`, 'bad_input');
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

// ---- reading ------------------------------------------------------------------------------------

export interface Line {
  /** 1-based line number in the (decompressed) file. */
  line: number;
  /** The decoded text without its line ending; null when the bytes are not valid UTF-8. */
  text: string | null;
}

/** Bytes of the file read so far (compressed bytes for .gz): drives progress bars. */
export interface ReadProgress {
  bytes: number;
}

const NL = 0x0a;
const CR = 0x0d;

/** A raw byte stream of the file, decompressed when it ends in .gz. */
export function openBytes(file: string, progress?: ReadProgress): Readable {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  if (progress) raw.on('data', (c) => (progress.bytes += (c as Buffer).length));
  // pipeline, not pipe: a read error (missing file) must reach whoever reads the gunzipped side.
  return file.endsWith('.gz') ? pipeline(raw, createGunzip(), () => undefined) : raw;
}

/** A zlib failure (truncated or damaged .gz) as an error naming the file and how far it got. */
export function isZlibError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

export function gzipError(file: string, line: number, e: unknown): JsonlError {
  return new JsonlError(
    file,
    line,
    undefined,
    `the gzip data ends early or is damaged (${(e as Error).message}); the file looks truncated: download it again (gzip -t ${file} checks it)`,
  );
}

export async function* readLines(file: string, progress?: ReadProgress): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let carry: Buffer | null = null; // the partial line left at the end of the previous chunk
  let lineNo = 0;
  const decode = (bytes: Buffer): Line => {
    lineNo++;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CR) end--; // CRLF files
    try {
      // BOM: TextDecoder drops a leading U+FEFF itself (ignoreBOM: false), on every call; only
      // line 1 can carry one in practice.
      return { line: lineNo, text: decoder.decode(bytes.subarray(0, end)) };
    } catch {
      return { line: lineNo, text: null };
    }
  };
  const bytes = openBytes(file, progress);
  const chunks = (async function* () {
    try {
      for await (const c of bytes) yield c as Buffer;
    } catch (e) {
      if (isZlibError(e)) throw gzipError(file, lineNo + 1, e);
      throw e;
    }
  })();
  for await (const chunk of chunks) {
    let start = 0;
    let nl = chunk.indexOf(NL, start);
    while (nl >= 0) {
      const piece = chunk.subarray(start, nl);
      yield decode(carry ? Buffer.concat([carry, piece]) : piece);
      carry = null;
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      // Copy: the stream may reuse its buffer once we return.
      carry = carry ? Buffer.concat([carry, rest]) : Buffer.from(rest);
    }
  }
  if (carry && carry.length > 0) yield decode(carry);
}

/** Streams validated records from a JSONL file; blank lines are skipped. Yields [record, lineNo]. */
export async function* readJsonl<T>(file: string, schema: z.ZodType<T>): AsyncGenerator<[T, number]> {
  for await (const { line, text } of readLines(file)) {
    if (text === null) throw new JsonlError(file, line, undefined, 'not valid UTF-8');
    if (text.trim() === '') continue;
    yield [parseJsonlLine(text, schema, file, line), line];
  }
}

/** Reads a whole JSONL file into an array of validated records. */
export async function readJsonlAll<T>(file: string, schema: z.ZodType<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const [rec] of readJsonl(file, schema)) out.push(rec);
  return out;
}

// ---- writing ------------------------------------------------------------------------------------

/** Writes `data` to `file` atomically (../engine/atomic.ts); kept here for the data layer's callers. */
export const writeFileAtomic = writeFileAtomicAsync;

/** Serialises records one JSON object per line (with a trailing newline). */
export function toJsonl(records: Iterable<unknown>): string {
  const parts: string[] = [];
  for (const r of records) parts.push(JSON.stringify(r));
  return parts.length === 0 ? '' : parts.join('\n') + '\n';
}

/** Writes records to `file` atomically, streamed through a JsonlSink. */
export async function writeJsonl(file: string, records: Iterable<unknown> | AsyncIterable<unknown>): Promise<void> {
  await writeJsonlStream(file, records);
}

const BATCH_BYTES = 1 << 20; // 1 MiB per write: few syscalls, flat memory

export class JsonlSink {
  private parts: string[] = [];
  private pending = 0;
  private closed = false;
  records = 0;

  private constructor(
    readonly file: string,
    private readonly tmp: string,
    private readonly fh: FileHandle,
  ) {}

  static async open(file: string): Promise<JsonlSink> {
    await mkdir(dirname(file), { recursive: true });
    const tmp = tempPath(file);
    return new JsonlSink(file, tmp, await open(tmp, 'w'));
  }

  async write(record: unknown): Promise<void> {
    const line = JSON.stringify(record) + '\n';
    this.parts.push(line);
    this.pending += line.length;
    this.records++;
    if (this.pending >= BATCH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.pending = 0;
    await this.fh.write(text);
  }

  /** Makes the file appear, complete, at its name. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
      await this.fh.sync();
    } catch (e) {
      await this.fh.close();
      await rm(this.tmp, { force: true });
      throw e;
    }
    await this.fh.close();
    await rename(this.tmp, this.file);
  }

  /** Drops the temp file; the target is left as it was. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}

/** Writes every record of `records` to `file` atomically; returns the count. */
export async function writeJsonlStream(file: string, records: AsyncIterable<unknown> | Iterable<unknown>): Promise<number> {
  const sink = await JsonlSink.open(file);
  try {
    for await (const r of records) await sink.write(r);
  } catch (e) {
    await sink.abort();
    throw e;
  }
  await sink.close();
  return sink.records;
}
