// DPO: the loss against an independent computation (the engine's teacher-forced scorer, float64
// formula), its gradient against central finite differences on a tiny Llama, precomputed and
// per-batch references agree, the reference stays bitwise unchanged with no gradients or
// optimizer state, and training lowers the loss while raising the reward accuracy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backward, noGrad } from '../../../src/engine/autograd/index.js';
import { Llama, type ModelConfig } from '../../../src/engine/model/index.js';
import { Prng } from '../../../src/engine/prng.js';
import { readSafetensors } from '../../../src/engine/safetensors.js';
import { continuationLogprobs } from '../../../src/engine/sampling/index.js';
import { trainLoopConfig } from '../../../src/train/config.js';
import { collateDpo, dpoLoss, dpoTask, precomputeReference, sequenceLogprobs, type DpoExample } from '../../../src/train/recipes/dpo.js';
import { train, type MetricsRecord } from '../../../src/train/trainer.js';
import { latestCheckpoint } from '../../../src/train/state.js';

const cfg: ModelConfig = {
  vocabSize: 24,
  dModel: 8,
  nLayers: 1,
  nHeads: 2,
  nKvHeads: 1,
  ffnHidden: 16,
  maxSeqLen: 16,
  ropeTheta: 10000,
  normEps: 1e-5,
  tieEmbeddings: false,
};
const PAD = 0;

function examples(seed: number, n: number): DpoExample[] {
  const rng = new Prng(seed);
  const ids = (len: number): number[] => Array.from({ length: len }, () => 1 + rng.int(cfg.vocabSize - 1));
  // Prompts and completions of different lengths, so padding and masking both matter.
  return Array.from({ length: n }, (_, i) => ({ prompt: ids(2 + (i % 3)), chosen: ids(2 + rng.int(3)), rejected: ids(1 + rng.int(4)) }));
}

const logSig = (x: number): number => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));

test('DPO loss equals the formula on teacher-forced completion log-likelihoods (prompt masked)', () => {
  const policy = new Llama(cfg, { seed: 2 });
  const ref = new Llama(cfg, { seed: 7 }).freeze();
  const ex = examples(1, 5);
  const beta = 0.7;
  const b = collateDpo(ex, PAD);
  const out = noGrad(() => dpoLoss(policy, b, beta, ref));
  const score = (m: Llama, key: 'chosen' | 'rejected'): number[] =>
    continuationLogprobs(
      m,
      ex.map((e) => ({ prompt: e.prompt, continuation: e[key] })),
    ).map((s) => s.total);
  const [pc, pr, rc, rr] = [score(policy, 'chosen'), score(policy, 'rejected'), score(ref, 'chosen'), score(ref, 'rejected')];
  let want = 0;
  let acc = 0;
  let margin = 0;
  for (let i = 0; i < ex.length; i++) {
    const z = beta * (pc[i]! - rc[i]! - (pr[i]! - rr[i]!));
    want -= logSig(z) / ex.length;
    margin += z / ex.length;
    acc += (pc[i]! - rc[i]! > pr[i]! - rr[i]! ? 1 : 0) / ex.length;
  }
  assert.ok(Math.abs(out.loss.item() - want) < 1e-4, `loss ${out.loss.item()} vs formula ${want}`);
  assert.ok(Math.abs(out.metrics!['rewards/margins']! - margin) < 1e-4);
  assert.ok(
    Math.abs(out.metrics!['rewards/accuracies']! - acc) < 1e-9 && acc > 0 && acc < 1,
    `accuracy ${out.metrics!['rewards/accuracies']} vs ${acc}`,
  );
  // The sequence log-likelihoods are over the completions only (the prompt masked): each row
  // equals the scorer's continuation total, and differs from the whole sequence's.
  const seq = noGrad(() => sequenceLogprobs(policy, b.lm).data);
  [...pc, ...pr].forEach((v, i) => assert.ok(Math.abs(seq[i]! - v) < 1e-4, `row ${i}: ${seq[i]} vs ${v}`));
  const whole = continuationLogprobs(
    policy,
    ex.map((e) => ({ prompt: e.prompt.slice(0, 1), continuation: [...e.prompt.slice(1), ...e.chosen] })),
  );
  assert.ok(Math.abs(whole[0]!.total - pc[0]!) > 1e-2, 'the test must tell a masked prompt from an unmasked one');
  // Precomputed reference log-likelihoods give the same loss as the per-batch reference.
  const pre = ex.map((e) => ({ ...e }));
  precomputeReference(ref, pre, PAD, 2);
  const viaPre = noGrad(() => dpoLoss(policy, collateDpo(pre, PAD), beta)).loss.item();
  assert.ok(Math.abs(viaPre - out.loss.item()) < 1e-5, `precomputed ${viaPre} vs per-batch ${out.loss.item()}`);
  assert.ok(Math.abs(pre[0]!.refChosen! - rc[0]!) < 1e-4);
});

test('DPO gradient matches central finite differences of the DPO loss', () => {
  const policy = new Llama(cfg, { seed: 3 });
  const ref = new Llama(cfg, { seed: 9 }).freeze();
  const b = collateDpo(examples(4, 4), PAD);
  const beta = 2; // a larger beta makes the reference terms and the sigmoid's curvature matter
  const lossAt = (): number => noGrad(() => dpoLoss(policy, b, beta, ref).loss.item());
  const out = dpoLoss(policy, b, beta, ref);
  backward(out.loss);
  const rng = new Prng(11);
  let checked = 0;
  for (const name of [
    'model.embed_tokens.weight',
    'model.layers.0.self_attn.q_proj.weight',
    'model.layers.0.mlp.down_proj.weight',
    'model.norm.weight',
    'lm_head.weight',
  ]) {
    const p = policy.params.get(name)!;
    const g = Float32Array.from(p.grad!);
    // The largest-gradient entry and two random ones.
    let top = 0;
    for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[top]!)) top = i;
    for (const i of [top, rng.int(g.length), rng.int(g.length)]) {
      const eps = 1e-2;
      const keep = p.data[i]!;
      p.data[i] = keep + eps;
      const up = lossAt();
      p.data[i] = keep - eps;
      const down = lossAt();
      p.data[i] = keep;
      const fd = (up - down) / (2 * eps);
      assert.ok(Math.abs(fd - g[i]!) <= 5e-5 + 0.03 * Math.abs(g[i]!), `${name}[${i}]: finite difference ${fd} vs gradient ${g[i]}`);
      checked++;
    }
    assert.ok(Math.abs(g[top]!) > 1e-4, `${name}: gradient too small to test (${g[top]})`);
  }
  assert.equal(checked, 15);
  for (const p of ref.params.values()) assert.equal(p.grad, null, 'the reference got a gradient');
});

test('DPO training: loss falls, reward accuracy rises; the reference is bitwise unchanged, with no grads or optimizer state', () => {
  const policy = new Llama(cfg, { seed: 5 });
  const ref = new Llama(cfg, { seed: 5 }).freeze(); // the model at the start, as STaR-DPO's default
  const snapshot = new Map([...ref.params].map(([k, t]) => [k, Float32Array.from(t.data)]));
  const ex = examples(6, 12);
  const out = mkdtempSync(join(tmpdir(), 'genrm-dpo-'));
  try {
    const logs: MetricsRecord[] = [];
    const task = dpoTask(policy, ex, { beta: 1, batchSize: 4, seed: 1, padId: PAD, ref });
    const config = trainLoopConfig({
      steps: 30,
      batchSize: 4,
      lr: 1e-2,
      warmupSteps: 0,
      weightDecay: 0,
      logEvery: 3,
      evalEvery: 0,
      checkpointEvery: 0,
    });
    train(task, { config, outDir: out, onLog: (r) => logs.push(r) });
    const first = logs[0]!;
    const last = logs[logs.length - 1]!;
    // Policy = reference at step 0: loss log 2 and rewards 0; training must pull them apart.
    assert.ok(last.loss! < 0.5 * first.loss!, `loss ${first.loss} -> ${last.loss}`);
    assert.ok(
      last['rewards/accuracies']! > 0.9 && last['rewards/accuracies']! > first['rewards/accuracies']!,
      `accuracy ${first['rewards/accuracies']} -> ${last['rewards/accuracies']}`,
    );
    assert.ok(last['rewards/margins']! > first['rewards/margins']!);
    for (const [k, t] of ref.params) {
      assert.equal(t.requiresGrad, false);
      assert.equal(t.grad, null, `${k} has a gradient`);
      assert.deepEqual(t.data, snapshot.get(k), `${k} changed`);
    }
    // The optimizer's moments are exactly the policy's parameters (m and v each).
    const moments = readSafetensors(join(latestCheckpoint(out)!, 'trainer-state', 'optimizer.safetensors')).tensors;
    assert.equal(moments.size, 2 * policy.parameters().length);
    // The full-dataset loss fell too (not just the logged batches).
    const all = collateDpo(ex, PAD);
    assert.ok(noGrad(() => dpoLoss(policy, all, 1, ref).loss.item()) < 0.5 * Math.log(2));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
