// Configs that would eat the machine are refused: every numeric field has an upper bound (a
// slipped exponent fails at parse time, naming the field), and a batch whose training step needs
// more memory than the machine has is an error before its first batch is built. The step's
// estimate is checked against what a step allocates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backward, clearPool, poolStats, setPoolLimit } from '../../src/engine/autograd/index.js';
import { Llama, type ModelConfig } from '../../src/engine/model/index.js';
import { Tokenizer } from '../../src/engine/tokenizer/index.js';
import { trainLoopConfig } from '../../src/train/config.js';
import { dimsOf, stepBytes } from '../../src/train/memory.js';
import { resolvePretrainConfig } from '../../src/train/pretrain/config.js';
import { getRecipe, resolveRecipeConfig } from '../../src/train/recipes/index.js';
import { train, type TrainTask } from '../../src/train/trainer.js';
import type { LmBatch } from '../../src/train/batches.js';

const tok = Tokenizer.byteLevel();
const cfg = (d: number, layers: number, T: number): ModelConfig => ({
  vocabSize: tok.vocabSize,
  dModel: d,
  nLayers: layers,
  nHeads: 2,
  nKvHeads: 1,
  ffnHidden: 2 * d,
  maxSeqLen: T,
  ropeTheta: 10000,
  normEps: 1e-5,
  tieEmbeddings: false,
});

test('numeric config fields have upper bounds: a slipped exponent is refused, naming the field', () => {
  assert.throws(() => trainLoopConfig({ batchSize: 1e9 }), /field "batchSize": .*65536/);
  assert.throws(() => trainLoopConfig({ warmupSteps: 1e9 }), /field "warmupSteps": .*10000000/);
  assert.throws(() => trainLoopConfig({ lr: 5 }), /field "lr"/);
  assert.throws(() => trainLoopConfig({ beta2: 1 }), /field "beta2"/);
  assert.throws(() => trainLoopConfig({ seed: 2 ** 40 }), /field "seed"/);
  const base = { data: 'd', base: 'b', out: 'o' };
  assert.throws(
    () => resolveRecipeConfig(getRecipe('genrm'), { ...base, batchSize: 1e9 }, 'cfg.yaml'),
    /cfg\.yaml \(recipe genrm\): field "batchSize"/,
  );
  assert.throws(() => resolveRecipeConfig(getRecipe('bt'), { ...base, valPairs: 1e12 }, 'cfg.yaml'), /field "valPairs"/);
  assert.throws(() => resolvePretrainConfig({ preset: 'tiny', data: 'd', out: 'o', dModel: 1e6 }), /field "dModel"/);
  assert.throws(() => resolvePretrainConfig({ preset: 'tiny', data: 'd', out: 'o', seqLen: 1e7 }), /field "seqLen"/);
  // The defaults and presets are inside the bounds.
  trainLoopConfig({});
  resolvePretrainConfig({ preset: 'base', data: 'd', out: 'o' });
  resolveRecipeConfig(getRecipe('star-dpo'), base, 'defaults');
});

test('the step memory estimate bounds what a training step allocates, within 3x', () => {
  setPoolLimit(2 ** 34); // keep every buffer the step gives back, to count them
  try {
    for (const [d, layers, T, B] of [
      [64, 2, 64, 8],
      [32, 4, 128, 4],
      [128, 2, 32, 16],
    ] as const) {
      const model = new Llama(cfg(d, layers, T), { seed: 1 });
      const ids = Int32Array.from({ length: B * T }, (_, i) => 97 + (i % 20));
      const targets = Int32Array.from({ length: B * T }, (_, i) => 97 + ((i + 1) % 20));
      backward(model.loss(ids, targets, B, T)); // warm-up: kernels, RoPE tables
      clearPool();
      backward(model.loss(ids, targets, B, T));
      const used = poolStats().heldBytes; // every activation and gradient buffer of the step
      const dims = dimsOf(model.params)!;
      const est = stepBytes(dims, B, T) - stepBytes(dims, 0, T); // the batch's part, weights aside
      assert.ok(
        est >= used && est <= 3 * used,
        `d ${d} L ${layers} T ${T} B ${B}: estimate ${(est / 2 ** 20).toFixed(1)} MB, the step used ${(used / 2 ** 20).toFixed(1)} MB`,
      );
    }
  } finally {
    setPoolLimit(2 ** 30);
    clearPool();
  }
});

test('a batch that does not fit the machine is refused before its first batch is built, naming the field', () => {
  const model = new Llama(cfg(32, 2, 64), { seed: 1 });
  let fetched = 0;
  const task: TrainTask<LmBatch> = {
    params: model.params,
    stream: {
      next: () => {
        fetched++;
        throw new Error('the stream was asked for a batch');
      },
      position: () => null,
      seek: () => {},
    },
    loss: (b) => ({ loss: model.loss(b.ids, b.targets, b.batch, b.seqLen) }),
    batchShape: { rows: 60_000, seqLen: 64 },
  };
  const free = process.availableMemory();
  const need = stepBytes(dimsOf(model.params)!, 60_000, 64);
  assert.ok(
    need > free,
    `the test needs a batch larger than this machine (${(need / 2 ** 30).toFixed(0)} GB vs ${(free / 2 ** 30).toFixed(0)} GB free)`,
  );
  assert.throws(
    () => train(task, { config: trainLoopConfig({ steps: 2, batchSize: 60_000, warmupSteps: 0 }), label: 'genrm' }),
    /^RangeError: genrm: a training step of 60000 sequences × 64 tokens needs about \d+\.\d GB, and this machine has \d+\.\d GB free; lower "batchSize" so a micro-batch holds at most \d+ sequences/,
  );
  assert.equal(fetched, 0);
});
