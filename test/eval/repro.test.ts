// `genrm repro` on the hidden micro size (a tiny world, a tiny base pretrained in a few steps, a
// few pairs, 2 votes, one STaR iteration of k = 2): every stage runs end to end and writes the
// report; an interruption after a stage resumes without redoing finished stages; a run folder
// with other settings is refused, naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecordsAll } from '../../src/eval/records.js';
import { readResults } from '../../src/eval/report/write.js';
import { runRepro, type ReproOptions } from '../../src/eval/repro/pipeline.js';
import { StopAfterStage } from '../../src/eval/repro/stages.js';

const ALL = ['zero-shot', 'zero-shot-cot', 'bt', 'pairrm', 'genrm', 'rationalize', 'star-sft', 'star-dpo'];
const FIRST = ['world', 'base', 'plan', 'zero-shot'];

test('genrm repro (micro): interrupted after the zero-shot stage, the rerun resumes there and runs every later stage; report written', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-repro-'));
  const out = join(root, 'run');
  const lines: string[] = [];
  const opts: ReproOptions = { size: 'micro', out, seed: 1, base: null, committedBase: join(root, 'no-base'), command: 'test', progress: false, say: (l) => lines.push(l), screenshot: false };
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
    assert.deepEqual(r.ran, ['bt', 'pairrm', 'genrm', 'rationalize', 'star-sft', 'star-dpo'].flatMap((m) => [`train-${m}`, `eval-${m}`]));
    assert.deepEqual(FIRST.map((s) => statSync(join(out, 'stages', `${s}.json`)).mtimeMs), mtimes, 'finished stages not redone');
    assert.equal(statSync(join(out, 'base', 'model.safetensors')).mtimeMs, baseWeights, 'base not pretrained again');
    assert.equal(readFileSync(join(out, 'records', 'zero-shot-cot.jsonl'), 'utf8'), zs, 'zero-shot records not rewritten');
    assert.equal(r.base.source, 'pretrained');

    // The report: every method, STaR per iteration (0 = the zero-shot CoT judge), plan and timings.
    for (const f of ['report.md', 'report.html', 'results.json']) assert.ok(existsSync(join(out, f)), f);
    const res = await readResults(join(out, 'results.json'));
    assert.deepEqual(res.methods.map((m) => m.method), ALL);
    for (const m of res.methods) for (const split of ['test-id', 'test-ood']) assert.equal(m.groups.find((g) => g.split === split && g.by === 'all')!.accuracy.n, r.plan.evalPairs, `${m.method} ${split}`);
    const star = res.methods.find((m) => m.method === 'star-dpo')!;
    assert.deepEqual([...new Set(star.iterations.map((i) => i.iteration))], [0, 1]);
    assert.match(res.notes.samplePlan ?? '', /tokens\/s/);
    assert.deepEqual(res.notes.timings.map((t) => t.stage), [...FIRST, ...r.ran]);
    assert.ok(res.notes.quick && res.notes.cut.length > 0);
    const cot = await readRecordsAll(join(out, 'records', 'star-sft.jsonl'));
    assert.ok(cot.every((x) => x.chosenFirst!.verdicts.length === 2 && x.chosenSecond!.verdicts.length === 2), 'CoT judges: 2 votes per order');
    if (r.png) assert.ok(statSync(r.png).size > 10_000, 'screenshot saved');
    else console.log(`# no screenshot: ${r.pngSkipped}`);
    assert.ok(lines.some((l) => /\[5\/17\] train bt: done in \d+\.\d s/.test(l)), 'each stage prints its time');

    // The same folder with another seed: refused, naming the field.
    await assert.rejects(runRepro({ ...opts, seed: 2 }), /different settings \(seed: 1 there, 2 now\)/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
