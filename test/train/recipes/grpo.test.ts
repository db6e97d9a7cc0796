// GRPO for the judge: the rewards and advantages by hand, the loss's value and gradient against a
// hand computation and finite differences of the clipped-ratio objective, the reward rising on a
// tiny world, and a resumed run ending with the same weights as an uninterrupted one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { backward, Tensor } from '../../../src/engine/autograd/index.js';
import { loadCheckpoint } from '../../../src/engine/checkpoint.js';
import { groupAdvantages, grpoLoss, pairRewards, type GrpoRow } from '../../../src/train/recipes/grpoLoss.js';
import { getRecipe, resolveRecipeConfig, runRecipe, type RecipeContext } from '../../../src/train/recipes/index.js';
import { makeFixture } from './fixture.js';

const quiet = (o: Partial<RecipeContext> = {}): RecipeContext => ({ command: 'test', resume: false, progress: false, say: () => {}, ...o });

test('rewards: right verdicts per sample, or J1 consistency across the two orders', () => {
  assert.deepEqual(
    pairRewards(
      [
        [true, false, true],
        [false, false, true],
      ],
      'right',
    ),
    [
      [1, 0, 1],
      [0, 0, 1],
    ],
  );
  assert.deepEqual(
    pairRewards(
      [
        [true, true, false],
        [true, false, false],
      ],
      'consistent',
    ),
    [
      [1, 0, 0],
      [1, 0, 0],
    ],
  );
  assert.throws(() => pairRewards([[true], [true, false]], 'right'), /same size/);
});

test('advantages: centred on the group mean, scaled by its std; an all-equal group teaches nothing', () => {
  const a = groupAdvantages([1, 0, 1, 1], 'group');
  const sd = Math.sqrt(0.1875); // mean 0.75
  [0.25, -0.75, 0.25, 0.25].forEach((c, i) => assert.ok(Math.abs(a[i]! - c / (sd + 1e-4)) < 1e-12));
  assert.deepEqual(groupAdvantages([1, 0, 1, 1], 'none'), [0.25, -0.75, 0.25, 0.25]);
  assert.deepEqual(groupAdvantages([1, 1, 1], 'group'), [0, 0, 0]);
});

// The objective with old log-probs fixed at lp0 (the sampling policy) and the ratio explicit:
// mean over rows of the normalised Σ_t [−e^(lp − lp0) A + β (e^(ref − lp) − (ref − lp) − 1)].
function objective(
  lp: Float64Array,
  lp0: Float64Array,
  ref: Float64Array,
  rows: GrpoRow[],
  beta: number,
  norm: (r: GrpoRow) => number,
): number {
  let v = 0;
  for (const r of rows)
    for (const p of r.positions) {
      const d = ref[p]! - lp[p]!;
      v += norm(r) * (-Math.exp(lp[p]! - lp0[p]!) * r.advantage + beta * (Math.exp(d) - d - 1));
    }
  return v;
}

for (const lossType of ['grpo', 'dapo'] as const) {
  test(`grpo loss (${lossType}): value and gradient match the ratio objective by hand and by finite differences`, () => {
    const lp0 = Float64Array.from([-0.5, -1.2, -0.1, -2.0, -0.7, 0]); // position 5 is padding (0, no row)
    const ref = Float64Array.from([-0.6, -1.0, -0.3, -1.5, -0.9, 0]);
    const rows: GrpoRow[] = [
      { advantage: 1.3, positions: Int32Array.from([0, 1]) },
      { advantage: -0.4, positions: Int32Array.from([2, 3, 4]) },
    ];
    const beta = 0.3;
    const completions = 4; // two more were sampled but carry no gradient (left out of the rows)
    const completionTokens = 9;
    const norm = (r: GrpoRow): number => (lossType === 'grpo' ? 1 / (r.positions.length * completions) : 1 / completionTokens);
    const lp = new Tensor(Float32Array.from(lp0), [6], { requiresGrad: true });
    const out = grpoLoss(lp, Float32Array.from(ref), rows, { beta, lossType, completions, completionTokens });
    const lpf = Float64Array.from(lp.data); // the float32 values the loss saw
    assert.ok(Math.abs(out.loss.item() - objective(lpf, lpf, Float64Array.from(ref), rows, beta, norm)) < 1e-6, `value ${out.loss.item()}`);
    // k3 by hand on position 0: d = -0.1, e^d - d - 1.
    const k3 = [0, 1, 2, 3, 4].map((p) => {
      const d = ref[p]! - lpf[p]!;
      return Math.exp(d) - d - 1;
    });
    assert.ok(Math.abs(out.kl - k3.reduce((a, x) => a + x, 0) / 5) < 1e-9);
    backward(out.loss);
    const h = 1e-5;
    for (let p = 0; p < 6; p++) {
      const up = Float64Array.from(lpf),
        dn = Float64Array.from(lpf);
      up[p]! += h;
      dn[p]! -= h;
      const fd =
        (objective(up, lpf, Float64Array.from(ref), rows, beta, norm) - objective(dn, lpf, Float64Array.from(ref), rows, beta, norm)) /
        (2 * h);
      assert.ok(Math.abs(lp.grad![p]! - fd) < 1e-6, `d/dlp[${p}]: ${lp.grad![p]} vs ${fd}`);
    }
    assert.equal(lp.grad![5], 0);
  });
}

test('grpo loss: beta > 0 without reference log-probs is refused', () => {
  const lp = new Tensor(new Float32Array(2), [2], { requiresGrad: true });
  assert.throws(() => grpoLoss(lp, null, [], { beta: 0.1, lossType: 'dapo', completions: 1, completionTokens: 1 }), /reference/);
});

// Settings for a tiny random base: short rationales, a high lr, no early stopping or replay.
const TINY = {
  k: 8,
  maxTokens: 48,
  batchSize: 4,
  lr: 3e-3,
  warmupSteps: 0,
  logEvery: 1,
  evalEvery: 0,
  evalPairs: 0,
  valPairs: 0,
  replay: 0,
  overflow: 'skip',
  checkpointEvery: 0,
};

test('grpo: the training reward rises on a tiny world (the base learns to end in the right verdict)', async () => {
  const fx = await makeFixture({ train: 16, seqLen: 320 });
  try {
    const out = join(fx.root, 'grpo');
    const recipe = getRecipe('grpo');
    const c = resolveRecipeConfig(recipe, { ...TINY, data: fx.world, base: fx.base, out, steps: 40 }, 'test');
    const r = await runRecipe(recipe, c, quiet());
    assert.equal(r.steps, 40);
    const logs = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>)
      .filter((x) => x.reward !== undefined);
    const mean = (xs: Record<string, number>[]): number => xs.reduce((a, x) => a + x.reward!, 0) / xs.length;
    const first = mean(logs.slice(0, 8));
    const last = mean(logs.slice(-8));
    assert.ok(last > first + 0.15, `reward ${first.toFixed(3)} -> ${last.toFixed(3)}`);
    assert.equal(loadCheckpoint(out).kind, 'lm');
  } finally {
    rmSync(fx.root, { recursive: true, force: true });
  }
});

test('grpo: interrupted and resumed, the run ends with the same weights as an uninterrupted one', async () => {
  const fx = await makeFixture({ train: 8, seqLen: 320 });
  try {
    const recipe = getRecipe('grpo');
    const cfg = (out: string) =>
      resolveRecipeConfig(
        recipe,
        { ...TINY, data: fx.world, base: fx.base, out, steps: 6, checkpointEvery: 2, reward: 'consistent', beta: 0.1 },
        'test',
      );
    const whole = join(fx.root, 'whole');
    await runRecipe(recipe, cfg(whole), quiet());
    const cut = join(fx.root, 'cut');
    await runRecipe(recipe, cfg(cut), quiet({ stopAfter: 3 }));
    await runRecipe(recipe, cfg(cut), quiet({ resume: true }));
    const a = loadCheckpoint(whole).weights;
    const b = loadCheckpoint(cut).weights;
    for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, name);
  } finally {
    rmSync(fx.root, { recursive: true, force: true });
  }
});
