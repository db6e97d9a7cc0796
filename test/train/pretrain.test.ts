// `genrm pretrain` end to end on a tiny world: the tiny preset's loss falls, the checkpoint loads
// with the judge verdicts as single tokens and says how it was made, the worked-solution report
// is written; config files are validated (an unknown key is named).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JUDGE_SPECIAL_TOKENS } from '../../src/data/judgeFormat.js';
import { generateWorld, writeWorld } from '../../src/data/world/generate.js';
import { resolveSpec } from '../../src/data/world/spec.js';
import { loadCheckpoint } from '../../src/engine/checkpoint.js';
import { readConfigFile } from '../../src/train/configFile.js';
import { resolvePretrainConfig } from '../../src/train/pretrain/config.js';
import { buildTokenizer, pretrain } from '../../src/train/pretrain/run.js';
import { scoreJudge, scoreWorked, type WorkedReport } from '../../src/train/pretrain/workedEval.js';
import { registry } from '../../src/data/world/families.js';
import { pairExample } from '../../src/data/world/rationale.js';
import { Rng } from '../../src/data/world/rng.js';
import { Styles } from '../../src/data/world/styles.js';

test('tiny pretraining: loss falls, checkpoint with provenance, worked-solution report', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-pretrain-'));
  try {
    const world = join(root, 'world');
    const spec = resolveSpec('quick', { pairs: { train: 40, testId: 20, testOod: 20 }, corpus: { bytes: 60_000 } });
    await writeWorld(world, generateWorld(spec));
    const out = join(root, 'lm');
    const cfg = resolvePretrainConfig({
      preset: 'tiny',
      data: world,
      out,
      steps: 40,
      evalEvery: 40,
      checkpointEvery: 20,
      evalTasks: 1,
      evalSamples: 2,
    });
    const r = pretrain(cfg, { command: 'genrm pretrain --preset tiny (test)' });
    assert.equal(r.steps, 40);
    // From ~ln(262) = 5.57 at init; a byte-level model learns character statistics within 40 steps.
    assert.ok(r.firstLoss > 5, `first logged loss ${r.firstLoss}`);
    assert.ok(r.lastLoss < r.firstLoss - 1.0, `loss ${r.firstLoss} -> ${r.lastLoss}`);
    assert.ok(r.evalLoss < 4.5, `held-out loss ${r.evalLoss}`);
    const ck = loadCheckpoint(out, { expectKind: 'lm', expectSpecials: [...JUDGE_SPECIAL_TOKENS] });
    for (const v of JUDGE_SPECIAL_TOKENS)
      assert.deepEqual(ck.tokenizer.encode(`x${v}`, { specials: 'parse' }).slice(1), [ck.tokenizer.specialId(v)]);
    const prov = ck.genrm.provenance;
    assert.equal(prov.command, 'genrm pretrain --preset tiny (test)');
    assert.equal(prov.seed, 1);
    assert.equal(
      prov.dataHash,
      `sha256:${createHash('sha256')
        .update(readFileSync(join(world, 'corpus.jsonl')))
        .digest('hex')}`,
    );
    assert.equal((prov.config as { steps: number }).steps, 40);
    const report = JSON.parse(readFileSync(join(out, 'worked-report.json'), 'utf8')) as {
      cells: Array<{ family: string; n: number; worked: number }>;
    };
    const families = new Set(report.cells.map((c) => c.family));
    for (const f of ['add', 'sort', 'sub', 'safety']) assert.ok(families.has(f), `report lacks family ${f}`);
    assert.ok(report.cells.every((c) => c.n === 1 && c.worked >= 0 && c.worked <= 1));
    // Sampled zero-shot CoT rates: 2 samples per judged task, shares in [0, 1].
    const full = JSON.parse(readFileSync(join(out, 'worked-report.json'), 'utf8')) as WorkedReport;
    assert.equal(full.sampling.samples, 2);
    assert.ok(
      full.overall.sampledN > 0 && full.overall.sampledN === 2 * full.cells.reduce((a, c) => a + c.judgeN, 0),
      String(full.overall.sampledN),
    );
    for (const k of ['sampledHasVerdict', 'sampledConsistent', 'judgeHasVerdict', 'judgeConsistent'] as const)
      assert.ok(full.overall[k] >= 0 && full.overall[k] <= 1, k);
    assert.ok(readFileSync(join(out, 'worked-report.txt'), 'utf8').includes('zero-shot CoT, sampled ('));
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    assert.equal(lines.at(-1)!.step, 40);
    assert.ok(typeof lines.at(-1)!.evalLoss === 'number');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('pretrain resumes bitwise after an interruption, and refuses a changed corpus', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-pretrain-resume-'));
  try {
    const world = join(root, 'world');
    await writeWorld(
      world,
      generateWorld(resolveSpec('quick', { pairs: { train: 20, testId: 10, testOod: 10 }, corpus: { bytes: 30_000 } })),
    );
    const cfg = (out: string) =>
      resolvePretrainConfig({ preset: 'tiny', data: world, out, steps: 12, checkpointEvery: 4, evalEvery: 0, evalTasks: 0, merges: 20 });
    pretrain(cfg(join(root, 'a')), { command: 'test' });
    const b = join(root, 'b');
    pretrain(cfg(b), { command: 'test', stopAfter: 10 }); // last checkpoint at 8
    pretrain(cfg(b), { command: 'test', resume: true });
    assert.ok(
      readFileSync(join(root, 'a', 'model.safetensors')).equals(readFileSync(join(b, 'model.safetensors'))),
      'resumed weights differ',
    );
    writeFileSync(join(world, 'corpus.jsonl'), readFileSync(join(world, 'corpus.jsonl'), 'utf8').split('\n').slice(1).join('\n'));
    assert.throws(
      () => pretrain(cfg(b), { command: 'test', resume: true }),
      /trained on data sha256:[0-9a-f]+, but --data now hashes to sha256:/,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('config: presets overlaid by file and flags; an unknown or bad key is named', () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-pcfg-'));
  try {
    const yaml = join(root, 'c.yaml');
    writeFileSync(yaml, 'preset: tiny\nsteps: 7\ndModel: 48\nnHeads: 2\n');
    const c = resolvePretrainConfig({ ...readConfigFile(yaml), data: 'w', out: 'o', seed: 3 });
    assert.deepEqual([c.preset, c.steps, c.dModel, c.seed, c.nLayers], ['tiny', 7, 48, 3, 2]);
    assert.equal(resolvePretrainConfig({ data: 'w', out: 'o' }).preset, 'base');
    writeFileSync(yaml, 'preset: tiny\nstepz: 7\n');
    assert.throws(
      () => resolvePretrainConfig({ ...readConfigFile(yaml), data: 'w', out: 'o' }, yaml),
      new RegExp(`${yaml.replace(/[.]/g, '\\.')}: unknown key "stepz"`),
    );
    const json = join(root, 'c.json');
    writeFileSync(json, '{"lr": -1}');
    assert.throws(() => resolvePretrainConfig({ ...readConfigFile(json), data: 'w', out: 'o' }, json), /c\.json: field "lr": /);
    writeFileSync(json, '{"lr": ');
    assert.throws(() => readConfigFile(json), /c\.json: not valid JSON/);
    assert.throws(() => resolvePretrainConfig({ preset: 'huge', data: 'w', out: 'o' }), /field "preset": expected one of tiny, base/);
    assert.throws(
      () => resolvePretrainConfig({ preset: 'tiny', dModel: 30, nHeads: 4, data: 'w', out: 'o' }),
      /dModel 30 must split into nHeads 4/,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('tokenizer: byte-level with the judge verdicts; BPE merges never touch digits', () => {
  const texts = ['Q: 47+85= W: 7+5=12;4+8+1=13 =132', 'Sort 5 3 1 from smallest to largest. The answer is 1 3 5.', 'Judge\nVerdict: [[A]]'];
  const plain = buildTokenizer(texts, 0);
  assert.equal(plain.vocabSize, 256 + 2 + JUDGE_SPECIAL_TOKENS.length);
  const bpe = buildTokenizer(Array(20).fill(texts).flat(), 40);
  assert.ok(bpe.vocabSize > plain.vocabSize);
  const s = texts.join('\n');
  assert.equal(bpe.decode(bpe.encode(s, { specials: 'parse' })), s);
  assert.ok(bpe.encode(s, { specials: 'parse' }).length < plain.encode(s, { specials: 'parse' }).length);
  for (const id of bpe.encode('47+85=132 13', { specials: 'plain' })) {
    const piece = bpe.decode([id]);
    assert.ok(!/\d/.test(piece) || piece.length === 1, `digit merged into "${piece}"`);
  }
});

test('report scoring: reference worked lines and rationales score right, slips and flipped verdicts do not', () => {
  const spec = resolveSpec('quick');
  const reg = registry(spec);
  const styles = new Styles(spec.styles);
  const rng = new Rng('score-test');
  let checked = 0;
  for (const name of ['add', 'sort', 'count', 'reverse', 'safety']) {
    const t = reg.get(name).sample(rng, spec.families[name]!.train[0]!);
    assert.deepEqual(scoreWorked(t, t.worked), { right: true, exact: true });
    const wrong = t.wrong(rng, 'near')!;
    const slipped = t.worked.slice(0, t.worked.lastIndexOf(' =') + 2) + wrong.core;
    assert.deepEqual(scoreWorked(t, slipped), { right: false, exact: false });
    const ex = pairExample(
      t,
      styles,
      styles.render(t, wrong.core, styles.sample(rng, t, 'train', null)),
      styles.render(t, t.answer, styles.sample(rng, t, 'train', null)),
      'B',
      'cot',
    );
    assert.deepEqual(scoreJudge(t, ex.target + '<|endoftext|>', 'B'), {
      workedRight: true,
      verdictRight: true,
      hasVerdict: true,
      consistent: true,
    });
    assert.deepEqual(scoreJudge(t, ex.target.replace('[[B]]', '[[A]]'), 'B'), {
      workedRight: true,
      verdictRight: false,
      hasVerdict: true,
      consistent: true,
    });
    assert.equal(scoreJudge(t, ex.target.replace(` =${t.answer}\n`, ` =${wrong.core}\n`), 'B').workedRight, false);
    // A check that calls the wrong answer right disagrees with the worked result; no verdict is counted as such.
    assert.equal(scoreJudge(t, ex.target.replace(': wrong.', ': right.'), 'B').consistent, false);
    assert.equal(scoreJudge(t, ex.target.slice(0, ex.target.indexOf('\nVerdict')), 'B').hasVerdict, false);
    checked++;
  }
  assert.equal(checked, 5);
});
