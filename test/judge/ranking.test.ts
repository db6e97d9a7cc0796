import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitBradleyTerry, btLogPosterior, type Comparison } from '../../src/judge/bradleyTerry.js';
import { rankCandidates, schedulePairs } from '../../src/judge/ranking.js';
import { groupRewards, rewardsVsReference } from '../../src/judge/rewards.js';
import { resolveJudgeConfig } from '../../src/judge/config.js';
import { chatPairTemplate } from '../../src/judge/templates.js';
import { ScriptedModel, slots } from './fixtures/scriptedModel.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('Bradley-Terry recovers a known order from simulated pairwise outcomes', () => {
  const truth = [0.3, -1.2, 1.5, 0.0, -0.4, 0.9]; // log-strengths; order 2 > 5 > 0 > 3 > 4 > 1
  const r = rng(7);
  const comps: Comparison[] = [];
  for (let rep = 0; rep < 60; rep++)
    for (let i = 0; i < truth.length; i++)
      for (let j = i + 1; j < truth.length; j++) {
        const p = 1 / (1 + Math.exp((truth[j] as number) - (truth[i] as number)));
        comps.push({ i, j, w: r() < p ? 1 : 0 });
      }
  const fit = fitBradleyTerry(truth.length, comps);
  assert.ok(fit.converged);
  const order = fit.scores.map((_, i) => i).sort((a, b) => (fit.scores[b] as number) - (fit.scores[a] as number));
  assert.deepEqual(order, [2, 5, 0, 3, 4, 1]);
  // Scale recovered too (not just the order): within 0.3 of the centred truth.
  const mean = truth.reduce((s, x) => s + x, 0) / truth.length;
  truth.forEach((t, i) => assert.ok(Math.abs((fit.scores[i] as number) - (t - mean)) < 0.3, `item ${i}`));
});

test('the fit is a stationary point of the log-posterior (finite differences)', () => {
  const comps: Comparison[] = [
    { i: 0, j: 1, w: 0.8 },
    { i: 1, j: 2, w: 0.3 },
    { i: 0, j: 2, w: 1 },
    { i: 2, j: 3, w: 0.6 },
    { i: 3, j: 0, w: 0.1 },
  ];
  const fit = fitBradleyTerry(4, comps, { prior: 1 });
  const h = 1e-5;
  const f0 = btLogPosterior(fit.theta, comps);
  for (let k = 0; k < 4; k++) {
    const up = fit.theta.map((t, i) => (i === k ? t + h : t));
    const dn = fit.theta.map((t, i) => (i === k ? t - h : t));
    const g = (btLogPosterior(up, comps) - btLogPosterior(dn, comps)) / (2 * h);
    assert.ok(Math.abs(g) < 1e-6, `gradient ${k} = ${g}`);
    // and it is a maximum, not just stationary
    assert.ok(btLogPosterior(up, comps) <= f0 && btLogPosterior(dn, comps) <= f0);
  }
});

test('perfect separation still converges to finite scores thanks to the prior', () => {
  const comps: Comparison[] = [
    { i: 0, j: 1, w: 1 },
    { i: 1, j: 2, w: 1 },
    { i: 0, j: 2, w: 1 },
  ];
  const fit = fitBradleyTerry(3, comps);
  assert.ok(fit.converged, `iterations ${fit.iterations}`);
  assert.ok(fit.scores.every(Number.isFinite));
  assert.ok((fit.scores[0] as number) > (fit.scores[1] as number) && (fit.scores[1] as number) > (fit.scores[2] as number));
  assert.throws(() => fitBradleyTerry(2, [{ i: 0, j: 2, w: 1 }]), /comparison 0 has bad indices/);
  assert.throws(() => fitBradleyTerry(2, [{ i: 0, j: 1, w: 1.5 }]), /outcome must be in \[0, 1\]/);
});

test('schedules: all pairs, round-robin rounds, seeded random subsets', () => {
  assert.equal(schedulePairs(5, { kind: 'all' }).length, 10);
  const rr = schedulePairs(6, { kind: 'round-robin', rounds: 1 });
  assert.equal(rr.length, 6);
  const deg = new Array(6).fill(0);
  for (const [i, j] of rr) {
    deg[i]++;
    deg[j]++;
  }
  assert.deepEqual(deg, [2, 2, 2, 2, 2, 2]);
  assert.equal(schedulePairs(4, { kind: 'round-robin', rounds: 3 }).length, 6); // saturates at all pairs, no repeats
  const a = schedulePairs(8, { kind: 'random', pairs: 7, seed: 3 });
  assert.deepEqual(a, schedulePairs(8, { kind: 'random', pairs: 7, seed: 3 }));
  assert.notDeepEqual(a, schedulePairs(8, { kind: 'random', pairs: 7, seed: 4 }));
  assert.equal(new Set(a.map(([i, j]) => `${i},${j}`)).size, 7);
});

// A judge that prefers the numerically larger answer, with confidence growing with the gap.
const byValue = (): ScriptedModel =>
  new ScriptedModel({
    logprob: (p, c) => {
      const { a, b } = slots(p);
      const d = Number(a) - Number(b);
      return c === '[[A]]' ? d / 2 : -d / 2;
    },
  });

test('ranking N candidates finds the best and the full order', async () => {
  const cands = ['3', '9', '1', '7', '5'];
  const cfg = resolveJudgeConfig({ swap: true });
  const all = await rankCandidates(byValue(), 'pick the biggest', cands, chatPairTemplate, cfg);
  assert.equal(all.best, 1);
  assert.deepEqual(all.order, [1, 3, 4, 0, 2]);
  assert.equal(all.judgments.length, 10);
  // A budget of 12 of the 15 pairs of 6 candidates still finds the best.
  const six = ['3', '9', '1', '7', '5', '8'];
  const budget = await rankCandidates(byValue(), 'pick the biggest', six, chatPairTemplate, cfg, { kind: 'round-robin', rounds: 2 });
  assert.equal(budget.judgments.length, 12);
  assert.equal(budget.best, 1);
});

test('RL rewards: P(y beats reference) and group BT scores', async () => {
  const cfg = resolveJudgeConfig({ swap: false });
  const r = await rewardsVsReference(byValue(), 'q', ['2', '6', '4'], '4', chatPairTemplate, cfg);
  assert.ok((r[0] as number) < 0.5 && (r[1] as number) > 0.5);
  assert.ok(Math.abs((r[2] as number) - 0.5) < 1e-12);
  const g = await groupRewards(byValue(), 'q', ['2', '6', '4'], chatPairTemplate, cfg);
  assert.ok(Math.abs(g.reduce((s, x) => s + x, 0)) < 1e-9, 'group scores are centred');
  assert.ok((g[1] as number) > (g[2] as number) && (g[2] as number) > (g[0] as number));
});
