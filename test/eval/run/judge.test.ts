// `genrm eval` on a tiny world and tiny checkpoints: CoT records whose metrics recompute from the
// JSONL, direct records with probabilities (calibration present), reward-head checkpoints (bt,
// pairrm) scored through their heads (checked against a hand-computed head · last hidden state),
// and bad input named (file and line; CoT asked of a reward head).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../../../src/engine/checkpoint.js';
import { Llama } from '../../../src/engine/model/index.js';
import { evaluate } from '../../../src/eval/evaluate.js';
import { readRecordsAll } from '../../../src/eval/records.js';
import { ResultsSchema } from '../../../src/eval/results.js';
import { readEvalSets } from '../../../src/eval/run/data.js';
import { judgeSets, openCheckpointJudge } from '../../../src/eval/run/judge.js';
import { rewardText } from '../../../src/train/recipes/bt.js';
import { judgePrompt, order } from '../../../src/train/recipes/data.js';
import { makeFixture } from '../../train/recipes/fixture.js';
import { genrmBin, repoRoot } from '../../repoRoot.js';

const built = existsSync(join(repoRoot(), 'dist', 'src', 'cli', 'eval.js'));
const genrm = (args: string[], cwd: string) => spawnSync(process.execPath, [genrmBin, ...args], { encoding: 'utf8', cwd });

const fx = await makeFixture({ train: 16 });
const files = [join(fx.world, 'test-id.jsonl'), join(fx.world, 'test-ood.jsonl')];
after(() => rmSync(fx.root, { recursive: true, force: true }));

/** A reward checkpoint: the fixture base's weights plus a seeded random score head. */
function headCheckpoint(kind: 'bt' | 'pairrm'): string {
  const ck = loadCheckpoint(fx.base);
  const model = new Llama(ck.config, { seed: 0 });
  for (const [n, t] of model.params) t.data.set(ck.weights.get(n)!.data);
  model.addScoreHead(kind === 'bt' ? 1 : 2, 7);
  const dir = join(fx.root, kind);
  saveCheckpoint(dir, {
    config: ck.config,
    kind,
    numLabels: kind === 'bt' ? 1 : 2,
    weights: model.params,
    tokenizer: ck.tokenizer,
    provenance: { command: 'test', config: { recipe: kind }, seed: 7, dataHash: null, parent: fx.base },
  });
  return dir;
}

/** score.weight · h(last token), by hand from one unpadded sequence. */
function handScores(dir: string, text: string): number[] {
  const ck = loadCheckpoint(dir);
  const model = new Llama(ck.config, { seed: 0 });
  model.addScoreHead(ck.numLabels);
  for (const [n, t] of model.params) t.data.set(ck.weights.get(n)!.data);
  const ids = Int32Array.from([ck.tokenizer.eotId, ...ck.tokenizer.encode(text, { specials: 'parse' })]); // BOS, then the text
  const h = model.hidden(ids, 1, ids.length).data; // (T, d)
  const d = ck.config.dModel;
  const last = h.subarray((ids.length - 1) * d, ids.length * d);
  const w = ck.weights.get('score.weight')!.data; // (L, d)
  return Array.from({ length: ck.numLabels }, (_, l) => last.reduce((s, x, j) => s + x * w[l * d + j]!, 0));
}

const close = (a: number, b: number, tol = 1e-4) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('bt and pairrm checkpoints are judged through their heads (batched scores = head · last hidden state, by hand)', async () => {
  const sets = await readEvalSets(files, { limit: 3 });
  const base = {
    votes: 1,
    temperature: 1,
    topP: 0.95,
    maxTokens: 8,
    seed: 0,
    template: 'auto',
    contextPolicy: 'refuse' as const,
    chunkPairs: 8,
    keepRationales: false,
  };
  const bt = headCheckpoint('bt');
  const btRecs = await judgeSets(openCheckpointJudge(bt), sets, { ...base, method: 'bt', mode: 'direct' });
  assert.equal(btRecs.length, 6);
  const pairs = sets.flatMap((s) => s.pairs);
  btRecs.forEach((r, i) => {
    const p = pairs[i]!;
    assert.equal(r.mode, 'scalar');
    assert.equal(r.split, p.split ?? (i < 3 ? 'test-id' : 'test-ood'));
    close(r.scores!.chosen, handScores(bt, rewardText(p, p.chosen))[0]!);
    close(r.scores!.rejected, handScores(bt, rewardText(p, p.rejected))[0]!);
    close(r.pChosen!, 1 / (1 + Math.exp(-(r.scores!.chosen - r.scores!.rejected))), 1e-6);
  });
  const pr = headCheckpoint('pairrm');
  const prRecs = await judgeSets(openCheckpointJudge(pr), sets, { ...base, method: 'pairrm', mode: 'direct' });
  prRecs.forEach((r, i) => {
    const p = pairs[i]!;
    const [a1, b1] = handScores(pr, judgePrompt(order(p, true), 'direct'));
    const [a2, b2] = handScores(pr, judgePrompt(order(p, false), 'direct'));
    const p1 = 1 / (1 + Math.exp(b1! - a1!));
    const p2 = 1 / (1 + Math.exp(b2! - a2!));
    close(r.chosenFirst!.pChosen!, p1);
    close(r.chosenSecond!.pChosen!, 1 - p2);
    close(r.pChosen!, (p1 + 1 - p2) / 2);
    assert.deepEqual(r.chosenFirst!.verdicts, [p1 > 0.5 ? 'A' : 'B']);
  });
  const res = evaluate([...btRecs, ...prRecs]);
  assert.ok(res.methods.find((m) => m.method === 'bt')!.groups[0]!.calibration, 'bt gives probabilities: calibration computed');
  assert.ok(
    res.omitted.some((o) => o.method === 'bt' && o.metric === 'order effects'),
    'bt has no order: left out with the reason',
  );
});

test(
  'genrm eval --mode cot: records on both orders with one vote set, graded rationales; --json equals the metrics recomputed from --out',
  { skip: !built && 'dist/ not built (npm test builds it)' },
  () => {
    const out = join(fx.root, 'cot.jsonl');
    const r = genrm(
      ['eval', '--model', fx.base, '--mode', 'cot', '--votes', '4', '--max-tokens', '24', '--limit', '5', ...files, '--out', out, '--json'],
      fx.root,
    );
    assert.equal(r.status, 0, r.stderr);
    const printed = ResultsSchema.parse(JSON.parse(r.stdout));
    return readRecordsAll(out).then((recs) => {
      assert.equal(recs.length, 10);
      for (const x of recs) {
        assert.equal(x.method, 'zero-shot-cot'); // a pretrained (here random) base judged as is
        for (const o of [x.chosenFirst!, x.chosenSecond!]) {
          assert.equal(o.verdicts.length, 4);
          assert.equal(o.rationaleRight?.length, 4, 'PrefWorld files: every sample graded');
          assert.equal(o.restated?.length, 4, 'restating recorded per sample');
          assert.equal(o.checksConsistent?.length, 4, 'checks recorded per sample');
        }
      }
      assert.deepEqual(new Set(recs.map((x) => x.split)), new Set(['test-id', 'test-ood']));
      const again = evaluate(recs, { now: new Date(printed.createdAt), notes: printed.notes });
      assert.deepEqual(again, printed);
      const all = printed.methods[0]!.groups.find((g) => g.split === 'test-id' && g.by === 'all')!;
      assert.deepEqual(
        all.majAtK!.map((m) => m.k),
        [1, 2, 4],
      );
      assert.ok(all.order?.agreement, 'both orders judged: swap agreement computed');
    });
  },
);

test(
  'genrm eval --mode direct gives probabilities (calibration); a broken line names file and line; CoT on a reward head is refused',
  { skip: !built && 'dist/ not built (npm test builds it)' },
  () => {
    const d = genrm(['eval', '--model', fx.base, '--limit', '4', files[0]!, '--json'], fx.root);
    assert.equal(d.status, 0, d.stderr);
    const res = ResultsSchema.parse(JSON.parse(d.stdout));
    assert.equal(res.methods[0]!.method, 'zero-shot');
    assert.ok(res.methods[0]!.groups[0]!.calibration);
    assert.ok(
      res.omitted.some((o) => o.metric === 'maj@k'),
      'a direct judge has nothing to vote over: said so',
    );

    const lines = readFileSync(files[0]!, 'utf8').split('\n').filter(Boolean).slice(0, 3);
    lines.splice(1, 0, '{"id": "x", "prompt": "q", "chosen": 3}');
    const bad = join(fx.root, 'bad.jsonl');
    writeFileSync(bad, lines.join('\n') + '\n');
    const b = genrm(['eval', '--model', fx.base, bad, '--strict'], fx.root);
    assert.notEqual(b.status, 0);
    assert.match(b.stderr, /bad\.jsonl:2\b/);

    const h = genrm(['eval', '--model', join(fx.root, 'bt'), '--mode', 'cot', files[0]!], fx.root);
    assert.notEqual(h.status, 0);
    assert.match(h.stderr, /reward-head checkpoint/);
  },
);
