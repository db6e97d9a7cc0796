// Atomic writes: a reader sees the old file (or folder) or the whole new one, never a part.
//
//   writeFileAtomic / writeFileAtomicAsync   temp file beside the target, fsync'd, renamed over it
//   copyFileAtomic                           the same for a copy of another file
//   tempPath                                 the temp name both use (the streaming JSONL writer too)
//   swapFolderAtomic                         a folder built beside the target, then swapped in
//
// Temp paths sit in the target's own folder so rename() never crosses a file system.
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** A unique name for in-progress work: process id, time and a random part. */
function tag(): string {
  return `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A temp path beside `path` ("<path>.tmp-<tag>"). */
export function tempPath(path: string): string {
  return `${path}.tmp-${tag()}`;
}

/** Writes bytes to `path` synchronously and atomically. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = tempPath(path);
  try {
    const fd = openSync(tmp, 'w');
    try {
      const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
      for (let at = 0; at < buf.length; ) at += writeSync(fd, buf, at, buf.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Copies `from` to `to` atomically (the copy is made under a temp name, then renamed). */
export function copyFileAtomic(from: string, to: string): void {
  const tmp = tempPath(to);
  try {
    copyFileSync(from, tmp);
    renameSync(tmp, to);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Writes `data` to `file` atomically without blocking the event loop; creates the folder. */
export async function writeFileAtomicAsync(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = tempPath(file);
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

export interface SwapFolderOptions {
  /**
   * Whether an existing, non-empty folder at the target may be replaced, given its entries; when
   * false, `refusal` is thrown. Guards against replacing a folder that is not ours.
   */
  replaceable?: (entries: string[]) => boolean;
  /** The error message when `replaceable` says no. */
  refusal?: string;
}

/**
 * Replaces folder `dir` atomically: `fill(tmp)` writes the new contents into a temp folder beside
 * it; then the old folder is moved aside (rename() cannot replace a non-empty folder) and the new
 * one renamed into place. On failure the old folder is put back; temp folders never remain.
 */
export function swapFolderAtomic(dir: string, fill: (tmp: string) => void, opts: SwapFolderOptions = {}): void {
  const target = resolve(dir);
  if (opts.replaceable && existsSync(target)) {
    const present = readdirSync(target);
    if (present.length > 0 && !opts.replaceable(present)) throw new Error(opts.refusal ?? `refusing to replace ${dir}`);
  }
  mkdirSync(dirname(target), { recursive: true });
  const t = tag();
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${t}`);
  const old = join(dirname(target), `.${basename(target)}.old-${t}`);
  try {
    mkdirSync(tmp);
    fill(tmp);
    if (existsSync(target)) renameSync(target, old);
    renameSync(tmp, target);
  } catch (e) {
    if (existsSync(old) && !existsSync(target)) renameSync(old, target);
    throw e;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
}
