// The warmup + cosine schedule at its endpoints and in between.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lrAt } from '../../src/train/schedule.js';

const c = { lr: 1e-3, totalSteps: 110, warmupSteps: 10, minLrRatio: 0.1 };

test('warmup rises linearly from lr/warmup to the peak', () => {
  assert.equal(lrAt(0, c), 1e-4);
  assert.ok(Math.abs(lrAt(4, c) - 5e-4) < 1e-15);
  assert.ok(Math.abs(lrAt(9, c) - 1e-3) < 1e-15);
  for (let s = 1; s < 10; s++) assert.ok(lrAt(s, c) > lrAt(s - 1, c));
});

test('cosine decays from the peak to the floor, half-way at the midpoint, then stays there', () => {
  assert.equal(lrAt(10, c), 1e-3); // p = 0: the peak
  assert.ok(Math.abs(lrAt(60, c) - 1e-3 * (0.1 + 0.9 * 0.5)) < 1e-15); // p = 0.5
  assert.ok(Math.abs(lrAt(110, c) - 1e-4) < 1e-15); // p = 1: the floor
  assert.ok(Math.abs(lrAt(500, c) - 1e-4) < 1e-15); // past the end: clamped
  for (let s = 11; s <= 110; s++) assert.ok(lrAt(s, c) < lrAt(s - 1, c));
  assert.equal(lrAt(0, { ...c, warmupSteps: 0 }), 1e-3);
  assert.ok(Math.abs(lrAt(110, { ...c, minLrRatio: 0 })) < 1e-18);
  assert.throws(() => lrAt(-1, c), /step must be >= 0/);
});
