// The shared training loop: accumulation equals a bigger batch, masked tokens get no gradient,
// loss falls, and an interrupted run resumed from its checkpoint ends bitwise equal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backward, crossEntropy, noGrad, Tensor } from '../../src/engine/autograd/index.js';
import { saveCheckpoint, loadCheckpoint } from '../../src/engine/checkpoint.js';
import { Llama, type ModelConfig } from '../../src/engine/model/index.js';
import { Prng } from '../../src/engine/prng.js';
import { Tokenizer } from '../../src/engine/tokenizer/index.js';
import { completionExample, PackedStream, padBatch, type BatchStream, type LmBatch, type LmExample } from '../../src/train/batches.js';
import { trainLoopConfig } from '../../src/train/config.js';
import { meanLoss, train, type MetricsRecord, type TrainTask } from '../../src/train/trainer.js';
import { latestCheckpoint } from '../../src/train/state.js';

const tok = Tokenizer.byteLevel();
const cfg: ModelConfig = {
  vocabSize: tok.vocabSize,
  dModel: 16,
  nLayers: 2,
  nHeads: 2,
  nKvHeads: 1,
  ffnHidden: 32,
  maxSeqLen: 32,
  ropeTheta: 10000,
  normEps: 1e-5,
  tieEmbeddings: true,
};

function lmTask(model: Llama, stream: BatchStream<LmBatch>): TrainTask<LmBatch> {
  return {
    params: model.params,
    stream,
    loss: (b) => ({ loss: model.loss(b.ids, b.targets, b.batch, b.seqLen) }),
    weight: (b) => b.tokens,
    tokens: (b) => b.batch * b.seqLen,
  };
}

/** A stream that hands out fixed batches in turn (for comparing batch layouts). */
function fixed<B>(batches: B[]): BatchStream<B> {
  let i = 0;
  return { next: () => batches[i++ % batches.length]!, position: () => ({ i }), seek: (p) => void (i = (p as { i: number }).i) };
}

function examples(seed: number, n: number): LmExample[] {
  const rng = new Prng(seed);
  // Very different lengths and trained spans, so token weighting matters.
  return Array.from({ length: n }, (_, k) => {
    const len = k % 2 === 0 ? 4 + rng.int(3) : 14 + rng.int(6);
    const ids = Array.from({ length: len }, () => 97 + rng.int(20));
    return completionExample(ids.slice(0, 2), ids.slice(2));
  });
}

test('gradient accumulation over micro-batches equals one bigger batch', () => {
  // Short examples in the first micro-batch, long ones in the second: their token counts differ a lot.
  const ex = examples(1, 8).sort((x, y) => x.tokens.length - y.tokens.length);
  const run = (batches: LmBatch[], gradAccum: number): { w: Float32Array; logs: MetricsRecord[] } => {
    const model = new Llama(cfg, { seed: 2 });
    const logs: MetricsRecord[] = [];
    const config = trainLoopConfig({
      steps: 3,
      batchSize: 8 / gradAccum,
      gradAccum,
      lr: 1e-2,
      warmupSteps: 0,
      logEvery: 1,
      evalEvery: 0,
      checkpointEvery: 0,
    });
    train(lmTask(model, fixed(batches)), { config, onLog: (r) => logs.push(r) });
    return { w: model.embed.data, logs };
  };
  const big = run([padBatch(ex, tok.padId)], 1);
  const acc = run([padBatch(ex.slice(0, 4), tok.padId), padBatch(ex.slice(4), tok.padId)], 2);
  // Equal weights per micro-batch (a plain mean of micro-batch losses) would differ: check that the test can tell.
  const wrong = (() => {
    const model = new Llama(cfg, { seed: 2 });
    const logs: MetricsRecord[] = [];
    const task = { ...lmTask(model, fixed([padBatch(ex.slice(0, 4), tok.padId), padBatch(ex.slice(4), tok.padId)])), weight: () => 1 };
    train(task, {
      config: trainLoopConfig({
        steps: 3,
        batchSize: 4,
        gradAccum: 2,
        lr: 1e-2,
        warmupSteps: 0,
        logEvery: 1,
        evalEvery: 0,
        checkpointEvery: 0,
      }),
      onLog: (r) => logs.push(r),
    });
    return logs;
  })();
  for (let s = 0; s < 3; s++) {
    const [a, b, w] = [big.logs[s]!, acc.logs[s]!, wrong[s]!];
    assert.ok(Math.abs(a.loss! - b.loss!) < 1e-5 * a.loss!, `step ${s + 1} loss ${a.loss} vs ${b.loss}`);
    assert.ok(Math.abs(a.gradNorm! - b.gradNorm!) < 1e-6 * a.gradNorm!, `step ${s + 1} grad norm ${a.gradNorm} vs ${b.gradNorm}`);
    assert.ok(
      Math.abs(a.gradNorm! - w.gradNorm!) > 1e-3 * a.gradNorm!,
      `step ${s + 1}: equal micro-batch weights should differ from token weights here`,
    );
  }
  let maxDiff = 0;
  for (let i = 0; i < big.w.length; i++) maxDiff = Math.max(maxDiff, Math.abs(big.w[i]! - acc.w[i]!));
  assert.ok(maxDiff < 1e-5, `weights differ by ${maxDiff}`);
});

test('loss masks: masked and padded positions get exactly zero gradient at their logits', () => {
  const model = new Llama(cfg, { seed: 3 });
  const b = padBatch([completionExample([104, 105, 106], [107, 108]), { tokens: Int32Array.of(97, 98, 99, 100, 101, 102) }], tok.padId);
  // The logits as a leaf, so that their gradient survives backward (op outputs are released).
  const values = noGrad(() => model.logits(model.hidden(b.ids, b.batch, b.seqLen)).data); // (B*T, vocab)
  const logits = new Tensor(Float32Array.from(values), [b.batch * b.seqLen, cfg.vocabSize], { requiresGrad: true });
  const loss = crossEntropy(logits, b.targets);
  const lossValue = loss.item();
  backward(loss);
  const V = cfg.vocabSize;
  let manual = 0;
  for (let r = 0; r < b.batch * b.seqLen; r++) {
    const row = logits.grad!.subarray(r * V, (r + 1) * V);
    const norm = Math.sqrt(row.reduce((a, g) => a + g * g, 0));
    if (b.targets[r] === -1) assert.equal(norm, 0, `row ${r} is masked but has gradient ${norm}`);
    else {
      assert.ok(norm > 1e-4, `row ${r} is trained but has no gradient`);
      const z = values.subarray(r * V, (r + 1) * V);
      const mx = Math.max(...z);
      const lse = mx + Math.log(z.reduce((a, x) => a + Math.exp(x - mx), 0));
      manual += lse - z[b.targets[r]!]!;
    }
  }
  assert.deepEqual([...b.targets.subarray(0, 5)], [-1, -1, 107, 108, -1]);
  assert.ok(Math.abs(manual / b.tokens - lossValue) < 1e-5, `loss ${lossValue} vs mean over trained tokens ${manual / b.tokens}`);
});

function docs(seed: number, n: number): Int32Array[] {
  const rng = new Prng(seed);
  // A learnable pattern: counting runs "abcd…" from a random start.
  return Array.from({ length: n }, () => {
    const start = rng.int(10);
    return Int32Array.from({ length: 6 + rng.int(10) }, (_, i) => 97 + ((start + i) % 16));
  });
}

test('loss falls on a tiny corpus; meanLoss evaluates without gradients', () => {
  const model = new Llama(cfg, { seed: 1 });
  const d = docs(5, 60);
  const task = lmTask(model, new PackedStream(d, { batchSize: 4, seqLen: 16, seed: 1, separator: tok.eotId }));
  const held = new PackedStream(docs(6, 20), { batchSize: 4, seqLen: 16, seed: 9, separator: tok.eotId });
  const evalBatches = [held.next(), held.next()];
  const before = meanLoss(task, evalBatches);
  const r = train(
    { ...task, evaluate: () => ({ evalLoss: meanLoss(task, evalBatches) }) },
    { config: trainLoopConfig({ steps: 60, batchSize: 4, lr: 1e-2, warmupSteps: 5, evalEvery: 30, logEvery: 10, checkpointEvery: 0 }) },
  );
  assert.ok(r.lastEval.evalLoss! < before * 0.6, `held-out loss ${before} -> ${r.lastEval.evalLoss}`);
  assert.ok(
    model.parameters().every((p) => p.grad === null || p.grad.every((g) => g === 0)),
    'gradients are zeroed after each step',
  );
});

test('resume: stop mid-run, resume from the last checkpoint, end bitwise equal to an uninterrupted run', () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-resume-'));
  try {
    const config = trainLoopConfig({
      steps: 8,
      batchSize: 2,
      gradAccum: 2,
      lr: 5e-3,
      warmupSteps: 2,
      checkpointEvery: 3,
      logEvery: 1,
      evalEvery: 0,
      seed: 4,
    });
    const corpus = docs(7, 30);
    const run = (dir: string, opts: { stopAfter?: number; resume?: boolean; initSeed?: number }): void => {
      const model = new Llama(cfg, { seed: opts.initSeed ?? 11 });
      const task: TrainTask<LmBatch> = {
        ...lmTask(model, new PackedStream(corpus, { batchSize: 2, seqLen: 12, seed: config.seed, separator: tok.eotId })),
        saveModel: (out) =>
          saveCheckpoint(out, {
            config: cfg,
            kind: 'lm',
            weights: model.params,
            tokenizer: tok,
            provenance: { command: 'test', config, seed: 4, dataHash: null, parent: null, createdAt: 'fixed' },
          }),
      };
      train(task, {
        config,
        outDir: dir,
        ...(opts.resume ? { resume: true } : {}),
        ...(opts.stopAfter ? { stopAfter: opts.stopAfter } : {}),
      });
    };
    const a = join(root, 'a');
    const b = join(root, 'b');
    run(a, {});
    run(b, { stopAfter: 5 }); // checkpoint at 3; steps 4-5 are lost with the "crash"
    assert.equal(JSON.parse(readFileSync(join(latestCheckpoint(b)!, 'trainer-state/state.json'), 'utf8')).step, 3);
    assert.throws(() => run(b, {}), /holds a resumable run already; pass --resume/);
    run(b, { resume: true, initSeed: 99 }); // a different init: the weights must come from the state
    for (const f of ['model.safetensors', 'trainer-state/params.safetensors', 'trainer-state/optimizer.safetensors'])
      assert.ok(
        readFileSync(join(latestCheckpoint(a)!, f)).equals(readFileSync(join(latestCheckpoint(b)!, f))),
        `${f} differs after resume`,
      );
    assert.ok(readFileSync(join(a, 'model.safetensors')).equals(readFileSync(join(b, 'model.safetensors'))), 'the published model differs');
    const steps = (dir: string): Array<[number, number]> =>
      readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as MetricsRecord)
        .map((r) => [r.step, r.loss!]);
    assert.deepEqual(steps(b), steps(a)); // lines after the checkpoint were rewritten, not duplicated
    assert.equal(loadCheckpoint(b).weights.size, [...new Llama(cfg).params.keys()].length);
    // A changed config cannot resume.
    const changed = trainLoopConfig({ ...config, lr: 1e-3 });
    const model = new Llama(cfg, { seed: 1 });
    assert.throws(
      () =>
        train(lmTask(model, new PackedStream(corpus, { batchSize: 2, seqLen: 12, seed: 4, separator: tok.eotId })), {
          config: changed,
          outDir: b,
          resume: true,
        }),
      /started with lr = 0.005 but resumes with 0.001/,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a NaN is reported with its step and the op that first saw it', () => {
  const model = new Llama(cfg, { seed: 1 });
  const task = lmTask(model, new PackedStream(docs(1, 5), { batchSize: 1, seqLen: 8, seed: 1, separator: tok.eotId }));
  noGrad(() => model.embed.data.fill(NaN, 0, cfg.vocabSize * cfg.dModel));
  assert.throws(
    () => train(task, { config: trainLoopConfig({ steps: 2, batchSize: 1, evalEvery: 0, checkpointEvery: 0 }) }),
    /^NonFiniteError|step 0: non-finite value .* in input of embedding: input 0 'model.embed_tokens.weight'/,
  );
});
