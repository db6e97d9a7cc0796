// Training recipes on a tiny world and a tiny random base: every recipe lowers its loss (and the
// head recipes and genrm raise their training accuracy), checkpoints carry the right kind and
// `score.weight` and load back, the SFT mask trains the target only, both orders are in every
// epoch, a resumed run ends with the same weights, and config errors name the key.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VERDICT_A, VERDICT_B } from '../../src/data/judgeFormat.js';
import { backward, crossEntropy, noGrad, Tensor } from '../../src/engine/autograd/index.js';
import { loadCheckpoint } from '../../src/engine/checkpoint.js';
import { padBatch } from '../../src/train/batches.js';
import { readConfigFile } from '../../src/train/configFile.js';
import { bothOrders, directExample, loadPairData } from '../../src/train/recipes/data.js';
import { directAccuracy } from '../../src/train/recipes/evalJudge.js';
import { tokenizeExamples } from '../../src/train/recipes/examples.js';
import { getRecipe, resolveRecipeConfig, runRecipe, type RecipeResult } from '../../src/train/recipes/index.js';
import { loadBase } from '../../src/train/recipes/model.js';
import { sftTask } from '../../src/train/recipes/sft.js';
import type { MetricsRecord } from '../../src/train/trainer.js';
import { makeFixture, type Fixture } from './recipes/fixture.js';
import { encodePrompt } from '../../src/backends/embedded/render.js';

let f: Fixture;
before(async () => {
  f = await makeFixture({ train: 16 });
});
after(() => rmSync(f.root, { recursive: true, force: true }));

/** Fast settings: 16 pairs memorised by a 1-layer d=32 model at a high lr (no validation slice or replay: the loss curves are the point). */
const FAST = {
  lr: 1e-2,
  warmupSteps: 2,
  batchSize: 8,
  evalPairs: 8,
  evalEvery: 0,
  logEvery: 10,
  checkpointEvery: 0,
  valPairs: 0,
  replay: 0,
};

async function run(
  name: string,
  extra: Record<string, unknown> = {},
  opts: { resume?: boolean; stopAfter?: number } = {},
): Promise<{ r: RecipeResult; logs: MetricsRecord[]; out: string }> {
  const recipe = getRecipe(name);
  const out = (extra.out as string | undefined) ?? join(f.root, `${name}-${Math.random().toString(36).slice(2, 8)}`);
  const c = resolveRecipeConfig(recipe, { data: f.world, base: f.base, ...FAST, ...extra, out }, 'test');
  const logs: MetricsRecord[] = [];
  const r = await runRecipe(recipe, c, {
    command: `genrm train ${name} (test)`,
    resume: opts.resume ?? false,
    progress: false,
    say: () => {},
    onLog: (m) => logs.push(m),
    ...(opts.stopAfter !== undefined ? { stopAfter: opts.stopAfter } : {}),
  });
  return { r, logs, out };
}

test('genrm: loss falls, training accuracy (P(right verdict) > P(wrong)) rises, lm checkpoint with provenance', async () => {
  const { r, out } = await run('genrm', { steps: 100 });
  const data = loadPairData(f.world, { evalPairs: 0, seed: 1 });
  const base = loadBase(f.base);
  const before = directAccuracy(base.model, base.tokenizer, data.train).evalAcc!;
  const trained = loadBase(out);
  const afterAcc = directAccuracy(trained.model, trained.tokenizer, data.train).evalAcc!;
  assert.ok(r.lastLoss < r.firstLoss - 1, `loss ${r.firstLoss} -> ${r.lastLoss}`);
  assert.ok(afterAcc >= 0.75 && afterAcc > before + 0.2, `training accuracy ${before} -> ${afterAcc}`);
  const ck = loadCheckpoint(out, { expectKind: 'lm' });
  assert.equal(ck.weights.has('score.weight'), false);
  const prov = ck.genrm.provenance;
  assert.equal((prov.config as { recipe: string }).recipe, 'genrm');
  assert.equal(prov.parent, loadBase(f.base).dir);
  assert.match(prov.dataHash ?? '', /^sha256:[0-9a-f]{64}$/);
  const resolved = JSON.parse(readFileSync(join(out, 'config.resolved.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(resolved.recipe, 'genrm');
  assert.equal(resolved.steps, 100);
  assert.equal(resolved.overflow, 'error'); // a default, filled in
  assert.ok(typeof r.eval.evalAcc === 'number', 'held-out accuracy at the end');
  assert.ok(existsSync(join(out, 'metrics.jsonl')));
});

test('bt: loss falls, pair accuracy rises; kind bt with score.weight [1, dModel], LlamaForSequenceClassification', async () => {
  const { r, logs, out } = await run('bt', { steps: 60 });
  assert.ok(r.lastLoss < r.firstLoss - 0.3, `loss ${r.firstLoss} -> ${r.lastLoss}`);
  assert.ok(logs.at(-1)!.acc! > logs[0]!.acc! + 0.15 && logs.at(-1)!.acc! >= 0.9, `acc ${logs[0]!.acc} -> ${logs.at(-1)!.acc}`);
  const ck = loadCheckpoint(out, { expectKind: 'bt' });
  assert.deepEqual(ck.weights.get('score.weight')!.shape, [1, ck.config.dModel]);
  assert.equal(ck.numLabels, 1);
  const hf = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { architectures: string[] };
  assert.deepEqual(hf.architectures, ['LlamaForSequenceClassification']);
  assert.ok(typeof r.eval.evalAcc === 'number');
});

test('pairrm: loss falls, accuracy rises over both orders; kind pairrm with score.weight [2, dModel]', async () => {
  const { r, logs, out } = await run('pairrm', { steps: 60 });
  assert.ok(r.lastLoss < r.firstLoss - 0.15, `loss ${r.firstLoss} -> ${r.lastLoss}`);
  const early = logs[0]!.acc!;
  const late = Math.max(...logs.slice(-2).map((l) => l.acc!));
  assert.ok(late > early + 0.2, `acc ${early} -> ${late}`);
  const ck = loadCheckpoint(out, { expectKind: 'pairrm' });
  assert.deepEqual(ck.weights.get('score.weight')!.shape, [2, ck.config.dModel]);
  assert.equal(r.details.items, 32); // 16 pairs x 2 orders
});

test('rationalize: usable rationales counted and saved, SFT loss falls', async () => {
  const { r, out } = await run('rationalize', { steps: 30, lr: 3e-3, samples: 2, maxTokens: 120, evalCotPairs: 2 });
  const d = r.details as { items: number; usable: number; kept: number; examples: number };
  assert.equal(d.items, 32);
  assert.ok(d.usable > 0 && d.usable <= d.items && d.kept === d.examples, JSON.stringify(d));
  assert.ok(r.lastLoss < r.firstLoss - 0.5, `loss ${r.firstLoss} -> ${r.lastLoss}`);
  const kept = readFileSync(join(out, 'rationales.jsonl'), 'utf8').trim().split('\n');
  assert.equal(kept.length, d.kept);
  assert.ok(typeof r.eval.evalCotAcc === 'number');
  loadCheckpoint(out, { expectKind: 'lm' });
});

test('SFT mask: prompt positions get zero gradient, every target position some', () => {
  const base = loadBase(f.base);
  const data = loadPairData(f.world, { evalPairs: 0, seed: 1 });
  const texts = bothOrders(data.train.slice(0, 2)).map(directExample);
  const tk = tokenizeExamples(base.tokenizer, texts, { maxTokens: base.model.config.maxSeqLen, overflow: 'error' });
  const b = padBatch(tk.examples, base.tokenizer.padId);
  // The final hidden states as a leaf (B*T, d): row t feeds only the logits of position t, so its
  // gradient is that position's share of the loss.
  const h = noGrad(() => base.model.hidden(b.ids, b.batch, b.seqLen));
  const hidden = new Tensor(Float32Array.from(h.data), h.shape, { requiresGrad: true });
  backward(crossEntropy(base.model.logits(hidden), b.targets));
  const d = base.model.config.dModel;
  let trainedRows = 0;
  tk.examples.forEach((ex, i) => {
    const promptLen = tok(texts[i]!.prompt);
    for (let t = 0; t < b.seqLen; t++) {
      const row = hidden.grad!.subarray((i * b.seqLen + t) * d, (i * b.seqLen + t + 1) * d);
      const nonzero = row.some((g) => g !== 0);
      // Position t predicts token t+1: trained exactly when t+1 is in the target.
      const inTarget = t + 1 >= promptLen && t + 1 < ex.tokens.length;
      assert.equal(nonzero, inTarget, `example ${i} position ${t} (prompt ${promptLen}, length ${ex.tokens.length})`);
      if (inTarget) trainedRows++;
    }
  });
  assert.equal(trainedRows, tk.targetTokens);
  assert.equal(tk.targetTokens, 4); // one verdict token per direct example
  function tok(s: string): number {
    return encodePrompt(base.tokenizer, s).length; // the beginning-of-sequence token included
  }
});

test('both orders: each pair appears with the chosen answer as A and as B within one epoch', () => {
  const base = loadBase(f.base);
  const data = loadPairData(f.world, { evalPairs: 0, seed: 1 });
  const texts = bothOrders(data.train).map(directExample);
  const tk = tokenizeExamples(base.tokenizer, texts, { maxTokens: base.model.config.maxSeqLen, overflow: 'error' });
  const task = sftTask(base.model, tk.examples, { batchSize: 5, seed: 7, padId: base.tokenizer.padId });
  const seen: string[] = [];
  for (let i = 0; i < Math.ceil(texts.length / 5); i++) {
    const b = task.stream.next();
    for (let r = 0; r < b.batch; r++) {
      const ids = Array.from(b.ids.subarray(r * b.seqLen, (r + 1) * b.seqLen)).filter((x) => x !== base.tokenizer.padId);
      const last = Array.from(b.targets.subarray(r * b.seqLen, (r + 1) * b.seqLen)).filter((x) => x >= 0);
      seen.push(base.tokenizer.decode([...ids, ...last]));
    }
  }
  const bos = base.tokenizer.decode([base.tokenizer.eotId]); // every prompt starts with it, as at judge time
  assert.deepEqual(seen.sort(), texts.map((t) => bos + t.prompt + t.target).sort());
  const verdicts = seen.map((s) => (s.endsWith(VERDICT_A) ? 'A' : s.endsWith(VERDICT_B) ? 'B' : '?'));
  assert.equal(verdicts.filter((v) => v === 'A').length, data.train.length);
  assert.equal(verdicts.filter((v) => v === 'B').length, data.train.length);
});

test('resume: an interrupted run resumed to the end has the same weights as an uninterrupted one', async () => {
  const cfg = { steps: 8, checkpointEvery: 4 };
  const whole = await run('bt', cfg);
  const out = join(f.root, 'bt-resumed');
  const part = await run('bt', { ...cfg, out }, { stopAfter: 6 });
  assert.equal(part.r.steps, 6);
  const resumed = await run('bt', { ...cfg, out }, { resume: true });
  assert.equal(resumed.r.steps, 8);
  const a = loadCheckpoint(whole.out).weights;
  const b = loadCheckpoint(out).weights;
  for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, name);
  // A resumed run with another config is refused, naming the field.
  await assert.rejects(run('bt', { ...cfg, out, headSeed: 9 }, { resume: true }), /started with headSeed = 1 but resumes with 9/);
});

test('config: file keys and flags through one strict schema; unknown key and bad value named; overflow policy', async () => {
  const recipe = getRecipe('genrm');
  const yaml = join(f.root, 'c.yaml');
  writeFileSync(yaml, 'steps: 7\nlr: 0.001\n');
  const c = resolveRecipeConfig(recipe, { ...readConfigFile(yaml), data: 'w', base: 'b', out: 'o', steps: 9 }, yaml);
  assert.deepEqual([c.steps, c.lr, c.batchSize, c.evalPairs], [9, 0.001, 16, 200]);
  writeFileSync(yaml, 'stepz: 7\n');
  assert.throws(
    () => resolveRecipeConfig(recipe, { ...readConfigFile(yaml), data: 'w', base: 'b', out: 'o' }, yaml),
    /c\.yaml \(recipe genrm\): unknown key "stepz"/,
  );
  assert.throws(() => resolveRecipeConfig(getRecipe('rationalize'), { data: 'w', base: 'b', out: 'o', topP: 2 }, 'flags'), /field "topP"/);
  assert.throws(() => getRecipe('ppo'), /unknown recipe "ppo"; known: bt, pairrm, genrm, rationalize/);
  // An example longer than the context: refused naming the pair, or skipped and counted.
  const base = loadBase(f.base);
  const texts = bothOrders(loadPairData(f.world, { evalPairs: 0, seed: 1 }).train).map(directExample);
  const longest = Math.max(...texts.map((t) => base.tokenizer.encode(t.prompt + t.target, { specials: 'parse' }).length));
  assert.throws(
    () => tokenizeExamples(base.tokenizer, texts, { maxTokens: longest - 2, overflow: 'error' }),
    /pair \S+ \(chosen as [AB]\): \d+ tokens .* more than the model's context/,
  );
  const skipped = tokenizeExamples(base.tokenizer, texts, { maxTokens: longest - 2, overflow: 'skip' });
  assert.ok(skipped.skipped.length >= 1 && skipped.examples.length + skipped.skipped.length === texts.length);
});
