// star-sft and star-dpo end to end on a tiny PrefWorld and a tiny random base (its rationales are
// noise, but at temperature 1 over ~260 tokens about half end in some verdict, right or wrong:
// enough for STaR's filter and for DPO pairs). Checks: the datasets follow from the samples, the
// DPO loss falls and reward accuracy rises on its dataset, the SFT loss falls, the run folder is a
// loadable checkpoint, and an interrupted run resumes at its iteration and phase without
// resampling and ends with the same weights as an uninterrupted one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../../../src/engine/autograd/index.js';
import { loadCheckpoint } from '../../../src/engine/checkpoint.js';
import { collateDpo, dpoLoss } from '../../../src/train/recipes/dpo.js';
import { getRecipe, resolveRecipeConfig, runRecipe, type RecipeContext } from '../../../src/train/recipes/index.js';
import { loadBase } from '../../../src/train/recipes/model.js';
import { tokenizeDpo } from '../../../src/train/recipes/star-dpo.js';
import { DPO_FILE, DpoRecordSchema, readRecords, SAMPLES_FILE, SFT_FILE } from '../../../src/train/star/records.js';
import { latestCheckpoint } from '../../../src/train/state.js';
import { makeFixture } from './fixture.js';

const quiet = (o: Partial<RecipeContext> = {}): RecipeContext => ({ command: 'test', resume: false, progress: false, say: () => {}, ...o });
// Small sampling and training settings: seconds, not minutes.
const STAR = {
  k: 8,
  maxTokens: 64,
  chunkPairs: 16,
  evalPairs: 0,
  overflow: 'skip',
  warmupSteps: 0,
  logEvery: 1,
  evalEvery: 0,
  valPairs: 0,
  replay: 0,
};

test('star-dpo: one iteration samples, pairs right over wrong rationales, and DPO lowers its loss and raises reward accuracy', async () => {
  const fx = await makeFixture({ train: 16, seqLen: 256 });
  try {
    const out = join(fx.root, 'dpo');
    const recipe = getRecipe('star-dpo');
    const c = resolveRecipeConfig(
      recipe,
      {
        ...STAR,
        data: fx.world,
        base: fx.base,
        out,
        iterations: 1,
        epochs: 2,
        lr: 3e-3,
        batchSize: 8,
        checkpointEvery: 0,
        warmStart: 'none',
        beta: 1,
        nllWeight: 0,
      },
      'test',
    );
    const r = await runRecipe(recipe, c, quiet());
    const it = (r.details.iterations as { pairs: number; dpoPairs: number; pairsWithRight: number; train: Record<string, number> }[])[0]!;
    assert.equal(it.pairs, 16);
    assert.ok(it.dpoPairs >= 8, `only ${it.dpoPairs} DPO pairs`);
    assert.ok(it.pairsWithRight > 0 && it.pairsWithRight <= 1);
    // The loss curve of the iteration.
    const logs = readFileSync(join(out, 'iter-1', 'model', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    assert.ok(Math.abs(logs[0]!.loss! - Math.log(2)) < 0.05, `first loss ${logs[0]!.loss} (policy = reference: log 2)`);
    // On the whole dataset: the trained policy against the reference (the iteration's start = the base).
    const recs = readRecords(join(out, 'iter-1', DPO_FILE), DpoRecordSchema);
    const policy = loadBase(out);
    const ref = loadBase(fx.base).model.freeze();
    const { examples } = tokenizeDpo(policy.tokenizer, recs, 256, 'skip', 'dpo');
    const m = noGrad(() => dpoLoss(policy.model, collateDpo(examples, policy.tokenizer.padId), 1, ref));
    assert.ok(m.loss.item() < 0.6 * Math.log(2), `dataset loss ${m.loss.item()}`);
    assert.ok(m.metrics!['rewards/accuracies']! > 0.8, `reward accuracy ${m.metrics!['rewards/accuracies']}`);
    assert.ok(m.metrics!['rewards/margins']! > 0.5);
    assert.equal(loadCheckpoint(out).kind, 'lm');
  } finally {
    rmSync(fx.root, { recursive: true, force: true });
  }
});

test('star-dpo warm start: SFT on the kept rationales first, then DPO against that model; held-out DPO loss logged', async () => {
  const fx = await makeFixture({ train: 20, seqLen: 256 });
  try {
    const out = join(fx.root, 'dpo-warm');
    const recipe = getRecipe('star-dpo');
    const c = resolveRecipeConfig(
      recipe,
      {
        ...STAR,
        data: fx.world,
        base: fx.base,
        out,
        iterations: 1,
        epochs: 2,
        lr: 3e-3,
        warmLr: 3e-3,
        batchSize: 4,
        checkpointEvery: 0,
        warmStart: 'sft',
        valPairs: 2,
        valEvery: 2,
        patience: 50,
      },
      'test',
    );
    const r = await runRecipe(recipe, c, quiet());
    const it = (r.details.iterations as { train: Record<string, number> }[])[0]!;
    assert.ok(it.train['sft/steps']! > 0 && it.train.steps === it.train['sft/steps']! + it.train.cap!, JSON.stringify(it.train));
    assert.equal(
      JSON.parse(readFileSync(join(latestCheckpoint(join(out, 'iter-1', 'sft'))!, 'trainer-state', 'state.json'), 'utf8')).done,
      true,
    );
    // The warm start (SFT on the model's own rationales) is early-stopped on the held-out pairs' CoT verdict error, the NLL logged beside.
    const sftChecks = readFileSync(join(out, 'iter-1', 'sft', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>)
      .filter((x) => 'val/cotError' in x);
    assert.ok(
      sftChecks.length >= 2 &&
        sftChecks.every(
          (x) =>
            x['val/cotError']! >= 0 &&
            x['val/cotError']! <= 1 &&
            Math.abs(x['val/cotError']! + x['val/cotAcc']! - 1) < 1e-12 &&
            typeof x['val/loss'] === 'number',
        ),
      JSON.stringify(sftChecks[0]),
    );
    assert.equal(it.train['sft/val/cotError'], Math.min(...sftChecks.map((x) => x['val/cotError']!)));
    // DPO starts at the warm-started model and uses it as the reference: the held-out loss starts at log 2.
    const logs = readFileSync(join(out, 'iter-1', 'model', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    assert.equal(logs[0]!.step, 0);
    assert.ok(Math.abs(logs[0]!['val/loss']! - Math.log(2)) < 1e-4, `first held-out DPO loss ${logs[0]!['val/loss']}`);
    for (const k of ['val/rewards/accuracies', 'val/rewards/margins']) assert.ok(typeof logs[0]![k] === 'number', k);
    assert.ok(r.bestVal !== null && r.tokens > 0 && r.cpuSec > 0);
    const prov = loadCheckpoint(join(out, 'iter-1', 'model')).genrm.provenance;
    assert.equal(prov.parent, join(out, 'iter-1', 'sft'));
  } finally {
    rmSync(fx.root, { recursive: true, force: true });
  }
});

test('star-sft: two iterations, SFT loss falls; interrupted in training, resumed at that iteration and phase without resampling, same weights', async () => {
  const fx = await makeFixture({ train: 16, seqLen: 256 });
  try {
    const recipe = getRecipe('star-sft');
    const cfg = (out: string) =>
      resolveRecipeConfig(
        recipe,
        { ...STAR, data: fx.world, base: fx.base, out, iterations: 2, epochs: 3, lr: 3e-3, batchSize: 4, checkpointEvery: 1 },
        'test',
      );
    const full = join(fx.root, 'full');
    const r = await runRecipe(recipe, cfg(full), quiet());
    const its = r.details.iterations as { sftKept: number; end: string; train: Record<string, number> | null }[];
    assert.equal(its.length, 2);
    for (const it of its) {
      assert.ok(it.sftKept > 0 && it.train, 'an iteration kept nothing');
      assert.ok(it.train.lastLoss! < it.train.firstLoss!, `SFT loss ${it.train.firstLoss} -> ${it.train.lastLoss}`);
    }
    // Iteration 2 sampled from iteration 1's model and trained on its own kept rationales.
    assert.equal(its[1]!.end, join(full, 'iter-2', 'model'));
    const kept = readFileSync(join(full, 'iter-1', SFT_FILE), 'utf8')
      .trim()
      .split('\n').length;
    assert.equal(kept, its[0]!.sftKept);
    assert.equal(readFileSync(join(full, 'star-iterations.jsonl'), 'utf8').trim().split('\n').length, 2);

    // Interrupted after one update of iteration 1's training, then resumed.
    const cut = join(fx.root, 'cut');
    const r1 = await runRecipe(recipe, cfg(cut), quiet({ stopAfter: 1 }));
    assert.equal(r1.details.stopped, true);
    assert.ok(!existsSync(join(cut, 'iter-2')));
    const samples1 = readFileSync(join(cut, 'iter-1', SAMPLES_FILE));
    await assert.rejects(runRecipe(recipe, cfg(cut), quiet()), /pass --resume/);
    await runRecipe(recipe, cfg(cut), quiet({ resume: true }));
    assert.deepEqual(readFileSync(join(cut, 'iter-1', SAMPLES_FILE)), samples1, 'iteration 1 was resampled');
    const a = loadCheckpoint(full).weights;
    const b = loadCheckpoint(cut).weights;
    for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, `${name} differs after resume`);
    // The samples of the interrupted run equal the uninterrupted one's (seeded per iteration).
    assert.deepEqual(readFileSync(join(cut, 'iter-2', SAMPLES_FILE)), readFileSync(join(full, 'iter-2', SAMPLES_FILE)));
  } finally {
    rmSync(fx.root, { recursive: true, force: true });
  }
});
