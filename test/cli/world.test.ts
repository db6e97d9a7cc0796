import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/genrm.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('genrm world generate writes the world atomically and reproducibly; world stats reads it back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'genrm-world-'));
  const specFile = join(dir, 'small.yaml');
  // A small world: sizes and corpus overridden by a partial YAML spec.
  writeFileSync(specFile, 'pairs: {train: 600, testId: 100, testOod: 200}\ncorpus: {bytes: 50000}\n');
  const a = run('world', 'generate', '--out', join(dir, 'a'), '--spec', specFile, '--seed', '5', '--json');
  assert.equal(a.status, 0, a.stderr);
  const b = run('world', 'generate', '--out', join(dir, 'b'), '--spec', specFile, '--seed', '5', '--json');
  assert.equal(b.status, 0, b.stderr);
  const ma = JSON.parse(a.stdout) as { files: Record<string, { sha256: string; records: number }> };
  const mb = JSON.parse(b.stdout) as typeof ma;
  assert.deepEqual(ma.files, mb.files);
  assert.equal(ma.files['train.jsonl']?.records, 600);
  for (const f of ['spec.json', 'train.jsonl', 'test-id.jsonl', 'test-ood.jsonl', 'corpus.jsonl', 'manifest.json', 'README.md'])
    assert.equal(readFileSync(join(dir, 'a', f), 'utf8'), readFileSync(join(dir, 'b', f), 'utf8'), f);
  assert.ok(!readdirSync(join(dir, 'a')).some((f) => f.includes('.tmp-')), 'temp files left behind');
  // spec.json regenerates the same world.
  const c = run('world', 'generate', '--out', join(dir, 'c'), '--spec', join(dir, 'a', 'spec.json'), '--json');
  assert.equal(c.status, 0, c.stderr);
  assert.deepEqual((JSON.parse(c.stdout) as typeof ma).files, ma.files);

  const s = run('world', 'stats', join(dir, 'a'), '--json');
  assert.equal(s.status, 0, s.stderr);
  const stats = JSON.parse(s.stdout) as { splits: Record<string, { pairs: number }>; spec: { seed: number } };
  assert.equal(stats.splits['test-ood']?.pairs, 200);
  assert.equal(stats.spec.seed, 5);
  const h = run('world', 'stats', join(dir, 'a'));
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /shortcut baseline/);

  // Bad input: a clear one-line error naming what is wrong.
  const bad = run('world', 'generate', '--out', join(dir, 'x'), '--size', 'huge');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--size/);
  writeFileSync(specFile, 'styleRatio: -1\n');
  const badSpec = run('world', 'generate', '--out', join(dir, 'x'), '--spec', specFile);
  assert.notEqual(badSpec.status, 0);
  assert.match(badSpec.stderr, /field "styleRatio"/);
  writeFileSync(join(dir, 'a', 'test-id.jsonl'), '{"id": 3}\n');
  const badData = run('world', 'stats', join(dir, 'a'));
  assert.match(badData.stderr, /test-id\.jsonl:1: field "id"/);
  rmSync(dir, { recursive: true });
});
