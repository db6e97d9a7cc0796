// Early stopping in the shared loop, on a toy task where held-out loss first falls (the model
// learns the letters' distribution) and then rises (it memorises four training sequences): the
// run stops before its cap, the model it leaves is the best check's, and an interrupted run
// resumed from its checkpoint ends bitwise equal to an uninterrupted one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '../../src/engine/checkpoint.js';
import { Llama, type ModelConfig } from '../../src/engine/model/index.js';
import { Prng } from '../../src/engine/prng.js';
import { Tokenizer } from '../../src/engine/tokenizer/index.js';
import { chunked, holdOutGroups, padBatch, ShuffledStream, type LmBatch, type LmExample } from '../../src/train/batches.js';
import { trainLoopConfig } from '../../src/train/config.js';
import { heldOutValidation, train, type MetricsRecord, type TrainTask } from '../../src/train/trainer.js';
import { latestCheckpoint } from '../../src/train/state.js';

const tok = Tokenizer.byteLevel();
const cfg: ModelConfig = {
  vocabSize: tok.vocabSize,
  dModel: 32,
  nLayers: 1,
  nHeads: 2,
  nKvHeads: 1,
  ffnHidden: 64,
  maxSeqLen: 32,
  ropeTheta: 10000,
  normEps: 1e-5,
  tieEmbeddings: true,
};

function seqs(seed: number, n: number): LmExample[] {
  const rng = new Prng(seed);
  return Array.from({ length: n }, () => ({ tokens: Int32Array.from({ length: 16 }, () => 97 + rng.int(12)) }));
}

const trainSet = seqs(1, 4);
const valBatches = chunked(seqs(2, 16), 8, (part) => padBatch(part, tok.padId));
const config = trainLoopConfig({
  steps: 400,
  batchSize: 4,
  lr: 2e-2,
  warmupSteps: 5,
  weightDecay: 0,
  logEvery: 5,
  evalEvery: 0,
  checkpointEvery: 30,
  seed: 3,
});
const earlyStop = { every: 10, patience: 3, minDelta: 0 };

function task(model: Llama): TrainTask<LmBatch> {
  const loss = (b: LmBatch) => ({ loss: model.loss(b.ids, b.targets, b.batch, b.seqLen) });
  return {
    params: model.params,
    stream: new ShuffledStream(trainSet, (items) => padBatch(items, tok.padId), { batchSize: 4, seed: 3 }),
    loss,
    weight: (b) => b.tokens,
    tokens: (b) => b.batch * b.seqLen,
    validate: heldOutValidation(loss, (b) => b.tokens, valBatches),
    saveModel: (dir) =>
      saveCheckpoint(dir, {
        config: cfg,
        kind: 'lm',
        weights: model.params,
        tokenizer: tok,
        provenance: { command: 'test', config: null, seed: 3, dataHash: null, parent: null, createdAt: 'fixed' },
      }),
  };
}

test('early stopping: stops before the cap and leaves the best check’s weights', () => {
  const model = new Llama(cfg, { seed: 5 });
  const logs: MetricsRecord[] = [];
  const r = train(task(model), { config, earlyStop, onLog: (x) => logs.push(x) });
  const checks = logs.filter((x) => typeof x['val/loss'] === 'number');
  const vals = checks.map((x) => x['val/loss']!);
  assert.ok(r.done && r.stoppedEarly && r.step < config.steps, `stopped at ${r.step} of ${config.steps}`);
  assert.ok(r.bestStep! > 0 && r.bestStep! < r.step, `best at ${r.bestStep}, stopped at ${r.step}`);
  // The held-out loss fell, then rose: the best check is strictly better than the first and the last.
  assert.ok(
    Math.min(...vals) < vals[0]! - 0.1 && Math.min(...vals) < vals[vals.length - 1]!,
    `val/loss ${vals.map((v) => v.toFixed(3)).join(' ')}`,
  );
  assert.equal(r.bestVal['val/loss'], Math.min(...vals));
  // Patience: exactly `patience` checks after the best one.
  assert.equal(checks[checks.length - 1]!.step, r.bestStep! + earlyStop.patience * earlyStop.every);
  // The model left equals a run that simply stops at the best step (the schedule's horizon is the cap either way).
  const plain = new Llama(cfg, { seed: 5 });
  train(task(plain), { config, stopAfter: r.bestStep! }); // no earlyStop option: plain training
  for (const [name, p] of model.params) assert.deepEqual(p.data, plain.params.get(name)!.data, `${name} is not the best step's`);
});

test('early stopping: an interrupted run resumed from its checkpoint (best weights from trainer-state) ends bitwise equal', () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-early-'));
  try {
    const a = join(root, 'a');
    const b = join(root, 'b');
    const full = train(task(new Llama(cfg, { seed: 5 })), { config, earlyStop, outDir: a });
    // Interrupt after a checkpoint that was written after the best check (so the best weights must come from best.safetensors).
    const ckpt = Math.ceil((full.bestStep! + 1) / config.checkpointEvery) * config.checkpointEvery;
    assert.ok(ckpt < full.step, `a checkpoint at ${ckpt} falls between the best step ${full.bestStep} and the stop at ${full.step}`);
    train(task(new Llama(cfg, { seed: 5 })), { config, earlyStop, outDir: b, stopAfter: ckpt + 5 });
    const state = JSON.parse(readFileSync(join(latestCheckpoint(b)!, 'trainer-state/state.json'), 'utf8'));
    assert.equal(state.step, ckpt);
    assert.ok(state.early.bestStep < state.step && state.done === false, JSON.stringify(state.early));
    const resumed = train(task(new Llama(cfg, { seed: 77 })), { config, earlyStop, outDir: b, resume: true });
    assert.deepEqual([resumed.step, resumed.bestStep, resumed.stoppedEarly], [full.step, full.bestStep, true]);
    assert.ok(
      readFileSync(join(a, 'model.safetensors')).equals(readFileSync(join(b, 'model.safetensors'))),
      'model.safetensors differs after resume',
    );
    const lines = (d: string) =>
      readFileSync(join(d, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const { elapsedSec: _e, tokensPerSec: _t, ...rest } = JSON.parse(l);
          return rest;
        });
    assert.deepEqual(lines(b), lines(a));
    // A finished run resumed trains nothing more.
    const again = train(task(new Llama(cfg, { seed: 1 })), { config, earlyStop, outDir: b, resume: true });
    assert.deepEqual([again.step, again.bestStep, again.done], [full.step, full.bestStep, true]);
    assert.ok(readFileSync(join(a, 'model.safetensors')).equals(readFileSync(join(b, 'model.safetensors'))));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('holdOutGroups: whole groups on one side, seeded, at most a fifth', () => {
  const items = Array.from({ length: 60 }, (_, i) => ({ g: `p${i % 20}`, i }));
  const s = holdOutGroups(items, (x) => x.g, 8, 1);
  const heldGroups = new Set(s.val.map((x) => x.g));
  assert.equal(heldGroups.size, 4); // 20 groups: a fifth
  assert.ok(s.train.every((x) => !heldGroups.has(x.g)));
  assert.equal(s.train.length + s.val.length, 60);
  assert.deepEqual(
    holdOutGroups(items, (x) => x.g, 8, 1),
    s,
  );
  assert.notDeepEqual(new Set(holdOutGroups(items, (x) => x.g, 8, 2).val.map((x) => x.g)), heldGroups);
  assert.equal(holdOutGroups(items, (x) => x.g, 0, 1).val.length, 0);
});
