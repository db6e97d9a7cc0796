// `genrm data inspect|convert` end to end through the built CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/genrm.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, 'data', ...args], { encoding: 'utf8' });

test('inspect reports format, counts, lengths, duplicates; convert writes PreferencePair JSONL; errors name file:line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'genrm-data-cli-'));
  try {
    const f = join(dir, 'rb.jsonl');
    const recs = [
      { prompt: 'aa', chosen: 'x', rejected: 'yy', subset: 'mt-bench-hard', id: 1 },
      { prompt: 'aa', chosen: 'x', rejected: 'yy', subset: 'mt-bench-hard', id: 2 },
      { prompt: 'bbbb', chosen: 'xxx', rejected: 'xxx', subset: 'donotanswer', id: 3 },
      { prompt: 'cccccc', chosen: 'zz', rejected: 'y', subset: 'donotanswer', id: 4 },
    ];
    writeFileSync(f, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');

    const bad = run('convert', f, '--out', join(dir, 'strict.jsonl'), '--strict');
    assert.equal(bad.status, 3); // bad input
    assert.match(bad.stderr, /rb\.jsonl:3: field "rejected": chosen and rejected are the same text.*--strict/);

    const text = run('inspect', f);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /records 4 {2}pairs 3 {2}ties 0 {2}invalid 1/);
    assert.match(text.stdout, /invalid records skipped: 1 of 4 \(identical 1 \(line 3\)\)/);

    const r = run('inspect', f, '--json');
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.format, 'rewardbench');
    assert.equal(rep.pairs, 3);
    assert.equal(rep.invalid.identical, 1);
    assert.deepEqual(rep.stats.lengths.prompt, { min: 2, median: 2, p95: 6, max: 6, mean: 10 / 3 });
    assert.deepEqual([rep.stats.duplicatePairs, rep.stats.duplicatePrompts], [1, 1]);

    const out = join(dir, 'out', 'pairs.jsonl');
    const c = run('convert', f, '--out', out);
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stdout, /3 pairs \(0 ties\) from 4 records.*\n.*invalid records skipped: 1 of 4 \(identical 1 \(line 3\)\)/);
    const written = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      written.map((p) => [p.id, p.category]),
      [
        ['1', 'chat-hard'],
        ['2', 'chat-hard'],
        ['4', 'safety'],
      ],
    );
    // What convert wrote reads back as genrm's own format.
    const back = JSON.parse(run('inspect', out, '--json').stdout);
    assert.equal(back.format, 'genrm');
    assert.equal(back.pairs, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('whole-file problems are one clean line naming the file: empty, binary, truncated .gz; no stack trace', async () => {
  const { gzipSync } = await import('node:zlib');
  const dir = mkdtempSync(join(tmpdir(), 'genrm-data-cli-'));
  try {
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    const e = run('inspect', empty);
    assert.equal(e.status, 3);
    assert.match(e.stderr, /empty\.jsonl: the file is empty \(0 bytes\)/);
    assert.doesNotMatch(e.stderr, /skip-invalid|\n\s+at /);

    const blob = join(dir, 'blob');
    writeFileSync(blob, Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 91) % 256)));
    const b = run('convert', blob, '--out', join(dir, 'o.jsonl'));
    assert.equal(b.status, 3);
    assert.match(b.stderr, /blob: not a text file/);
    assert.doesNotMatch(b.stderr, /Buffer|\n\s+at /);

    const body = Array.from({ length: 4000 }, (_, i) =>
      JSON.stringify({ prompt: `q${i} ${'z'.repeat(50)}`, chosen: `a${i}`, rejected: `b${i}` }),
    ).join('\n');
    const gz = gzipSync(Buffer.from(body));
    const cut = join(dir, 'cut.jsonl.gz');
    writeFileSync(cut, gz.subarray(0, gz.length >> 1));
    const c = run('convert', cut, '--out', join(dir, 'c.jsonl'));
    assert.equal(c.status, 3);
    assert.match(c.stderr, /cut\.jsonl\.gz:\d+: the gzip data ends early or is damaged/);
    assert.doesNotMatch(c.stderr, /Z_BUF_ERROR|\n\s+at /);
    assert.equal(existsSync(join(dir, 'c.jsonl')), false, 'nothing half-written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
