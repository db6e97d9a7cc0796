// Suite files and RewardBench-style scores: a category is its files' accuracies weighted (by
// their pair counts unless given), the score the mean of the categories; bad suite files named.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PreferencePair } from '../../src/data/pair.js';
import { recordFromScores } from '../../src/eval/fromJudge.js';
import { DEFAULT_BOOTSTRAP } from '../../src/eval/metrics/bootstrap.js';
import { readSuite, readSuiteSets, suiteScores, suiteTable } from '../../src/eval/suite.js';
import { toTerminal } from '../../src/eval/report/tables.js';

let dir: string;
before(async () => (dir = await mkdtemp(join(tmpdir(), 'genrm-suite-'))));
after(async () => rm(dir, { recursive: true, force: true }));

const rec = (split: string, id: string, right: boolean, tie = false) => {
  const p: PreferencePair = { id, prompt: 'q', chosen: 'a', rejected: 'b', split, ...(tie && { tie: true }) };
  return recordFromScores(p, right ? { chosen: 1, rejected: 0 } : { chosen: 0, rejected: 1 }, { method: 'bt' });
};

test('a suite file: categories of files, paths relative to it, names from the files; its pairs get split and category', async () => {
  await writeFile(join(dir, 'a.jsonl'), '{"prompt":"p","chosen":"x","rejected":"y"}\n{"prompt":"p2","chosen":"x","rejected":"y"}\n');
  await writeFile(join(dir, 'b.csv'), 'prompt,chosen,rejected\nq,u,v\n');
  const file = join(dir, 's.yaml');
  await writeFile(
    file,
    'name: mine\ncategories:\n  Chat:\n    - a.jsonl\n  Safety:\n    - path: b.csv\n      weight: 5\n      name: refusals\n',
  );
  const suite = await readSuite(file);
  assert.deepEqual(suite.categories, ['Chat', 'Safety']);
  assert.deepEqual(
    suite.entries.map((e) => [e.category, e.name, e.file, e.weight]),
    [
      ['Chat', 'a', join(dir, 'a.jsonl'), undefined],
      ['Safety', 'refusals', join(dir, 'b.csv'), 5],
    ],
  );
  const sets = await readSuiteSets(suite);
  assert.deepEqual(
    sets.flatMap((s) => s.pairs.map((p) => [p.split, p.category])),
    [
      ['a', 'Chat'],
      ['a', 'Chat'],
      ['refusals', 'Safety'],
    ],
  );
});

test('bad suite files: an unknown key, a missing list, two files of one name — each named', async () => {
  const bad = async (text: string) => {
    const f = join(dir, 'bad.yaml');
    await writeFile(f, text);
    return readSuite(f).then(
      () => assert.fail('expected an error'),
      (e: Error) => e.message,
    );
  };
  assert.match(await bad('categories:\n  Chat:\n    - path: a.jsonl\n      wieght: 2\n'), /field "categories\.Chat\[0\]": .*wieght/);
  assert.match(await bad('name: x\n'), /field "categories"/);
  assert.match(
    await bad('categories:\n  Chat: [x/a.jsonl]\n  Safety: [y/a.jsonl]\n'),
    /two files are named "a" \(x\/a\.jsonl and y\/a\.jsonl\); give one of them a "name:"/,
  );
  assert.match(await bad('categories: [\n'), /not valid YAML/);
});

test('scores: files weighted within a category (pair counts unless given), the score the mean of the categories; gold ties left out', async () => {
  const suite = {
    file: 's.yaml',
    categories: ['X', 'Y'],
    entries: [
      { category: 'X', name: 'A', file: 'A.jsonl' },
      { category: 'X', name: 'B', file: 'B.jsonl', weight: 6 },
      { category: 'Y', name: 'C', file: 'C.jsonl' },
    ],
  };
  const records = [
    ...[true, true, true, false].map((r, i) => rec('A', `a${i}`, r)),
    rec('A', 'tie', false, true),
    rec('B', 'b0', false),
    rec('B', 'b1', false),
    rec('C', 'c0', true),
  ];
  const [s] = suiteScores(records, suite, DEFAULT_BOOTSTRAP);
  assert.deepEqual(
    s!.files.map((f) => [f.name, f.pairs, f.weight, f.accuracy.value]),
    [
      ['A', 4, 4, 0.75],
      ['B', 2, 6, 0],
      ['C', 1, 1, 1],
    ],
  );
  const x = s!.categories.find((c) => c.category === 'X')!.accuracy;
  assert.ok(Math.abs(x.value! - (4 * 0.75 + 6 * 0) / 10) < 1e-12);
  assert.ok(Math.abs(s!.score.value! - (0.3 + 1) / 2) < 1e-12);
  assert.ok(s!.score.lo! <= s!.score.value! && s!.score.value! <= s!.score.hi!);
  // Without B's weight, X weighs its files by their pairs: RewardBench's rule.
  const [plain] = suiteScores(records, { ...suite, entries: suite.entries.map(({ weight: _w, ...e }) => e) }, DEFAULT_BOOTSTRAP);
  assert.ok(Math.abs(plain!.categories[0]!.accuracy.value! - 3 / 6) < 1e-12);
  const table = toTerminal(suiteTable(s!));
  assert.match(table, /X +\(category\) +30\.0/);
  assert.match(table, /score: mean of 2 categories +65\.0 \[/);
});
