// Packing and padding layouts, bucketing, and streams that restore their position exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completionExample, PackedStream, padBatch, ShuffledStream, type LmBatch } from '../../src/train/batches.js';

const docs = [Int32Array.of(1, 2, 3), Int32Array.of(4, 5), Int32Array.of(6, 7, 8, 9)];
const SEP = 0;

test('packing: every document once per epoch, separated, rows overlapping by one token', () => {
  const s = new PackedStream(docs, { batchSize: 2, seqLen: 4, seed: 7, separator: SEP });
  assert.equal(s.epochTokens, 12);
  const a = s.next();
  const b = s.next();
  // Row r's ids are stream[4r .. 4r+4), its targets stream[4r+1 .. 4r+5).
  const stream = [...a.ids.subarray(0, 4), ...a.ids.subarray(4, 8), ...b.ids.subarray(0, 4)];
  for (const batch of [a, b]) {
    for (let r = 0; r < 2; r++) {
      const ids = batch.ids.subarray(r * 4, r * 4 + 4);
      const tg = batch.targets.subarray(r * 4, r * 4 + 4);
      assert.deepEqual([...tg.subarray(0, 3)], [...ids.subarray(1)]); // shifted by one
    }
    assert.equal(batch.tokens, 8);
  }
  // The first epoch (12 tokens) holds each document followed by the separator, in some order.
  const epoch = stream.slice(0, 12);
  const parts = epoch
    .join(',')
    .split(`,${SEP}`)
    .map((p) => p.replace(/^,/, ''))
    .filter(Boolean);
  assert.deepEqual(parts.sort(), ['1,2,3', '4,5', '6,7,8,9']);
  assert.equal(epoch.filter((t) => t === SEP).length, 3);
  // The row boundary token: the last target of row 0 is the first id of row 1.
  assert.equal(a.targets[3], a.ids[4]);
});

test('packing: the same seed gives the same order, another seed another; seek restores', () => {
  const mk = (seed: number): PackedStream => new PackedStream(docs, { batchSize: 1, seqLen: 5, seed, separator: SEP });
  const take = (s: PackedStream, n: number): number[] => Array.from({ length: n }, () => [...s.next().ids]).flat();
  assert.deepEqual(take(mk(1), 10), take(mk(1), 10));
  const orders = new Set([1, 2, 3, 4, 5].map((seed) => take(mk(seed), 3).join(',')));
  assert.ok(orders.size > 1, 'seeds should change the document order');
  const s = mk(3);
  take(s, 4); // crosses into later epochs (12 tokens per epoch, 5 per row)
  const pos = s.position();
  const rest = take(s, 6);
  const t = mk(3);
  t.seek(JSON.parse(JSON.stringify(pos)));
  assert.deepEqual(take(t, 6), rest);
  assert.throws(() => t.seek({ epoch: -1, offset: 0 }), /"epoch" must be a non-negative integer/);
});

test('padding: right-padded ids, -1 targets past the end and outside the trained span', () => {
  const ex1 = completionExample([10, 11, 12], [20, 21]); // 5 tokens: trained on 20, 21
  const ex2 = { tokens: Int32Array.of(30, 31, 32) }; // no mask: every next token trained
  const b: LmBatch = padBatch([ex1, ex2], 99);
  assert.equal(b.seqLen, 4);
  assert.deepEqual([...b.ids], [10, 11, 12, 20, 30, 31, 99, 99]);
  assert.deepEqual([...b.targets], [-1, -1, 20, 21, 31, 32, -1, -1]);
  assert.equal(b.tokens, 4);
  assert.throws(() => padBatch([ex1], 99, 3), /5 tokens, longer than the context \(3 \+ 1\)/);
});

test('shuffled stream: bucketing groups similar lengths; every item once per epoch; seek restores', () => {
  const items = Array.from({ length: 64 }, (_, i) => ({ id: i, len: (i * 37) % 50 }));
  const mk = (): ShuffledStream<{ id: number; len: number }, number[]> =>
    new ShuffledStream(items, (xs) => xs.map((x) => x.id), { batchSize: 8, seed: 5, length: (x) => x.len, bucketWindow: 8 });
  const s = mk();
  const epoch = Array.from({ length: 8 }, () => s.next());
  assert.deepEqual(
    epoch.flat().sort((a, b) => a - b),
    items.map((x) => x.id),
  );
  // Sorted within a window of 8 batches (here: the whole epoch), so each batch's length spread is small.
  const spread = (ids: number[]): number => Math.max(...ids.map((i) => items[i]!.len)) - Math.min(...ids.map((i) => items[i]!.len));
  const unbucketed = new ShuffledStream(items, (xs) => xs.map((x) => x.id), { batchSize: 8, seed: 5 });
  const meanSpread = (bs: number[][]): number => bs.reduce((a, b) => a + spread(b), 0) / bs.length;
  assert.ok(meanSpread(epoch) < meanSpread(Array.from({ length: 8 }, () => unbucketed.next())) / 3);
  const pos = s.position();
  const next = [s.next(), s.next()];
  const t = mk();
  t.seek(pos);
  assert.deepEqual([t.next(), t.next()], next);
  assert.notDeepEqual(next.flat(), epoch.slice(0, 2).flat()); // epoch 2 is shuffled anew
});
