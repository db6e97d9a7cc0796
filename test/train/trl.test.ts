// TRL habits: TRL's config names mapped once (and printed), refused with the reason where genrm
// cannot honour them, the nearest key named on a typo; TRL's trainer names as recipes (reward =
// bt, dpo, sft) on TRL-format data, each learning on a tiny task.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../../src/engine/checkpoint.js';
import { mapTrlKeys, nearestKey, TRL_KEYS } from '../../src/train/configFile.js';
import { loadPairData } from '../../src/train/recipes/data.js';
import {
  getRecipe,
  recipeKeys,
  resolveRecipeConfig,
  resolveSchedule,
  runRecipe,
  type RecipeResult,
} from '../../src/train/recipes/index.js';
import type { MetricsRecord } from '../../src/train/trainer.js';
import { makeFixture, type Fixture } from './recipes/fixture.js';

const compiled = import.meta.url.endsWith('.js');
const CLI = compiled
  ? [fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))]
  : ['--import', 'tsx', fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))];

let f: Fixture;
let trlPairs: string; // TRL preference JSONL: no ids, explicit prompt, half of it conversational
let trlSft: string; // TRL SFT JSONL: messages, prompt + completion and text records
before(async () => {
  f = await makeFixture({ train: 16 });
  const pairs = loadPairData(f.world, { evalPairs: 0, seed: 1 }).train;
  trlPairs = join(f.root, 'trl-pairs.jsonl');
  writeFileSync(
    trlPairs,
    pairs
      .map((p, i) =>
        JSON.stringify(
          i % 2 === 0
            ? { prompt: p.prompt, chosen: p.chosen, rejected: p.rejected }
            : {
                prompt: [{ role: 'user', content: p.prompt }],
                chosen: [{ role: 'assistant', content: p.chosen }],
                rejected: [{ role: 'assistant', content: p.rejected }],
              },
        ),
      )
      .join('\n') + '\n',
  );
  trlSft = join(f.root, 'trl-sft.jsonl');
  writeFileSync(
    trlSft,
    pairs
      .map((p, i) =>
        JSON.stringify(
          i % 3 === 0
            ? {
                messages: [
                  { role: 'system', content: 'Answer.' },
                  { role: 'user', content: p.prompt },
                  { role: 'assistant', content: p.chosen },
                ],
              }
            : i % 3 === 1
              ? { prompt: p.prompt, completion: p.chosen }
              : { text: `${String(p.prompt)} ${p.chosen}` },
        ),
      )
      .join('\n') + '\n',
  );
});
after(() => rmSync(f.root, { recursive: true, force: true }));

const FAST = { lr: 1e-2, warmupSteps: 2, evalEvery: 0, logEvery: 2, checkpointEvery: 0, valPairs: 0, replay: 0 };

async function run(name: string, extra: Record<string, unknown>): Promise<{ r: RecipeResult; logs: MetricsRecord[]; out: string }> {
  const recipe = getRecipe(name);
  const out = join(f.root, `${name}-${Math.random().toString(36).slice(2, 8)}`);
  const c = resolveRecipeConfig(recipe, { base: f.base, ...FAST, ...extra, out }, 'test');
  const logs: MetricsRecord[] = [];
  const r = await runRecipe(recipe, c, {
    command: `genrm train ${name} (test)`,
    resume: false,
    progress: false,
    say: () => {},
    onLog: (m) => logs.push(m),
  });
  return { r, logs, out };
}

describe('TRL config names: one mapping step', () => {
  const dpoKeys = recipeKeys(getRecipe('dpo'));
  it("maps TRL's seven everyday keys to genrm's, and says so for each", () => {
    const m = mapTrlKeys(
      {
        learning_rate: 1e-5,
        per_device_train_batch_size: 4,
        gradient_accumulation_steps: 2,
        max_length: 256,
        num_train_epochs: 3,
        warmup_ratio: 0.1,
        beta: 0.2,
        seed: 5,
      },
      dpoKeys,
      'dpo',
      'c.yaml',
    );
    assert.deepEqual(m.config, { lr: 1e-5, batchSize: 4, gradAccum: 2, maxLength: 256, beta: 0.2, seed: 5 });
    assert.deepEqual(m.schedule, { epochs: 3, warmupRatio: 0.1 });
    assert.deepEqual(
      m.mapping.map((x) => x.trl),
      ['learning_rate', 'per_device_train_batch_size', 'gradient_accumulation_steps', 'max_length', 'num_train_epochs', 'warmup_ratio'],
    );
    // STaR recipes count passes per iteration themselves: num_train_epochs is their epochs.
    assert.deepEqual(mapTrlKeys({ num_train_epochs: 1 }, recipeKeys(getRecipe('star-sft')), 'star-sft', 's').config, { epochs: 1 });
  });

  it('refuses, with the reason, what genrm cannot honour', () => {
    const refuse = (input: Record<string, unknown>, recipe: string, re: RegExp): void =>
      assert.throws(() => mapTrlKeys(input, recipeKeys(getRecipe(recipe)), getRecipe(recipe).name, 'c.yaml'), re);
    refuse({ truncation_mode: 'keep_end' }, 'dpo', /c\.yaml: TRL's "truncation_mode" cannot be honoured: genrm never truncates/);
    refuse({ loss_type: 'ipo' }, 'dpo', /"loss_type" = "ipo" cannot be honoured: genrm's DPO loss is the original sigmoid one/);
    refuse({ bf16: true }, 'sft', /"bf16" = true cannot be honoured: genrm trains in float32/);
    refuse({ beta: 0.1 }, 'reward', /TRL's "beta" is genrm's "beta", which recipe bt does not have/);
    refuse(
      { max_length: 512 },
      'reward',
      /TRL's "max_length" is genrm's "maxLength", which recipe bt does not have \(genrm never truncates/,
    );
    refuse(
      { warmup_ratio: 0.1 },
      'star-dpo',
      /needs the run's length, and recipe star-dpo decides each iteration's at run time; give warmupSteps/,
    );
    refuse({ lr: 1e-4, learning_rate: 1e-3 }, 'dpo', /"learning_rate" \(TRL's name for lr\) is 0\.001 but "lr" is 0\.0001; give one/);
    refuse({ learning_rate: 1e-3, lr: 1e-4 }, 'dpo', /"learning_rate" \(TRL's name for lr\) is 0\.001 but "lr" is 0\.0001; give one/);
    refuse({ warmup_ratio: 1.5 }, 'dpo', /"warmup_ratio" must be a number in \(0, 1\), got 1\.5/);
    // Accepted where the value is what genrm does anyway; ignored where only speed changes.
    const ok = mapTrlKeys({ lr_scheduler_type: 'cosine', gradient_checkpointing: true, loss_type: 'sigmoid' }, dpoKeys, 'dpo', 'c.yaml');
    assert.deepEqual(ok.config, {});
    assert.match(ok.mapping.map((x) => x.as).join(' | '), /accepted: genrm's schedule.*ignored: memory only.*accepted/);
  });

  it("a typo is an error that names the nearest key, genrm's or TRL's", () => {
    assert.throws(
      () => mapTrlKeys({ learnig_rate: 1e-4 }, dpoKeys, 'dpo', 'c.yaml'),
      /c\.yaml: unknown key "learnig_rate"; did you mean "learning_rate"\?/,
    );
    assert.throws(() => mapTrlKeys({ batch_size: 4 }, dpoKeys, 'dpo', 'c.yaml'), /unknown key "batch_size"; did you mean "batchSize"\?/);
    assert.throws(
      () => mapTrlKeys({ zzzzzzzz: 1 }, dpoKeys, 'dpo', 'c.yaml'),
      (e: Error) => /unknown key "zzzzzzzz"/.test(e.message) && !/did you mean/.test(e.message),
    );
    assert.equal(nearestKey('warmupsteps', ['warmupSteps', 'steps']), 'warmupSteps');
    for (const [k, rule] of Object.entries(TRL_KEYS)) assert.match(k, /^[a-z0-9_]+$/, `${k} (${rule.kind}) is spelt as TRL spells it`);
  });

  it('num_train_epochs and warmup_ratio become update counts from the data; explicit steps win', async () => {
    const recipe = getRecipe('dpo');
    const c = resolveRecipeConfig(recipe, { data: trlPairs, base: f.base, out: 'o', batchSize: 4, gradAccum: 2, valPairs: 0 }, 't');
    const s = await resolveSchedule(recipe, c, { epochs: 3, warmupRatio: 0.25 }, new Set(), 't');
    assert.equal(s.config.steps, Math.ceil((3 * 16) / 8)); // 16 pairs, 8 per update
    assert.equal(s.config.warmupSteps, Math.round(0.25 * 6));
    const given = await resolveSchedule(recipe, { ...c, steps: 5 }, { epochs: 3 }, new Set(['steps']), 't');
    assert.equal(given.config.steps, 5);
    assert.match(given.notes[0]!, /not used: steps 5 is given/);
    await assert.rejects(
      resolveSchedule(
        getRecipe('rationalize'),
        resolveRecipeConfig(getRecipe('rationalize'), { data: f.world, base: f.base, out: 'o' }, 't'),
        { epochs: 1 },
        new Set(),
        't',
      ),
      /recipe rationalize does not give; set steps/,
    );
  });
});

describe("TRL's trainer names as recipes", () => {
  it('train dpo on TRL preference JSONL: the DPO loss falls and the chosen reward margin grows', async () => {
    const { r, logs, out } = await run('dpo', { data: trlPairs, steps: 30, batchSize: 8, beta: 0.5, lr: 3e-3 });
    assert.ok(r.lastLoss < r.firstLoss - 0.1, `loss ${r.firstLoss} -> ${r.lastLoss}`);
    assert.ok(
      logs.at(-1)!['rewards/margins']! > logs[0]!['rewards/margins']! + 0.2,
      `margins ${logs[0]!['rewards/margins']} -> ${logs.at(-1)!['rewards/margins']}`,
    );
    assert.equal(r.details.pairs, 16);
    const ck = loadCheckpoint(out, { expectKind: 'lm' });
    assert.equal((ck.genrm.provenance.config as { recipe: string }).recipe, 'dpo');
  });

  it('train sft on TRL SFT JSONL (messages, prompt + completion, text): the completion NLL falls', async () => {
    const { r } = await run('sft', { data: trlSft, steps: 30, batchSize: 8 });
    assert.equal(r.details.examples, 16);
    assert.ok(r.lastLoss < r.firstLoss - 0.5, `loss ${r.firstLoss} -> ${r.lastLoss}`);
  });

  it('train sft on preference pairs trains the chosen answers', async () => {
    const { r } = await run('sft', { data: f.world, steps: 20, batchSize: 8 });
    assert.equal(r.details.examples, 16);
    assert.ok(r.lastLoss < r.firstLoss - 0.5, `loss ${r.firstLoss} -> ${r.lastLoss}`);
  });

  it('train reward is bt, and reads TRL preference data too', async () => {
    assert.equal(getRecipe('reward'), getRecipe('bt'));
    const { r, logs } = await run('reward', { data: trlPairs, steps: 40, batchSize: 8, evalPairs: 0 });
    assert.equal(r.recipe, 'bt');
    assert.ok(r.lastLoss < r.firstLoss - 0.2, `loss ${r.firstLoss} -> ${r.lastLoss}`);
    assert.ok(logs.at(-1)!.acc! >= 0.75, `acc ${logs.at(-1)!.acc}`);
  });

  it('the CLI prints the mapping it used and resolves epochs against the data', () => {
    const yaml = join(f.root, 'trl.yaml');
    writeFileSync(
      yaml,
      'learning_rate: 0.003\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 2\nmax_length: 300\nnum_train_epochs: 1\nwarmup_ratio: 0.5\nbeta: 0.2\nval_pairs_typo: 1\n',
    );
    const args = (out: string): string[] => [...CLI, 'train', 'dpo', '--data', trlPairs, '--base', f.base, '--out', out, '--config', yaml];
    const bad = spawnSync(process.execPath, args(join(f.root, 'cli-bad')), { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /unknown key "val_pairs_typo"; did you mean "valPairs"\?/);
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('val_pairs_typo: 1\n', 'evalEvery: 0\ncheckpointEvery: 0\nvalPairs: 0\n'));
    const res = spawnSync(process.execPath, args(join(f.root, 'cli-dpo')), { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.match(
      res.stderr,
      /TRL keys mapped: learning_rate 0\.003 -> lr; per_device_train_batch_size 4 -> batchSize; gradient_accumulation_steps 2 -> gradAccum; max_length 300 -> maxLength/,
    );
    assert.match(res.stderr, /num_train_epochs 1 -> steps 2 \(1 x 16 pairs \/ 8 per update/);
    const resolved = JSON.parse(readFileSync(join(f.root, 'cli-dpo', 'config.resolved.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(
      [
        resolved.recipe,
        resolved.lr,
        resolved.batchSize,
        resolved.gradAccum,
        resolved.maxLength,
        resolved.steps,
        resolved.warmupSteps,
        resolved.beta,
      ],
      ['dpo', 0.003, 4, 2, 300, 2, 1, 0.2],
    );
    // Flags win over the file, TRL names included: --steps over max_steps (and so over the epochs).
    writeFileSync(yaml, readFileSync(yaml, 'utf8') + 'max_steps: 9\n');
    const json = JSON.parse(
      execFileSync(process.execPath, [...args(join(f.root, 'cli-json')), '--steps', '1', '--json'], { encoding: 'utf8' }),
    ) as { trl: Array<{ trl: string; as: string }>; config: { steps: number }; schedule: string[] };
    assert.equal(json.trl.length, 7);
    assert.equal(json.config.steps, 1);
    assert.match(json.schedule[0]!, /num_train_epochs 1 not used: steps 1 is given/);
  });
});
