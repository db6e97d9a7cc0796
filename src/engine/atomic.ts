// Atomic writes: a reader sees the old file (or folder) or the whole new one, never a part.
//
//   writeFileAtomic / writeFileAtomicAsync   temp file beside the target, fsync'd, renamed over it
//   tempPath                                 the temp name both use (the streaming JSONL writer too)
//   linkFileAtomic                           a hard link (a copy where links fail) renamed over the target
//   hiddenTemp, sameFile                     a hidden temp name in a folder; whether two paths are one file
//   swapFolderAtomic                         a folder built beside the target, then swapped in
//   recoverFolderSwap                        what a swap that was killed between its renames left
//   removeLeftovers                          temp files and folders of processes no longer running
//
// Temp paths sit in the target's own folder so rename() never crosses a file system. Their names
// end in a tag "<pid>-<ms>-<random>", so leftovers of a killed process can be told from the work
// of one still running.
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** A unique name for in-progress work: process id, time and a random part. */
function tag(): string {
  return `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A leftover's name: "<anything>.tmp-<tag>" or "<anything>.old-<tag>"; groups: the name before, the kind, the pid, the time. */
const LEFTOVER = /^(.*)\.(tmp|old)-(\d+)-(\d+)-[a-z0-9]*$/;

/** Whether the process that made a temp name still runs (then its work is not a leftover). */
function running(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the temp files and folders in `dir` whose names carry the tag of a process no longer
 * running (a kill -9 mid-write leaves them); `keep` may spare some. Returns the names removed.
 */
export function removeLeftovers(dir: string, keep: (name: string) => boolean = () => false): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const m = LEFTOVER.exec(name);
    if (!m || running(Number(m[3])) || keep(name)) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** A hidden temp path for `name` in folder `dir` (".<name>.tmp-<tag>"). */
export function hiddenTemp(dir: string, name: string): string {
  return join(dir, `.${name}.tmp-${tag()}`);
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
      for (let at = 0; at < buf.length;) at += writeSync(fd, buf, at, buf.length - at);
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

/**
 * Puts `from`'s bytes at `to` atomically, as a hard link (no second copy of a large file) or, where
 * the file system refuses links, a copy. For files never written again in place (checkpoints).
 */
export function linkFileAtomic(from: string, to: string): void {
  // rename() of one hard link over another of the same file does nothing and would leave the temp link.
  if (sameFile(from, to)) return;
  const tmp = hiddenTemp(dirname(to), basename(to));
  try {
    try {
      linkSync(from, tmp);
    } catch {
      copyFileSync(from, tmp);
    }
    renameSync(tmp, to);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Whether two paths are the same file (a hard link of it). */
export function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
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
 * Undoes what a swapFolderAtomic of `dir` killed between its two renames left: no `dir`, and the
 * old folder aside as ".<name>.old-<tag>" — it is renamed back (the newest, if several). Then the
 * temp and old folders of swaps whose process is gone are deleted. Returns whether `dir` was
 * restored.
 */
export function recoverFolderSwap(dir: string): boolean {
  const target = resolve(dir);
  const parent = dirname(target);
  const prefix = `.${basename(target)}.`;
  if (!existsSync(parent)) return false;
  let restored = false;
  if (!existsSync(target)) {
    const olds = readdirSync(parent)
      .filter((n) => n.startsWith(`${prefix}old-`) && LEFTOVER.test(n) && !running(Number(LEFTOVER.exec(n)![3])))
      .sort((a, b) => Number(LEFTOVER.exec(a)![4]) - Number(LEFTOVER.exec(b)![4]));
    const newest = olds.at(-1);
    if (newest !== undefined) {
      renameSync(join(parent, newest), target);
      restored = true;
    }
  }
  removeLeftovers(parent, (n) => !n.startsWith(prefix));
  return restored;
}

/**
 * Replaces folder `dir` atomically: `fill(tmp)` writes the new contents into a temp folder beside
 * it; then the old folder is moved aside (rename() cannot replace a non-empty folder) and the new
 * one renamed into place. On failure the old folder is put back; temp folders never remain. A
 * kill between the two renames leaves no `dir` for a moment; recoverFolderSwap (run first by the
 * next swap and by loadCheckpoint) puts the old one back. Training runs do not swap their folder
 * (train/state.ts keeps checkpoint-N folders instead).
 */
export function swapFolderAtomic(dir: string, fill: (tmp: string) => void, opts: SwapFolderOptions = {}): void {
  const target = resolve(dir);
  recoverFolderSwap(target);
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
