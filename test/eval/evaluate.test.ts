// evaluate(): groups, iterations, metrics left out with reasons, and the claims marked from numbers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate } from '../../src/eval/evaluate.js';
import type { JudgeRecord } from '../../src/eval/records.js';
import { rec, synthRecords } from './fixtures.js';

const B = { resamples: 200, seed: 3, level: 0.95 };

/** n direct records of a method on a split, the first `right` of them right. */
function direct(method: string, split: string, n: number, right: number, mode: 'direct' | 'scalar' = 'direct'): JudgeRecord[] {
  return Array.from({ length: n }, (_, i) =>
    rec({ pairId: `${split}-${i}`, split, method, mode, chosenFirst: { verdicts: [i < right ? 'A' : 'B'] } }),
  );
}
const claim = (r: ReturnType<typeof evaluate>, id: string) => r.claims.find((c) => c.id === id)!;

test('a claim the numbers contradict is marked not reproduced; one they support, reproduced', () => {
  // Zero-shot far ABOVE BT in-distribution: the paper's "zero-shot below BT" is not reproduced.
  const bad = evaluate([...direct('zero-shot', 'test-id', 200, 180), ...direct('bt', 'test-id', 200, 100, 'scalar')], { bootstrap: B });
  const c = claim(bad, 'zero-shot-below-bt');
  assert.equal(c.status, 'not reproduced');
  assert.ok(c.checks[0]!.diff!.hi! < 0);
  assert.match(c.summary, /difference -40\.0 points/);
  const good = evaluate([...direct('zero-shot', 'test-id', 200, 100), ...direct('bt', 'test-id', 200, 180, 'scalar')], { bootstrap: B });
  assert.equal(claim(good, 'zero-shot-below-bt').status, 'reproduced');
  // Five pairs each, one apart: the interval includes 0 and is far wider than ±5 points: more pairs would decide it.
  const tiny = evaluate([...direct('zero-shot', 'test-id', 5, 3), ...direct('bt', 'test-id', 5, 4, 'scalar')], { bootstrap: B });
  assert.equal(claim(tiny, 'zero-shot-below-bt').status, 'underpowered');
  assert.match(claim(tiny, 'zero-shot-below-bt').summary, /wider than ±5\.0/);
  // 400 pairs judged alike but for four (two each way): the interval includes 0 and is narrow: inconclusive, not underpowered.
  const shifted = direct('bt', 'test-id', 400, 300, 'scalar').map((r, i) => ({ ...r, pairId: `test-id-${(i + 2) % 400}` }));
  const close = evaluate([...direct('zero-shot', 'test-id', 400, 300), ...shifted], { bootstrap: B });
  const cc = claim(close, 'zero-shot-below-bt');
  assert.equal(cc.status, 'inconclusive');
  assert.ok(cc.checks[0]!.diff!.lo! <= 0 && (cc.checks[0]!.diff!.hi! - cc.checks[0]!.diff!.lo!) / 2 < 0.05);
  // Methods not run: inconclusive, saying which.
  assert.equal(claim(good, 'star-dpo-best-ood').status, 'inconclusive');
  assert.match(claim(good, 'genrm-matches-bt').summary, /not run: genrm/);
});

test('"GenRM ≈ BT" needs the difference CI inside the margin', () => {
  const same = evaluate([...direct('genrm', 'test-id', 400, 300), ...direct('bt', 'test-id', 400, 300, 'scalar')], { bootstrap: B });
  assert.equal(claim(same, 'genrm-matches-bt').status, 'reproduced');
  const apart = evaluate([...direct('genrm', 'test-id', 400, 200), ...direct('bt', 'test-id', 400, 340, 'scalar')], { bootstrap: B });
  assert.equal(claim(apart, 'genrm-matches-bt').status, 'not reproduced');
  // Same point estimate but they are right on different pairs, and there are too few to tell.
  const flipped = direct('bt', 'test-id', 12, 6, 'scalar').map((r, i) => ({ ...r, pairId: `test-id-${11 - i}` }));
  const wide = evaluate([...direct('genrm', 'test-id', 12, 6), ...flipped], { bootstrap: B });
  assert.equal(wide.claims.find((c) => c.id === 'genrm-matches-bt')!.checks[0]!.diff!.value, 0);
  assert.equal(claim(wide, 'genrm-matches-bt').status, 'underpowered');
});

test('labelled variants stay out of the claims; goals: STaR-DPO margin over BT and held-out families', () => {
  const recs = synthRecords(
    [
      { method: 'bt', mode: 'scalar', pRight: { 'test-id': 0.8, 'test-ood': 0.55 } },
      { method: 'star-dpo', mode: 'cot', votes: 4, pRight: { 'test-id': 0.8, 'test-ood': 0.85 }, grade: true },
      { method: 'star-dpo+checked', mode: 'cot', votes: 4, pRight: { 'test-id': 0.8, 'test-ood': 0.5 }, grade: true },
    ],
    200,
  );
  const r = evaluate(recs, { bootstrap: B });
  const best = claim(r, 'star-dpo-best-ood');
  assert.deepEqual(
    best.checks.map((c) => c.what),
    ['star-dpo − bt on test-ood'],
    'the +checked row is no rival in the paper’s claim',
  );
  assert.ok(
    r.methods.some((m) => m.method === 'star-dpo+checked'),
    'but it is in the tables',
  );
  const goal = (id: string) => r.goals.find((g) => g.id === id)!;
  const margin = goal('ood-margin-over-bt:star-dpo');
  assert.equal(margin.met, true, margin.why);
  assert.ok(margin.estimate!.value! >= 0.1 && margin.estimate!.lo! > 0);
  assert.equal(goal('ood-margin-over-bt:star-dpo+checked').met, false);
  // Held-out families: the shift-"family" pairs of test-ood; a target only for the reasoning (CoT) judges.
  const star = r.methods.find((m) => m.method === 'star-dpo')!;
  const held = star.groups.find((g) => g.split === 'test-ood' && g.by === 'shift' && g.value === 'family')!;
  assert.deepEqual(goal('held-out-families:star-dpo').estimate, held.accuracy);
  assert.equal(goal('held-out-families:star-dpo').met, held.accuracy.value! >= 0.7);
  assert.equal(goal('held-out-families:bt').met, null);
  assert.equal(goal('held-out-families:bt').target, '—');
  // Per held-out family groups partition the shift-"family" pairs; graded judges carry the grader's shares there.
  const perFamily = star.groups.filter((g) => g.by === 'heldout');
  assert.ok(perFamily.length > 0);
  assert.equal(
    perFamily.reduce((n, g) => n + g.accuracy.n, 0),
    held.accuracy.n,
  );
  assert.ok(perFamily.every((g) => g.grades?.restated && g.grades.checksConsistent && g.grades.resultRight));
  assert.ok(!r.methods.find((m) => m.method === 'bt')!.groups.some((g) => g.grades));
  // Without bt, the margin goal says so.
  const alone = evaluate(
    recs.filter((x) => x.method !== 'bt'),
    { bootstrap: B },
  );
  assert.match(alone.goals.find((g) => g.id === 'ood-margin-over-bt:star-dpo')!.why, /not run: bt/);
});

test('votes help: maj@k vs maj@1 of the same samples', () => {
  // Each pair: first vote wrong, the next four right → maj@1 = 0, maj@5 = 1.
  const rs = Array.from({ length: 60 }, (_, i) =>
    rec({
      pairId: `p${i}`,
      split: i % 2 ? 'test-id' : 'test-ood',
      method: 'zero-shot-cot',
      chosenFirst: { verdicts: ['B', 'A', 'A', 'A', 'A'] },
    }),
  );
  const r = evaluate(rs, { bootstrap: B });
  const v = claim(r, 'votes-help');
  assert.equal(v.status, 'reproduced');
  assert.equal(v.checks.length, 2);
  const g = r.methods[0]!.groups.find((x) => x.by === 'all' && x.split === 'test-id')!;
  assert.deepEqual(
    g.majAtK!.map((m) => [m.k, m.accuracy.value]),
    [
      [1, 0],
      [2, 0.5],
      [4, 1],
      [5, 1],
    ],
  );
  // The reverse (first vote right, the rest wrong): not reproduced.
  const worse = rs.map((x) => ({ ...x, chosenFirst: { verdicts: ['A', 'B', 'B', 'B', 'B'] as ('A' | 'B')[] } }));
  assert.equal(claim(evaluate(worse, { bootstrap: B }), 'votes-help').status, 'not reproduced');
});

test('groups per split, category, family and shift; STaR iterations; omissions carry reasons', () => {
  const recs = synthRecords(
    [
      { method: 'zero-shot', mode: 'direct', pRight: { 'test-id': 0.6, 'test-ood': 0.6 } },
      { method: 'star-dpo', mode: 'cot', votes: 4, iterations: [1, 2], pRight: { 'test-id': 0.7, 'test-ood': 0.75 }, grade: true },
    ],
    16,
  );
  const r = evaluate(recs, { bootstrap: B, now: new Date(0), notes: { quick: true, cut: ['votes 4'] } });
  assert.equal(r.createdAt, '1970-01-01T00:00:00.000Z');
  const star = r.methods.find((m) => m.method === 'star-dpo')!;
  assert.equal(star.iteration, 2);
  assert.deepEqual(
    star.iterations.map((i) => [i.iteration, i.split]),
    [
      [1, 'test-id'],
      [1, 'test-ood'],
      [2, 'test-id'],
      [2, 'test-ood'],
    ],
  );
  assert.ok(star.iterations.every((i) => i.votes === 4));
  // An earlier iteration judged with fewer votes: every iteration's accuracy is read at that many (maj@2), the last one's main numbers at all 4.
  const fewer = recs.map((x) =>
    x.method === 'star-dpo' && x.iteration === 1
      ? {
          ...x,
          chosenFirst: { ...x.chosenFirst!, verdicts: x.chosenFirst!.verdicts.slice(0, 2) },
          chosenSecond: { ...x.chosenSecond!, verdicts: x.chosenSecond!.verdicts.slice(0, 2) },
        }
      : x,
  );
  const r2 = evaluate(fewer, { bootstrap: B, now: new Date(0) });
  const star2 = r2.methods.find((m) => m.method === 'star-dpo')!;
  assert.ok(star2.iterations.every((i) => i.votes === 2));
  const last = star2.iterations.find((i) => i.iteration === 2 && i.split === 'test-id')!;
  const maj2 = star2.groups.find((g) => g.split === 'test-id' && g.by === 'all')!.majAtK!.find((p) => p.k === 2)!;
  assert.equal(last.accuracy.value, maj2.accuracy.value);
  const kinds = (split: string) => new Set(star.groups.filter((g) => g.split === split).map((g) => g.by));
  assert.deepEqual(kinds('test-id'), new Set(['all', 'category', 'family']));
  assert.deepEqual(kinds('test-ood'), new Set(['all', 'category', 'family', 'shift', 'heldout']));
  // OOD pairs 0, 4, 8, 12 carry no shift: the control group "none" has 4 pairs.
  assert.equal(star.groups.find((g) => g.by === 'shift' && g.value === 'none')!.accuracy.n, 4);
  // Category groups partition the split.
  const catN = star.groups.filter((g) => g.split === 'test-ood' && g.by === 'category').reduce((s, g) => s + g.accuracy.n, 0);
  assert.equal(catN, 16);
  const all = star.groups.find((g) => g.split === 'test-ood' && g.by === 'all')!;
  assert.ok(all.reason && all.majAtK && all.order && !all.calibration);
  const om = (m: string, metric: RegExp) => r.omitted.find((o) => o.method === m && metric.test(o.metric));
  assert.match(om('star-dpo', /calibration/)!.reason, /no probability/);
  assert.match(om('zero-shot', /maj@k/)!.reason, /nothing to vote over/);
  assert.ok(r.methods.find((m) => m.method === 'zero-shot')!.groups[0]!.calibration);
});

test('gold ties are left out and a pair twice in one run is an error', () => {
  const rs = [
    ...direct('bt', 'test-id', 3, 3, 'scalar'),
    rec({ pairId: 'tie', method: 'bt', mode: 'scalar', tie: true, chosenFirst: { verdicts: ['B'] } }),
  ];
  const r = evaluate(rs, { bootstrap: B });
  assert.equal(r.methods[0]!.tiesExcluded, 1);
  assert.equal(r.methods[0]!.groups[0]!.accuracy.value, 1);
  assert.throws(() => evaluate([...rs, rs[0]!], { bootstrap: B }), /pair "test-id-0" appears twice for method "bt"/);
});
