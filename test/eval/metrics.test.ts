// Every metric on hand-made records whose answers are worked out by hand in the comments.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accuracy, invalidRate } from '../../src/eval/metrics/accuracy.js';
import { bootstrapMean, type BootstrapOptions } from '../../src/eval/metrics/bootstrap.js';
import { calibration, reliability } from '../../src/eval/metrics/calibration.js';
import { majAtK } from '../../src/eval/metrics/majority.js';
import { orderMetrics } from '../../src/eval/metrics/order.js';
import { rationaleGrades, rightReason } from '../../src/eval/metrics/reasons.js';
import { pairScore } from '../../src/eval/metrics/scores.js';
import { rec } from './fixtures.js';

const B: BootstrapOptions = { resamples: 300, seed: 7, level: 0.95 };
const close = (a: number | null, b: number, tol = 1e-9): void => assert.ok(a !== null && Math.abs(a - b) < tol, `${a} vs ${b}`);

// Three pairs, verdicts in slot terms (chosenFirst: A is right; chosenSecond: B is right).
//   p1 cf [A,B,B,A] → chosen +,-,-,+   cs [B,B,A,B] → +,+,-,+
//   p2 cf [B,A,invalid,B] → -,+,0,-    (one order only)
//   p3 cf [inv,inv,A,A] → 0,0,+,+      cs [A,A,A,A] → -,-,-,-
// Shares per order, averaged over orders, then 1 / 0 / 0.5:
//   k=1: p1 (1+1)/2 → 1; p2 0 → 0; p3 (0.5+0)/2 → 0          → maj@1 = 1/3
//   k=2: p1 (0.5+1)/2 → 1; p2 0.5 → 0.5; p3 (0.5+0)/2 → 0    → maj@2 = 1.5/3
//   k=4: p1 (0.5+0.75)/2 → 1; p2 1/3 → 0; p3 (1+0)/2 → 0.5   → maj@4 = 1.5/3
const three = [
  rec({ pairId: 'p1', chosenFirst: { verdicts: ['A', 'B', 'B', 'A'] }, chosenSecond: { verdicts: ['B', 'B', 'A', 'B'] } }),
  rec({ pairId: 'p2', chosenFirst: { verdicts: ['B', 'A', 'invalid', 'B'] } }),
  rec({ pairId: 'p3', chosenFirst: { verdicts: ['invalid', 'invalid', 'A', 'A'] }, chosenSecond: { verdicts: ['A', 'A', 'A', 'A'] } }),
];

test('maj@k from the first k of one set of samples, ties and invalid at 0.5', () => {
  const m = majAtK(three, B);
  assert.deepEqual(
    m.curve.map((c) => c.k),
    [1, 2, 4],
  );
  assert.deepEqual(m.skipped, [8, 16, 32]);
  close(m.curve[0]!.accuracy.value, 1 / 3);
  close(m.curve[1]!.accuracy.value, 0.5);
  close(m.curve[2]!.accuracy.value, 0.5);
  // Headline = maj@all samples when no probability is recorded.
  close(accuracy(three, B).value, 0.5);
  // 3 invalid of 20 sampled verdicts.
  close(invalidRate(three), 3 / 20);
});

test('maj@k adds the largest vote count when it is not a power of two', () => {
  const r = [rec({ pairId: 'a', chosenFirst: { verdicts: ['A', 'B', 'B', 'A', 'A'] } })];
  assert.deepEqual(
    majAtK(r, B).curve.map((c) => c.k),
    [1, 2, 4, 5],
  );
  // k=4: 2 vs 2 → 0.5; k=5: 3 vs 2 → 1.
  close(majAtK(r, B).curve[2]!.accuracy.value, 0.5);
  close(majAtK(r, B).curve[3]!.accuracy.value, 1);
});

test('a recorded probability decides the headline score; exactly 0.5 is a tie', () => {
  const rs = [
    rec({ pairId: 'a', mode: 'direct', chosenFirst: { verdicts: ['B'] }, pChosen: 0.7 }), // the combined p wins over the order's verdict
    rec({ pairId: 'b', mode: 'direct', chosenFirst: { verdicts: ['tie'] }, pChosen: 0.5 }),
    rec({ pairId: 'c', mode: 'direct', chosenFirst: { verdicts: ['invalid'] } }),
    rec({ pairId: 'd', mode: 'direct', chosenFirst: { verdicts: ['A'] }, pChosen: 0.2 }),
  ];
  assert.deepEqual(rs.map(pairScore), [1, 0.5, 0.5, 0]);
  close(accuracy(rs, B).value, 0.5);
});

test('accuracy by order shown, swap agreement and first-slot rate', () => {
  // r1 both orders name chosen (agree); r2 always slot A (disagree); r3 both name rejected (agree);
  // r4 a tie in one order (agrees with nothing). Agreement 2/4.
  // First-slot picks among definite verdicts: r1 1/2, r2 2/2, r3 1/2, r4 0/1 → 4/7.
  const rs = [
    rec({ pairId: 'r1', mode: 'direct', chosenFirst: { verdicts: ['A'] }, chosenSecond: { verdicts: ['B'] } }),
    rec({ pairId: 'r2', mode: 'direct', chosenFirst: { verdicts: ['A'] }, chosenSecond: { verdicts: ['A'] } }),
    rec({ pairId: 'r3', mode: 'direct', chosenFirst: { verdicts: ['B'] }, chosenSecond: { verdicts: ['A'] } }),
    rec({ pairId: 'r4', mode: 'direct', chosenFirst: { verdicts: ['tie'] }, chosenSecond: { verdicts: ['B'] } }),
  ];
  const o = orderMetrics(rs, B);
  close(o.chosenFirst!.value, (1 + 1 + 0 + 0.5) / 4);
  close(o.chosenSecond!.value, (1 + 0 + 0 + 1) / 4);
  close(o.agreement!.value, 0.5);
  close(o.firstSlotRate!.value, 4 / 7);
  // One order only: no agreement to measure.
  assert.equal(orderMetrics([rs[0]!].map((r) => ({ ...r, chosenSecond: undefined })) as never, B).agreement, null);
});

test('Brier score and ECE on a crafted set (10 bins over confidence [0.5, 1])', () => {
  // p = 0.92, 0.82, 0.27, 0.5 → confidence 0.92, 0.82, 0.73, 0.5, each alone in its bin;
  // right = 1, 1, 0, 0.5. ECE = (0.08 + 0.18 + 0.73 + 0) / 4; Brier = mean (1 - p)^2.
  const rs = [0.92, 0.82, 0.27, 0.5].map((p, i) => rec({ pairId: `c${i}`, mode: 'direct', chosenFirst: { verdicts: ['A'] }, pChosen: p }));
  const c = calibration(rs, B)!;
  close(c.ece, 0.99 / 4);
  close(c.brier.value, (0.08 ** 2 + 0.18 ** 2 + 0.73 ** 2 + 0.5 ** 2) / 4);
  assert.equal(c.bins.length, 10);
  assert.equal(
    c.bins.reduce((s, b) => s + b.n, 0),
    4,
  );
  // Two in one bin: confidence 0.91 and 0.93 (the second wrong) → |0.5 - 0.92| = 0.42.
  const two = reliability([0.91, 0.07]);
  close(two.ece, 0.42);
  const bin = two.bins.find((b) => b.n === 2)!;
  close(bin.lo, 0.9);
  close(bin.accuracy, 0.5);
  assert.throws(() => reliability([1.2]), /outside \[0, 1\]/);
  // No probabilities: no calibration (the caller leaves it out with a reason).
  assert.equal(calibration(three, B), null);
});

test('right for the right reason, among all graded samples and among right verdicts', () => {
  // a: cf [A ✓, A ✗, B ✓] → right verdicts s0, s1; right+reason s0.
  // b: cs [B ✓, A ✓]     → right verdict s0; right+reason s0.   Total 2/5 and 2/3.
  const rs = [
    rec({ pairId: 'a', chosenFirst: { verdicts: ['A', 'A', 'B'], rationaleRight: [true, false, true] } }),
    rec({ pairId: 'b', chosenSecond: { verdicts: ['B', 'A'], rationaleRight: [true, true] } }),
  ];
  const r = rightReason(rs, B)!;
  close(r.amongAll.value, 2 / 5);
  close(r.amongRight.value, 2 / 3);
  assert.equal(rightReason(three, B), null);
});

test('rationale grades: shares of graded samples restating, working right and checking consistently', () => {
  const rs = [
    rec({
      pairId: 'a',
      chosenFirst: {
        verdicts: ['A', 'A', 'B'],
        rationaleRight: [true, false, true],
        restated: [true, true, false],
        checksConsistent: [false, false, true],
      },
    }),
    rec({ pairId: 'b', chosenSecond: { verdicts: ['B'], rationaleRight: [false], restated: [true], checksConsistent: [true] } }),
    rec({ pairId: 'c', chosenFirst: { verdicts: ['A'], rationaleRight: [true] } }), // graded before restating was recorded
  ];
  const g = rationaleGrades(rs, B)!;
  close(g.restated!.value, 3 / 4);
  close(g.checksConsistent!.value, 2 / 4);
  close(g.resultRight!.value, 3 / 5);
  assert.ok(g.restated!.lo! <= 0.75 && g.restated!.hi! >= 0.75);
  assert.equal(rationaleGrades(three, B), null);
});

test('bootstrap CI contains the estimate, is reproducible, and shrinks with more pairs', () => {
  const small = Array.from({ length: 20 }, (_, i) => (i % 4 === 0 ? 0 : 1));
  const big = Array.from({ length: 2000 }, (_, i) => (i % 4 === 0 ? 0 : 1));
  const s = bootstrapMean(small, B);
  const b = bootstrapMean(big, B);
  for (const e of [s, b]) assert.ok(e.lo <= e.value && e.value <= e.hi, JSON.stringify(e));
  close(s.value, 0.75);
  assert.ok(b.hi - b.lo < (s.hi - s.lo) / 4, `widths ${b.hi - b.lo} vs ${s.hi - s.lo}`);
  assert.deepEqual(bootstrapMean(small, B), s);
  // Another seed, other resamples (continuous values, so percentiles cannot coincide by chance).
  const cont = Array.from({ length: 30 }, (_, i) => ((i * 7919) % 31) / 31);
  assert.deepEqual(bootstrapMean(cont, B), bootstrapMean(cont, B));
  assert.notDeepEqual(bootstrapMean(cont, { ...B, seed: 8 }), bootstrapMean(cont, B));
  // Normal approximation: 1.96 * sqrt(0.75 * 0.25 / 2000) ≈ 0.019 half-width.
  assert.ok(Math.abs((b.hi - b.lo) / 2 - 0.019) < 0.005, `half-width ${(b.hi - b.lo) / 2}`);
});
