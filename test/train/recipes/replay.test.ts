// Pretraining replay and early stopping through the recipes, on a tiny world and a tiny random
// base: replay trains the language model on corpus documents (held-out corpus NLL falls only with
// it), its share is exactly the corpus's weight in the logged loss, a resumed run replays the same
// rows (bitwise the same weights), a missing corpus is a clear error naming both options, and a
// recipe with a validation slice reports its best step, tokens and CPU time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../../../src/engine/autograd/index.js';
import { loadCheckpoint } from '../../../src/engine/checkpoint.js';
import { PackedStream } from '../../../src/train/batches.js';
import { loadCorpus } from '../../../src/train/pretrain/data.js';
import { getRecipe, resolveRecipeConfig, runRecipe, type RecipeResult } from '../../../src/train/recipes/index.js';
import { loadBase } from '../../../src/train/recipes/model.js';
import type { MetricsRecord } from '../../../src/train/trainer.js';
import { makeFixture, type Fixture } from './fixture.js';

let f: Fixture;
before(async () => {
  f = await makeFixture({ train: 16 });
});
after(() => rmSync(f.root, { recursive: true, force: true }));

const FAST = { lr: 1e-2, warmupSteps: 2, batchSize: 8, evalPairs: 0, evalEvery: 0, logEvery: 1, checkpointEvery: 0, valPairs: 0 };

async function run(
  extra: Record<string, unknown>,
  opts: { resume?: boolean; stopAfter?: number } = {},
): Promise<{ r: RecipeResult; logs: MetricsRecord[]; out: string }> {
  const recipe = getRecipe('genrm');
  const out = (extra.out as string | undefined) ?? join(f.root, `genrm-${Math.random().toString(36).slice(2, 8)}`);
  const c = resolveRecipeConfig(recipe, { data: f.world, base: f.base, ...FAST, ...extra, out }, 'test');
  const logs: MetricsRecord[] = [];
  const r = await runRecipe(recipe, c, {
    command: 'test',
    resume: opts.resume ?? false,
    progress: false,
    say: () => {},
    onLog: (m) => logs.push(m),
    ...(opts.stopAfter !== undefined ? { stopAfter: opts.stopAfter } : {}),
  });
  return { r, logs, out };
}

/** Token NLL of a model on a fixed slice of the world's corpus. */
function corpusNll(dir: string): number {
  const m = loadBase(dir);
  const docs = loadCorpus(f.world)
    .docs.slice(0, 60)
    .map((d) => Int32Array.from(m.tokenizer.encode(d.text, { specials: 'parse' })));
  const s = new PackedStream(docs, { batchSize: 4, seqLen: 128, seed: 9, separator: m.tokenizer.eotId });
  return noGrad(() => {
    let sum = 0;
    for (let i = 0; i < 3; i++) {
      const b = s.next();
      sum += m.model.loss(b.ids, b.targets, b.batch, b.seqLen).item();
    }
    return sum / 3;
  });
}

test('replay: corpus NLL falls only with replay; its share is the corpus weight of the loss', async () => {
  const none = await run({ steps: 30, replay: 0 });
  const half = await run({ steps: 30, replay: 0.5 });
  const base = corpusNll(f.base);
  const [a, b] = [corpusNll(none.out), corpusNll(half.out)];
  assert.ok(b < base - 0.5 && b < a - 0.5, `corpus NLL: base ${base}, replay 0 -> ${a}, replay 0.5 -> ${b}`);
  for (const l of half.logs.filter((x) => x.loss !== undefined)) {
    assert.ok(
      Math.abs(l.loss! - (0.5 * l.taskLoss! + 0.5 * l.replayLoss!)) < 1e-4 * l.loss!,
      `step ${l.step}: ${l.loss} vs ${l.taskLoss} / ${l.replayLoss}`,
    );
  }
  // Corpus rows are counted in the tokens processed.
  assert.ok(half.r.tokens > none.r.tokens, `${half.r.tokens} vs ${none.r.tokens}`);
});

test('replay: an interrupted run resumed replays the same rows (same weights)', async () => {
  const cfg = { steps: 8, checkpointEvery: 4, replay: 0.25 };
  const whole = await run(cfg);
  const out = join(f.root, 'replay-resumed');
  await run({ ...cfg, out }, { stopAfter: 6 });
  await run({ ...cfg, out }, { resume: true });
  const a = loadCheckpoint(whole.out).weights;
  const b = loadCheckpoint(out).weights;
  for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, name);
});

test('replay: no corpus found is an error naming replay and replayData', async () => {
  await assert.rejects(
    run({ steps: 2, replay: 0.1, data: join(f.world, 'train.jsonl') }),
    /replay is 0\.1 but no pretraining corpus was found: .*train\.jsonl is not a PrefWorld folder holding corpus\.jsonl; set replayData to a corpus\.jsonl .* or set replay: 0/,
  );
  // replayData points at it explicitly: trains.
  const { r } = await run({ steps: 2, replay: 0.1, data: join(f.world, 'train.jsonl'), replayData: join(f.world, 'corpus.jsonl') });
  assert.equal(r.steps, 2);
});

test('early stopping through a recipe: best step, validation metric, tokens and CPU time reported', async () => {
  const { r, logs } = await run({ steps: 200, valPairs: 4, valEvery: 5, patience: 2, replay: 0, lr: 3e-2 });
  assert.ok(r.bestStep !== null && r.bestVal !== null && Number.isFinite(r.bestVal));
  assert.equal(r.val['val/loss'], r.bestVal);
  const checks = logs.filter((x) => typeof x['val/loss'] === 'number');
  assert.equal(checks[0]!.step, 0); // the starting model is the first candidate
  assert.equal(Math.min(...checks.map((x) => x['val/loss']!)), r.bestVal);
  assert.ok(r.stoppedEarly ? r.steps < 200 : r.steps === 200);
  assert.ok(r.tokens > 0 && r.cpuSec > 0);
  assert.equal(r.details.valExamples, 6); // 3 of 16 pairs (a fifth), both orders
});
