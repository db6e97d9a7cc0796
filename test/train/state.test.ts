// kill -9 anywhere in a training run, the checkpoint write and its renames included, then resume:
// a complete checkpoint is reachable after every kill, the resumed run ends bitwise equal to one
// never interrupted (published model, trainer state, metrics), and no temp file or folder is
// left. The run is state.fixture.ts in a child process that kills itself at its k-th change to
// the disk (half-writing that change first). Also: a run folder of the earlier layout
// (trainer-state/ beside the model) resumes the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../../src/engine/checkpoint.js';
import { Prng } from '../../src/engine/prng.js';
import { LATEST_FILE, latestCheckpoint, readTrainerState } from '../../src/train/state.js';

const underTsx = import.meta.url.endsWith('.ts');
const fixture = fileURLToPath(new URL(`./state.fixture.${underTsx ? 'ts' : 'js'}`, import.meta.url));

interface Op {
  i: number;
  op: string;
  path: string;
}

/** Runs the fixture; killed: it died of its own SIGKILL at change k. */
function run(dir: string, k: number, trace = false): { killed: boolean; ops: Op[] } {
  const r = spawnSync(
    process.execPath,
    [...(underTsx ? ['--import', 'tsx'] : []), fixture, dir, String(k), ...(trace ? ['--trace'] : [])],
    { encoding: 'utf8' },
  );
  if (r.signal === 'SIGKILL') return { killed: true, ops: [] };
  assert.equal(r.status, 0, `fixture (k = ${k}) failed: ${r.stderr}`);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Op & { ops?: number });
  return { killed: false, ops: lines.filter((l) => l.ops === undefined) };
}

const quiet = (l: string): string => {
  const { elapsedSec: _e, tokensPerSec: _t, ...rest } = JSON.parse(l) as Record<string, unknown>;
  return JSON.stringify(rest);
};
const read = (p: string): Buffer => readFileSync(p);

/** The finished run in `b` is the one in `a`, byte for byte, and holds nothing else. */
function assertSameRun(a: string, b: string, what: string): void {
  assert.deepEqual(
    readdirSync(b).sort(),
    readdirSync(a).sort(),
    `${what}: the run folder holds what an uninterrupted one does (no temp files)`,
  );
  assert.deepEqual(
    readdirSync(join(b, '..')).filter((n) => n.startsWith('.')),
    [],
    `${what}: nothing left beside the run folder`,
  );
  const ca = latestCheckpoint(a)!;
  const cb = latestCheckpoint(b)!;
  assert.equal(basename(cb), basename(ca), what);
  assert.equal(readFileSync(join(b, LATEST_FILE), 'utf8').trim(), basename(cb), `${what}: latest names the checkpoint`);
  for (const f of [
    'model.safetensors',
    'genrm.json',
    'trainer-state/params.safetensors',
    'trainer-state/optimizer.safetensors',
    'trainer-state/best.safetensors',
  ].filter((f) => existsSync(join(ca, f))))
    assert.ok(read(join(ca, f)).equals(read(join(cb, f))), `${what}: ${f} differs`);
  const state = (d: string): unknown => {
    const { cpuSec: _c, ...rest } = JSON.parse(readFileSync(join(d, 'trainer-state/state.json'), 'utf8')) as Record<string, unknown>;
    return rest;
  };
  assert.deepEqual(state(cb), state(ca), `${what}: trainer-state/state.json differs (CPU seconds aside)`);
  assert.ok(read(join(a, 'model.safetensors')).equals(read(join(b, 'model.safetensors'))), `${what}: the published model differs`);
  const lines = (d: string): string[] => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map(quiet);
  assert.deepEqual(lines(b), lines(a), `${what}: metrics.jsonl differs`);
}

/** After a kill: a complete checkpoint is reachable once one was renamed into place, and a published genrm.json means a loadable model. */
function assertReachable(dir: string, hadOne: boolean, what: string): void {
  if (hadOne) {
    assert.ok(latestCheckpoint(dir) !== null, `${what}: no complete checkpoint after the kill`);
    readTrainerState(dir);
  }
  if (readdirSync(dir).includes('genrm.json')) loadCheckpoint(dir);
}

test('kill -9 at any point, the checkpoint swap included, then resume: bitwise the uninterrupted run, no leftovers', () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-crash-'));
  try {
    const a = join(root, 'ref', 'run');
    const { ops } = run(a, 0, true);
    const total = ops.length;
    // The write of the step-6 checkpoint: from its temp folder to the removal of checkpoint-3.
    const from = ops.find((o) => o.op === 'mkdirSync' && o.path.includes('.checkpoint-6.tmp-'))!.i;
    const to = ops.find((o) => o.op === 'rmSync' && o.path.includes('/.checkpoint-3.old-'))!.i;
    // The temp folder renamed to checkpoint-3 (the last rename of that folder; saveCheckpoint's own swap inside it comes first).
    const firstComplete = ops.filter((o) => o.op === 'renameSync' && /\/\.checkpoint-3\.tmp-[^/]*$/.test(o.path)).at(-1)!.i;
    assert.ok(from < to && to - from > 15, `the swap spans changes ${from}..${to}`);
    // Every rename, link and unlink of that write (the pointer's and the publication's too), and a seeded few of its writes.
    const rng = new Prng(22);
    const structural = ops
      .filter((o) => o.i >= from && o.i <= to && ['renameSync', 'linkSync', 'unlinkSync', 'rmSync'].includes(o.op))
      .map((o) => o.i);
    const writes = ops.filter((o) => o.i >= from && o.i <= to && !structural.includes(o.i)).map((o) => o.i);
    const points = [...new Set([...structural, ...Array.from({ length: 3 }, () => writes[rng.int(writes.length)]!)])].sort((x, y) => x - y);
    for (const k of points) {
      const b = join(root, `k${k}`, 'run');
      assert.equal(run(b, k).killed, true, `k = ${k}`);
      assertReachable(b, k > firstComplete, `killed at change ${k} (${ops[k - 1]!.op} ${basename(ops[k - 1]!.path)})`);
      assert.equal(run(b, 0).killed, false);
      assertSameRun(a, b, `killed at change ${k}`);
      rmSync(join(root, `k${k}`), { recursive: true, force: true });
    }
    // A chain: killed at random points again and again (the recovery on start included), then run to the end.
    const b = join(root, 'chain', 'run');
    for (let n = 0; n < 6; n++) {
      const k = 1 + rng.int(total);
      const had = latestCheckpoint(b) !== null;
      const r = run(b, k);
      if (r.killed) assertReachable(b, had || (n === 0 && k > firstComplete), `chain kill ${n} at change ${k}`);
    }
    run(b, 0);
    assertSameRun(a, b, 'after a chain of kills');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a run folder of the earlier layout (trainer-state/ beside the model) resumes bitwise, moved into checkpoint-<step>', () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-legacy-'));
  try {
    const a = join(root, 'ref', 'run');
    const { ops } = run(a, 0, true);
    const b = join(root, 'old', 'run');
    // Interrupted after the step-6 checkpoint was complete and published.
    const after6 = ops.find((o) => o.op === 'rmSync' && o.path.includes('/.checkpoint-3.old-'))!.i + 1;
    assert.equal(run(b, after6).killed, true);
    const ck = latestCheckpoint(b)!;
    assert.equal(basename(ck), 'checkpoint-6');
    // Rewrite it the way the earlier genrm laid a run out: the checkpoint's files at the top.
    cpSync(join(ck, 'trainer-state'), join(b, 'trainer-state'), { recursive: true });
    for (const f of readdirSync(b))
      if (f.startsWith('checkpoint-') || f.startsWith('.') || f === LATEST_FILE) rmSync(join(b, f), { recursive: true });
    // ...and a swap killed between its renames: the folder moved aside, none in its place.
    renameSync(b, join(root, 'old', '.run.old-4000000-1-abc'));
    assert.equal(run(b, 0).killed, false);
    assertSameRun(a, b, 'resumed from the earlier layout');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
