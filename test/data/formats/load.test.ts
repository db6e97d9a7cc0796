// The checks every format shares: identical-text ties are valid ties, empty and non-text answers
// are kept and flagged, duplicate ids are counted, and the generic mapper never guesses labels.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FileError } from '../../../src/data/formats/errors.js';
import { type TempDir, jsonl, tempDir } from './helpers.js';

let t: TempDir;
before(async () => (t = await tempDir()));
after(async () => t.close());

test('a tie of identical texts is a valid tie; identical texts with a winner are invalid, counted', async () => {
  const panda = (v: number[], r1: string, r2: string) => ({
    instruction: 'Say hi',
    response1: r1,
    response2: r2,
    annotator1: v[0],
    annotator2: v[1],
    annotator3: v[2],
  });
  const { pairs, report } = await t.load(
    'ties.jsonl',
    jsonl(panda([0, 0, 1], 'hi', 'hi'), panda([1, 1, 2], 'hi', 'hi'), panda([1, 1, 2], 'hi', 'bye')),
  );
  assert.deepEqual(
    pairs.map((p) => [p.chosen, p.rejected, p.tie ?? false]),
    [
      ['hi', 'hi', true],
      ['hi', 'bye', false],
    ],
  );
  assert.deepEqual([report.ties, report.invalid.identical, report.invalidLines.identical], [1, 1, [2]]);
});

test('an empty answer (HH-RLHF empty last turn, PandaLM empty response) and a non-text answer are kept as text and flagged', async () => {
  const base = '\n\nHuman: Tell me a joke.\n\nAssistant:';
  const hh = await t.load(
    'hh.jsonl',
    jsonl(
      { chosen: `${base} Why did the chicken cross the road?`, rejected: `${base}` },
      { chosen: `${base} A pun.`, rejected: `${base} No.` },
    ),
  );
  assert.equal(hh.report.format, 'hh-rlhf');
  assert.deepEqual(
    hh.pairs.map((p) => p.rejected),
    ['', 'No.'],
  );
  assert.deepEqual(hh.pairs[0]?.meta, { flags: ['empty-answer'] });
  assert.deepEqual([hh.report.flagged['empty-answer'], hh.report.flaggedLines['empty-answer']], [1, [1]]);

  const lb = await t.load(
    'lb.jsonl',
    jsonl(
      { input: 'Is 7 prime?', output_1: true, output_2: 'No', label: 1 },
      { input: 'Is 8 prime?', output_1: 'No', output_2: 0, label: 1 },
    ),
  );
  assert.deepEqual(
    lb.pairs.map((p) => [p.chosen, p.rejected]),
    [
      ['true', 'No'],
      ['No', '0'],
    ],
  );
  assert.equal(lb.report.flagged['non-text-answer'], 2);
  assert.deepEqual(lb.pairs[0]?.meta?.['flags'], ['non-text-answer']);
});

test('a repeated id is skipped and counted, naming the line it first appeared on', async () => {
  const { pairs, report } = await t.load(
    'dup.jsonl',
    jsonl(
      { id: 'a', prompt: 'p', chosen: 'x', rejected: 'y' },
      { id: 'b', prompt: 'p', chosen: 'x', rejected: 'y' },
      { id: 'a', prompt: 'q', chosen: 'x', rejected: 'y' },
    ),
  );
  assert.deepEqual(
    pairs.map((p) => p.id),
    ['a', 'b'],
  );
  assert.equal(report.invalid['duplicate-id'], 1);
  assert.match(report.examples['duplicate-id']?.[0] ?? '', /dup\.jsonl:3: field "id": id "a" was used before, on line 1/);
});

test('generic --label-field: values that fit several conventions, or not the given mapping, refuse the file naming --label-values', async () => {
  const rows = jsonl({ q: 'p1', a: 'x', b: 'y', l: 0 }, { q: 'p2', a: 'x', b: 'y', l: 1 }, { q: 'p3', a: 'x', b: 'y', l: 2 });
  const fields = { prompt: 'q', chosen: 'a', rejected: 'b', label: 'l' };
  // Auto-J's 0/1/2 must not be read with PandaLM's 1,2,0 (every label shifted): refused.
  const e = await t.failure('g.jsonl', rows, { skipInvalid: true, fields });
  assert.ok(e instanceof FileError);
  assert.match(
    e.message,
    /g\.jsonl: field "l": label values "0", "1", "2" do not say which answer each means.*--label-values FIRST,SECOND\[,TIE\]/,
  );
  const given = await t.load('g2.jsonl', rows, {
    skipInvalid: true,
    fields: { ...fields, labelValues: { first: '0', second: '1', tie: '2' } },
  });
  assert.deepEqual(
    given.pairs.map((p) => [p.chosen, p.tie ?? false]),
    [
      ['x', false],
      ['y', false],
      ['x', true],
    ],
  );
  assert.deepEqual(given.report.labelValues, { first: '0', second: '1', tie: '2' });
  // 1/2 and A/B(/tie) mean one thing only: read without flags.
  const ab = await t.load('g3.jsonl', jsonl({ q: 'p1', a: 'x', b: 'y', l: 'B' }, { q: 'p2', a: 'x', b: 'y', l: 'tie' }), {
    skipInvalid: true,
    fields,
  });
  assert.deepEqual(
    ab.pairs.map((p) => [p.chosen, p.tie ?? false]),
    [
      ['y', false],
      ['x', true],
    ],
  );
  const e2 = await t.failure('g4.jsonl', rows, { skipInvalid: true, fields: { ...fields, labelValues: { first: '1', second: '2' } } });
  assert.match(e2.message, /label values "0" are not in --label-values 1,2/);
});
