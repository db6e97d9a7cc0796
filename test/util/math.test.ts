// The shared scalar math: equal to the direct formulas where those are exact enough, and finite
// (with the right limit) where the direct formulas overflow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logSigmoid, logsumexp, sigmoid } from '../../src/util/math.js';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('sigmoid and logSigmoid equal the direct formulas at moderate values', () => {
  for (const x of [-20, -7.5, -1, -0.3, 0, 0.3, 1, 7.5, 20]) {
    close(sigmoid(x), 1 / (1 + Math.exp(-x)));
    close(logSigmoid(x), Math.log(1 / (1 + Math.exp(-x))));
  }
  assert.equal(sigmoid(0), 0.5);
  close(sigmoid(2) + sigmoid(-2), 1);
});

test('sigmoid and logSigmoid stay finite at extremes, with the right limits', () => {
  assert.equal(sigmoid(1000), 1);
  assert.equal(sigmoid(-1000), 0);
  assert.ok(!Number.isNaN(sigmoid(-Infinity)) && sigmoid(-Infinity) === 0 && sigmoid(Infinity) === 1);
  // The direct form gives log(0) = -Infinity at -1000; the stable one gives x.
  assert.equal(Math.log(1 / (1 + Math.exp(1000))), -Infinity);
  close(logSigmoid(-1000), -1000);
  close(logSigmoid(1000), 0);
  close(logSigmoid(40), -Math.exp(-40)); // log1p keeps the tiny tail the direct form rounds to 0
  assert.ok(logSigmoid(40) < 0);
});

test('logsumexp equals the direct formula at moderate values and is finite at extremes', () => {
  const xs = [-3, 0.5, 2, 1.25];
  close(logsumexp(xs), Math.log(xs.reduce((s, x) => s + Math.exp(x), 0)));
  close(logsumexp(new Float32Array([1, 1])), 1 + Math.log(2), 1e-7);
  // e^1000 overflows; shifting by the max does not.
  assert.equal(Math.log(Math.exp(1000) + Math.exp(999)), Infinity);
  close(logsumexp([1000, 999]), 1000 + Math.log1p(Math.exp(-1)));
  close(logsumexp([-1000, -1001]), -1000 + Math.log1p(Math.exp(-1)));
  assert.equal(logsumexp([]), -Infinity);
  assert.equal(logsumexp([-Infinity, -Infinity]), -Infinity);
  close(logsumexp([-Infinity, 3]), 3);
});
