// A JSONL file written record by record, atomically: lines go to a temp file beside the target,
// which is fsync'd and renamed over it only on close(). The JSONL module's writeJsonl builds the
// whole text in memory first, which a 1 GB convert cannot afford; this keeps memory at one batch.
import { mkdir, open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

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
    const tmp = `${file}.tmp-${process.pid}-${Math.floor(performance.now() * 1000)}`;
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
