// Files as users bring them: truncated .gz, CSV errors named by the record's first line, binary
// files without an extension, empty files, and .json files that are one document (or JSONL).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FileError } from '../../../src/data/formats/errors.js';
import { detectContainer } from '../../../src/data/formats/source.js';
import { JsonlError } from '../../../src/data/jsonl.js';
import { type TempDir, jsonl, tempDir } from './helpers.js';

let t: TempDir;
before(async () => (t = await tempDir()));
after(async () => t.close());

const many = (n: number) =>
  jsonl(...Array.from({ length: n }, (_, i) => ({ prompt: `question ${i} ${'x'.repeat(40)}`, chosen: `good ${i}`, rejected: `bad ${i}` })));

test('a truncated .gz is an error naming the file and where it broke, for JSONL and CSV alike', async () => {
  const gz = gzipSync(Buffer.from(many(3000)));
  const cut = gz.subarray(0, Math.floor(gz.length * 0.6));
  const e = await t.failure('cut.jsonl.gz', cut, { skipInvalid: true });
  assert.ok(e instanceof JsonlError, String(e));
  assert.match(
    e.message,
    /cut\.jsonl\.gz:\d+: the gzip data ends early or is damaged \(unexpected end of file\); the file looks truncated/,
  );

  const csv = gzipSync(
    Buffer.from('prompt,chosen,rejected\n' + Array.from({ length: 3000 }, (_, i) => `q${i} ${'y'.repeat(30)},a${i},b${i}`).join('\n')),
  );
  const e2 = await t.failure('cut.csv.gz', csv.subarray(0, Math.floor(csv.length * 0.6)), { skipInvalid: true });
  assert.ok(e2 instanceof JsonlError, String(e2));
  assert.match(e2.message, /cut\.csv\.gz:\d+: the gzip data ends early/);
});

test('CSV: a broken quote is named by the line its record starts on; the good rows around it are kept', async () => {
  const csv = 'prompt,chosen,rejected\np1,a,b\n\n"p2 spans\nthree\nlines",a,b\np3,"bad"quote,b\np4,a,b\n';
  const { pairs, report, lines } = await t.load('broken.csv', csv);
  assert.deepEqual(lines, [2, 4]);
  assert.deepEqual(
    pairs.map((p) => p.prompt),
    ['p1', 'p2 spans\nthree\nlines'],
  );
  assert.equal(report.invalid.csv, 1);
  assert.deepEqual(report.invalidLines.csv, [7]);
  assert.match(report.examples.csv?.[0] ?? '', /broken\.csv:7: Invalid Closing Quote.* in the row starting here/);
  // --strict (skipInvalid off) refuses the file at that row.
  const e = await t.failure('broken2.csv', csv, { skipInvalid: false });
  assert.match(e.message, /broken2\.csv:7:/);
});

test('a binary file without an extension, or gzip data not named .gz, is "not a text file"', async () => {
  const bin = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256));
  const e = await t.failure('blob', bin);
  assert.ok(e instanceof FileError);
  assert.match(e.message, /blob: not a text file \(binary or non-UTF-8 bytes near its start\)/);
  const gz = await t.failure('data.jsonl.bin', gzipSync(Buffer.from(many(3))));
  assert.match(gz.message, /not a text file: it is gzip-compressed; name it with a \.gz ending/);
});

test('an empty file, or one of blank lines only, says so (and suggests nothing that would not help)', async () => {
  const e = await t.failure('empty.jsonl', '');
  assert.ok(e instanceof FileError);
  assert.match(e.message, /empty\.jsonl: the file is empty \(0 bytes\); expected preference records/);
  assert.doesNotMatch(e.message, /skip-invalid|--strict/);
  const b = await t.failure('blank.jsonl', '\n\n  \n');
  assert.match(b.message, /blank\.jsonl: no records in the file \(only blank lines\)/);
  const h = await t.failure('header.csv', 'prompt,chosen,rejected\n');
  assert.match(h.message, /header\.csv: no records in the file \(only a header row and blank lines\)/);
});

test('.json starting with "{": one document (object of lists, or one record); JSONL under a .json name is still JSONL', async () => {
  const doc = join(t.dir, 'doc.json');
  await writeFile(doc, JSON.stringify({ prompt: 'q', chosen: 'a', rejected: 'b' }, null, 2));
  assert.equal(await detectContainer(doc), 'json');
  const one = await t.load('one.json', JSON.stringify({ prompt: 'q', chosen: 'a', rejected: 'b' }, null, 2));
  assert.deepEqual([one.report.container, one.pairs.length, one.pairs[0]?.chosen], ['json', 1, 'a']);
  const lines = await t.load('lines.json', many(3));
  assert.deepEqual([lines.report.container, lines.pairs.length], ['jsonl', 3]);
  const e = await t.failure('bad.json', '{"a": [{"prompt": "q", "chosen": "x", "rejected": "y"}], "b": 3}\n', { skipInvalid: false });
  assert.match(e.message, /bad\.json:1: field "b": expected a list of records/);
});
