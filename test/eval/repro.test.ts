// `genrm repro` on the hidden micro size (a tiny world, a tiny base pretrained in a few steps, a
// few pairs, 2 votes, one STaR iteration of k = 2): every stage runs end to end and writes the
// report, with the labelled +checked rows beside the paper's; an interruption after a stage
// resumes without redoing finished stages; a run folder with other settings is refused, naming
// the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecordsAll } from '../../src/eval/records.js';
import { readResults } from '../../src/eval/report/write.js';
import { runRepro, type ReproOptions } from '../../src/eval/repro/pipeline.js';
import { StopAfterStage } from '../../src/eval/repro/stages.js';
import { planSamples } from '../../src/eval/repro/plan.js';
import { cutsOf, SIZE_SETTINGS } from '../../src/eval/repro/settings.js';
import { claimRunFolder } from '../../src/eval/repro/setup.js';
import { recipeInput, ROWS, STAR_ROWS, TRAINED as ROWS_TRAINED } from '../../src/eval/repro/train.js';
import { getRecipe, resolveRecipeConfig } from '../../src/train/recipes/index.js';

const TRAINED = [
  'bt',
  'pairrm',
  'genrm',
  'rationalize',
  'star-sft',
  'star-dpo',
  'star-sft+checked',
  'star-dpo+checked',
  'grpo',
  'grpo-consistent',
];
const ALL = ['zero-shot', 'zero-shot-cot', ...TRAINED];
const FIRST = ['world', 'base', 'plan', 'zero-shot'];

test('genrm repro (micro): interrupted after the zero-shot stage, the rerun resumes there and runs every later stage; report written', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-repro-'));
  const out = join(root, 'run');
  const lines: string[] = [];
  const opts: ReproOptions = {
    size: 'micro',
    out,
    seed: 1,
    base: null,
    committedBase: join(root, 'no-base'),
    command: 'test',
    progress: false,
    say: (l) => lines.push(l),
    screenshot: false,
  };
  try {
    await assert.rejects(runRepro({ ...opts, stopAfter: 'zero-shot' }), StopAfterStage);
    for (const s of FIRST) assert.ok(existsSync(join(out, 'stages', `${s}.json`)), `${s} marked done`);
    assert.ok(!existsSync(join(out, 'stages', 'train-bt.json')));
    const mtimes = FIRST.map((s) => statSync(join(out, 'stages', `${s}.json`)).mtimeMs);
    const baseWeights = statSync(join(out, 'base', 'model.safetensors')).mtimeMs;
    const zs = readFileSync(join(out, 'records', 'zero-shot-cot.jsonl'), 'utf8');

    const r = await runRepro({ ...opts, screenshot: true });
    assert.equal(r.resumed, true);
    assert.deepEqual(r.skipped, FIRST);
    assert.deepEqual(r.ran, [...TRAINED.flatMap((m) => [`train-${m}`, `eval-${m}`]), 'bon', 'overopt']);
    assert.deepEqual(
      FIRST.map((s) => statSync(join(out, 'stages', `${s}.json`)).mtimeMs),
      mtimes,
      'finished stages not redone',
    );
    assert.equal(statSync(join(out, 'base', 'model.safetensors')).mtimeMs, baseWeights, 'base not pretrained again');
    assert.equal(readFileSync(join(out, 'records', 'zero-shot-cot.jsonl'), 'utf8'), zs, 'zero-shot records not rewritten');
    assert.equal(r.base.source, 'pretrained');

    // The report: every method, STaR per iteration (0 = the zero-shot CoT judge), plan and timings.
    for (const f of ['report.md', 'report.html', 'results.json']) assert.ok(existsSync(join(out, f)), f);
    const res = await readResults(join(out, 'results.json'));
    assert.deepEqual(
      res.methods.map((m) => m.method),
      ALL,
    );
    for (const m of res.methods)
      for (const split of ['test-id', 'test-ood'])
        assert.equal(m.groups.find((g) => g.split === split && g.by === 'all')!.accuracy.n, r.plan.evalPairs, `${m.method} ${split}`);
    const star = res.methods.find((m) => m.method === 'star-dpo')!;
    assert.deepEqual([...new Set(star.iterations.map((i) => i.iteration))], [0, 1]);
    assert.match(res.notes.samplePlan ?? '', /tokens\/s/);
    assert.deepEqual(
      res.notes.timings.map((t) => t.stage),
      [...FIRST, ...r.ran],
    );
    assert.ok(res.notes.quick && res.notes.cut.length > 0);
    const cot = await readRecordsAll(join(out, 'records', 'star-sft.jsonl'));
    assert.ok(
      cot.every((x) => x.chosenFirst!.verdicts.length === 2 && x.chosenSecond!.verdicts.length === 2),
      'CoT judges: 2 votes per order',
    );
    if (r.png) assert.ok(statSync(r.png).size > 10_000, 'screenshot saved');
    else console.log(`# no screenshot: ${r.pngSkipped}`);
    assert.ok(
      lines.some((l) => /\[5\/27\] train bt: done in \d+\.\d s/.test(l)),
      'each stage prints its time',
    );
    // The +checked rows: STaR with filter 'checked', on the first iteration's samples drawn once for all STaR rows.
    const cfg = JSON.parse(readFileSync(join(out, 'models', 'star-dpo+checked', 'config.resolved.json'), 'utf8')) as {
      recipe: string;
      filter: string;
    };
    assert.deepEqual([cfg.recipe, cfg.filter], ['star-dpo', 'checked']);
    const samples = (m: string) => readFileSync(join(out, 'models', m, 'iter-1', 'samples.jsonl'), 'utf8');
    for (const m of ['star-dpo', 'star-sft+checked', 'star-dpo+checked'])
      assert.equal(samples(m), samples('star-sft'), `${m}: iteration 1 samples shared`);
    const report = (m: string) =>
      JSON.parse(readFileSync(join(out, 'models', m, 'iter-1', 'report.json'), 'utf8')) as {
        config: { filter: string };
        sft: { kept: number };
        dpo: { rejectedInvalid: number };
      };
    assert.equal(report('star-sft+checked').config.filter, 'checked');
    assert.ok(report('star-sft+checked').sft.kept <= report('star-sft').sft.kept, 'checked keeps a subset');
    assert.ok(!res.claims.some((c) => c.checks.some((x) => x.what.includes('+checked'))), 'variants stay out of the claims');
    assert.ok(res.goals.some((g) => g.id === 'ood-margin-over-bt:star-dpo'));
    assert.deepEqual(
      res.notes.training.map((t) => t.method),
      TRAINED,
    );
    assert.ok(res.notes.training.every((t) => t.cap === 2 && t.seconds !== null));
    // The GRPO rows (beyond the paper): J1's consistency reward on one, out of the claims.
    const g = JSON.parse(readFileSync(join(out, 'models', 'grpo-consistent', 'config.resolved.json'), 'utf8')) as {
      recipe: string;
      reward: string;
      k: number;
    };
    assert.deepEqual([g.recipe, g.reward, g.k], ['grpo', 'consistent', SIZE_SETTINGS.micro.grpoK]);
    assert.ok(!res.claims.some((c) => c.checks.some((x) => x.what.includes('grpo'))), 'grpo rows stay out of the claims');
    // Best-of-N: every judge that was trained, both splits, every N, beside the oracle; its plot.
    const judges = [...new Set(res.bon.map((b) => b.judge))];
    assert.deepEqual(judges, ['bt', 'genrm', 'zero-shot-cot', 'star-dpo', 'grpo']);
    for (const j of judges)
      for (const split of ['test-id', 'test-ood'])
        assert.deepEqual(
          res.bon.filter((b) => b.judge === j && b.split === split).map((b) => b.n),
          SIZE_SETTINGS.micro.bon.ns,
          `${j} ${split}`,
        );
    for (const b of res.bon) assert.ok(b.accuracy.value! <= b.oracle.value!, 'no judge beats the oracle');
    assert.ok(
      res.bon.filter((b) => b.n === 1).every((b) => b.accuracy.value === b.oracle.value),
      'N = 1: one answer, the oracle is that answer',
    );
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /## Best-of-N[\s\S]*oracle/);
    assert.ok(existsSync(join(out, 'plots', 'best-of-n.svg')));
    // Overoptimisation: the gold reference and each trained judge as the policy's reward, at steps 0..2.
    assert.deepEqual([...new Set(res.overopt.map((x) => x.judge))], ['gold', 'bt', 'genrm', 'star-dpo']);
    assert.deepEqual([...new Set(res.overopt.map((x) => x.step))], [0, 1, 2]);
    assert.ok(
      res.overopt.every((x) => (x.judge === 'gold') === (x.proxy === null)),
      'a proxy for every judge, none for the gold',
    );
    assert.ok(existsSync(join(out, 'plots', 'overoptimisation.svg')));
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /## Overoptimisation/);

    // The same folder with another seed: refused, naming the field.
    await assert.rejects(runRepro({ ...opts, seed: 2 }), /different settings \(seed: 1 there, 2 now\)/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('repro plan and budgets: full judges at least 400 pairs per split whatever the budget affords; every method gets the same cap', () => {
  const slow = { rows: 1, tokens: 10, seconds: 10, tokensPerSec: 1, meanTokens: 100 };
  const full = planSamples(SIZE_SETTINGS.full, slow, { testId: 2000, testOod: 2500, train: 40000 }, STAR_ROWS.length);
  assert.equal(full.evalPairs, 400);
  assert.ok(full.rationalizePairs < 400, 'the floor is for evaluation only');
  assert.match(full.text, /raised to the floor of 400 eval pairs/);
  // The floor costs more than the budget, and the plan says by how much.
  assert.ok(full.plannedSeconds > SIZE_SETTINGS.full.samplingSeconds);
  assert.match(full.text, new RegExp(`${Math.round(full.plannedSeconds - SIZE_SETTINGS.full.samplingSeconds)} s over the budget`));
  // Never more than a split holds.
  assert.equal(planSamples(SIZE_SETTINGS.full, slow, { testId: 300, testOod: 2500, train: 40000 }, STAR_ROWS.length).evalPairs, 300);
  assert.ok(SIZE_SETTINGS.quick.budget.steps < SIZE_SETTINGS.full.budget.steps);

  const plan = planSamples(SIZE_SETTINGS.quick, slow, { testId: 500, testOod: 600, train: 4000 }, STAR_ROWS.length);
  const configs = ROWS_TRAINED.map((recipe) => {
    const input = recipeInput({
      recipe,
      base: 'b',
      data: { sft: 's', rationalize: 'r', star: 't' },
      out: 'o',
      seed: 1,
      settings: SIZE_SETTINGS.quick,
      plan,
      command: 'x',
      progress: false,
      say: () => {},
    });
    return { recipe, config: resolveRecipeConfig(getRecipe(ROWS[recipe].recipe), input, recipe) as Record<string, unknown> };
  });
  assert.deepEqual(
    new Set(configs.filter((c) => !c.recipe.startsWith('grpo')).map((c) => c.config['steps'])),
    new Set([SIZE_SETTINGS.quick.budget.steps]),
  );
  // GRPO: its own lower cap (an update samples 2 × 2 × k rationales), the same stopping rule.
  for (const c of configs.filter((x) => x.recipe.startsWith('grpo'))) {
    assert.equal(c.config['steps'], Math.min(SIZE_SETTINGS.quick.budget.steps, SIZE_SETTINGS.quick.grpoSteps));
    assert.equal(c.config['patience'], SIZE_SETTINGS.quick.budget.patience);
  }
  assert.deepEqual(
    configs.filter((c) => c.config['filter'] !== undefined).map((c) => [c.recipe, c.config['filter']]),
    [
      ['star-sft', 'verdict'],
      ['star-dpo', 'verdict'],
      ['star-sft+checked', 'checked'],
      ['star-dpo+checked', 'checked'],
    ],
  );
  assert.deepEqual(
    configs.filter((c) => c.config['reward'] !== undefined).map((c) => [c.recipe, c.config['reward']]),
    [
      ['grpo', 'right'],
      ['grpo-consistent', 'consistent'],
    ],
  );
  assert.ok(cutsOf('quick').some((c) => c.includes(`every method at most ${SIZE_SETTINGS.quick.budget.steps} updates`)));
});

test('a run folder from before a size setting existed resumes with it added; a changed setting is still refused', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-claim-'));
  try {
    const want = { version: 1 as const, size: 'quick' as const, seed: 1, base: null, settings: SIZE_SETTINGS.quick };
    const { bon: _bon, grpoK: _k, ...older } = SIZE_SETTINGS.quick;
    writeFileSync(join(root, 'repro.json'), JSON.stringify({ ...want, settings: older }));
    assert.equal(await claimRunFolder(root, want), true);
    assert.deepEqual(
      JSON.parse(readFileSync(join(root, 'repro.json'), 'utf8')),
      JSON.parse(JSON.stringify(want)),
      'the new settings are written',
    );
    writeFileSync(join(root, 'repro.json'), JSON.stringify({ ...want, settings: { ...older, votes: 2 } }));
    await assert.rejects(claimRunFolder(root, want), /different settings \(settings:/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
