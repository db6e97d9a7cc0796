// `genrm serve` and `genrm judge` as a person runs them: the server as a child process on an
// ephemeral port (bound URL printed, SIGTERM stops it cleanly), and `genrm judge` against both the
// checkpoint folder and the server URL giving the same P(A).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTinyCheckpoint } from '../serve/helpers.js';

// Compiled (npm test) the CLI is bin/genrm.js over dist/; under tsx the TypeScript entry.
const underTsx = import.meta.url.endsWith('.ts');
const root = fileURLToPath(new URL(underTsx ? '../../' : '../../../', import.meta.url));
const cli = underTsx ? ['--import', 'tsx', join(root, 'src/cli/main.ts')] : [join(root, 'bin/genrm.js')];

function judge(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...cli, 'judge', ...args], { encoding: 'utf8', cwd: root });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('genrm serve prints its URL, serves, and exits 0 on SIGTERM; genrm judge gives the same P(A) by folder and by URL', async () => {
  const ck = makeTinyCheckpoint();
  const child = spawn(process.execPath, [...cli, 'serve', '--model', ck.dir, '--port', '0', '--json'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    child.stdout.setEncoding('utf8');
    while (!out.includes('\n')) out += (await once(child.stdout, 'data'))[0];
    const info = JSON.parse(out.split('\n')[0]!) as { url: string; model: string };
    assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    assert.equal(info.model, 'tiny');

    const pair = ['--prompt', 'What is 2+3?', '--a', '5', '--b', '6', '--json', '--no-swap'];
    const byDir = judge(['--model', ck.dir, ...pair]);
    assert.equal(byDir.status, 0, byDir.stderr);
    const byUrl = judge(['--model', info.url, ...pair]);
    assert.equal(byUrl.status, 0, byUrl.stderr);
    const a = JSON.parse(byDir.stdout);
    const b = JSON.parse(byUrl.stdout);
    assert.ok(Math.abs(a.pA - b.pA) < 1e-4, `${a.pA} vs ${b.pA}`);
    assert.ok(a.pA > 0 && a.pA < 1);
    assert.match(b.model, /^openai:/);

    // A data file: accuracy against the labels, per-pair verdicts written.
    const data = join(ck.root, 'pairs.jsonl');
    writeFileSync(
      data,
      ['p1', 'p2', 'p3'].map((id) => JSON.stringify({ id, prompt: 'What is 1+1?', chosen: '2', rejected: '3' })).join('\n') + '\n',
    );
    const outFile = join(ck.root, 'verdicts.jsonl');
    const file = judge(['--model', ck.dir, '--data', data, '--out', outFile, '--json']);
    assert.equal(file.status, 0, file.stderr);
    const s = JSON.parse(file.stdout);
    assert.equal(s.pairs, 3);
    assert.ok(s.accuracy >= 0 && s.accuracy <= 1);
    const { readFileSync } = await import('node:fs');
    const recs = readFileSync(outFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(recs.length, 3);
    const acc = recs.reduce((t: number, r: { score: number }) => t + r.score, 0) / 3;
    assert.ok(Math.abs(acc - s.accuracy) < 1e-12);
    assert.ok(recs.every((r: { orders: unknown[]; label: string }) => r.orders.length === 2 && (r.label === 'A' || r.label === 'B')));

    const bad = judge(['--model', ck.dir, '--prompt', 'x', '--a', 'y']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /needs all of --prompt, --a and --b/);

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    ck.cleanup();
  }
});

test('genrm judge --mode cot keeps what the judge wrote: rationales per order in --json (their verdicts are the votes), the first one in text', () => {
  const ck = makeTinyCheckpoint();
  try {
    const pair = [
      '--model',
      ck.dir,
      '--prompt',
      'What is 2+3?',
      '--a',
      '5',
      '--b',
      '6',
      '--mode',
      'cot',
      '--votes',
      '3',
      '--max-tokens',
      '12',
      '--seed',
      '4',
    ];
    const j = judge([...pair, '--json']);
    assert.equal(j.status, 0, j.stderr);
    const r = JSON.parse(j.stdout) as {
      orders: { votes: { A: number; B: number; invalid: number }; rationales: { text: string; verdict: string }[] }[];
    };
    assert.equal(r.orders.length, 2);
    for (const o of r.orders) {
      assert.equal(o.rationales.length, 3);
      const count = (v: string): number => o.rationales.filter((x) => x.verdict === v).length;
      assert.deepEqual({ A: count('A'), B: count('B'), invalid: count('invalid') }, o.votes);
      assert.ok(o.rationales.every((x) => typeof x.text === 'string'));
    }
    const t = judge(pair);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /order 1 \(A, B\), rationale 1 of 3 \(verdict (A|B|invalid)\):/);
    assert.match(t.stdout, /order 2 \(B, A\), rationale 1 of 3/);
  } finally {
    ck.cleanup();
  }
});

test('genrm serve --no-extensions looks like a plain server; genrm judge through it (top-logprob fallback) gives the P(A) of the folder', async () => {
  const base = join(root, 'models/base');
  const child = spawn(process.execPath, [...cli, 'serve', '--model', base, '--port', '0', '--json', '--no-extensions'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    child.stdout.setEncoding('utf8');
    while (!out.includes('\n')) out += (await once(child.stdout, 'data'))[0];
    const { url } = JSON.parse(out.split('\n')[0]!) as { url: string };
    const models = (await (await fetch(`${url}/models`)).json()) as { data: Record<string, unknown>[] };
    assert.equal('genrm' in models.data[0]!, false);
    const pair = ['--prompt', 'What is 17+25?', '--a', '42', '--b', '41', '--json', '--template', 'compact'];
    const byUrl = judge(['--model', url, ...pair]);
    assert.equal(byUrl.status, 0, byUrl.stderr);
    const byDir = judge(['--model', base, ...pair]);
    assert.equal(byDir.status, 0, byDir.stderr);
    const [a, b] = [JSON.parse(byDir.stdout), JSON.parse(byUrl.stdout)];
    assert.ok(Math.abs(a.pA - b.pA) < 1e-4, `${a.pA} by folder vs ${b.pA} by URL`);
    assert.notEqual(b.approximate, true);
  } finally {
    child.kill('SIGKILL');
  }
});
