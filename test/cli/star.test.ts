// `genrm star sample` end to end on a tiny world and checkpoint: the files it writes, exports in
// the targets' documented layouts, the report's numbers agreeing with the samples, resume without
// resampling, and clear errors for a second run without --resume, a URL without a model name and
// --filter checked on data without a grader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OpenAiDpo, OpenAiSft, TrlDpo, TrlSftPromptCompletion } from '../../src/data/formats/export/schemas.js';
import { parseVerdict } from '../../src/data/judgeFormat.js';
import { rightVerdict, type PairSamples } from '../../src/train/star/records.js';
import { makeFixture } from '../train/recipes/fixture.js';
import { genrmBin, repoRoot } from '../repoRoot.js';

const genrm = (args: string[], cwd: string) => spawnSync(process.execPath, [genrmBin, ...args], { encoding: 'utf8', cwd });
const lines = (file: string): unknown[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);

test(
  'genrm star sample: samples, datasets, report and TRL/OpenAI exports; --resume samples nothing twice',
  { skip: !existsSync(join(repoRoot(), 'dist', 'src', 'cli', 'main.js')) && 'dist/ not built (npm test builds it)' },
  async () => {
    const fx = await makeFixture({ train: 12, seqLen: 256 });
    try {
      const args = ['star', 'sample', '--model', fx.base, '--data', fx.world, '--k', '4', '--max-tokens', '48', '--out', 'star', '--json'];
      const r = genrm(args, fx.root);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as {
        sampling: { sampledPairs: number };
        report: { pairs: number; samples: number; sft: { kept: number }; dpo: { pairs: number }; graded: boolean; rightShareMean: number };
        exported: Record<string, number>;
      };
      const dir = join(fx.root, 'star');
      assert.equal(out.sampling.sampledPairs, 12);
      assert.equal(out.report.samples, 12 * 2 * 4);
      assert.ok(out.report.graded, 'a PrefWorld folder has a checker');
      // The report's numbers follow from samples.jsonl.
      const samples = lines(join(dir, 'samples.jsonl')) as PairSamples[];
      assert.equal(samples.length, 12);
      let right = 0;
      let share = 0;
      for (const p of samples) {
        let pr = 0;
        for (const o of p.orders)
          for (const s of o.samples) {
            assert.equal(s.correct, parseVerdict(s.text) === rightVerdict(o.order));
            if (s.correct) pr++;
          }
        right += pr;
        share += pr / 8 / 12;
      }
      assert.ok(Math.abs(out.report.rightShareMean - share) < 1e-12);
      assert.ok(out.report.sft.kept <= right && out.report.sft.kept > 0, `kept ${out.report.sft.kept} of ${right} right`);
      assert.equal(lines(join(dir, 'sft.jsonl')).length, out.report.sft.kept);
      assert.equal(lines(join(dir, 'dpo.jsonl')).length, out.report.dpo.pairs);
      // Exports, each line in its target's documented layout.
      const check: [string, { parse(x: unknown): unknown }, number][] = [
        ['sft.trl-prompt-completion.jsonl', TrlSftPromptCompletion, out.report.sft.kept],
        ['sft.openai-sft.jsonl', OpenAiSft, out.report.sft.kept],
        ['dpo.trl-dpo.jsonl', TrlDpo, out.report.dpo.pairs],
        ['dpo.openai-dpo.jsonl', OpenAiDpo, out.report.dpo.pairs],
      ];
      for (const [file, schema, n] of check) {
        const recs = lines(join(dir, 'export', file));
        assert.equal(recs.length, n, file);
        for (const x of recs) schema.parse(x);
      }

      const again = genrm(
        args.filter((a) => a !== '--json'),
        fx.root,
      );
      assert.notEqual(again.status, 0);
      assert.match(again.stderr, /exists already; pass --resume/);
      const before = readFileSync(join(dir, 'samples.jsonl'));
      const resumed = genrm([...args, '--resume'], fx.root);
      assert.equal(resumed.status, 0, resumed.stderr);
      assert.equal((JSON.parse(resumed.stdout) as { sampling: { sampledPairs: number } }).sampling.sampledPairs, 0);
      assert.deepEqual(readFileSync(join(dir, 'samples.jsonl')), before);

      const url = genrm(['star', 'sample', '--model', 'http://127.0.0.1:9/v1', '--data', fx.world, '--out', 'x'], fx.root);
      assert.notEqual(url.status, 0);
      assert.match(url.stderr, /--served-model is required/);

      // --filter checked needs PrefWorld's grader: a pairs file with no spec.json beside it has none.
      copyFileSync(join(fx.world, 'train.jsonl'), join(fx.root, 'pairs.jsonl'));
      const plain = genrm(
        ['star', 'sample', '--model', fx.base, '--data', 'pairs.jsonl', '--k', '1', '--out', 'plain', '--filter', 'checked'],
        fx.root,
      );
      assert.notEqual(plain.status, 0);
      assert.match(plain.stderr, /--filter checked: pairs.jsonl has no rationale grader/);
      assert.ok(!existsSync(join(fx.root, 'plain', 'samples.jsonl')), 'refused before sampling');
    } finally {
      rmSync(fx.root, { recursive: true, force: true });
    }
  },
);

test(
  'genrm train: --val-pairs, --patience and --replay reach the recipe config; a bad value names its flag',
  { skip: !existsSync(join(repoRoot(), 'dist', 'src', 'cli', 'main.js')) && 'dist/ not built (npm test builds it)' },
  async () => {
    const fx = await makeFixture({ train: 12, seqLen: 256 });
    try {
      const r = genrm(
        [
          'train',
          'genrm',
          '--data',
          fx.world,
          '--base',
          fx.base,
          '--out',
          'g',
          '--steps',
          '2',
          '--val-pairs',
          '2',
          '--patience',
          '7',
          '--replay',
          '0.25',
          '--json',
        ],
        fx.root,
      );
      assert.equal(r.status, 0, r.stderr);
      const resolved = JSON.parse(readFileSync(join(fx.root, 'g', 'config.resolved.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual([resolved.valPairs, resolved.patience, resolved.replay, resolved.steps], [2, 7, 0.25, 2]);
      const bad = genrm(['train', 'genrm', '--data', fx.world, '--base', fx.base, '--out', 'h', '--replay', 'lots'], fx.root);
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /--replay: expected a number, got "lots"/);
      const big = genrm(['train', 'genrm', '--data', fx.world, '--base', fx.base, '--out', 'h', '--replay', '1'], fx.root);
      assert.notEqual(big.status, 0);
      assert.match(big.stderr, /field "replay"/);
    } finally {
      rmSync(fx.root, { recursive: true, force: true });
    }
  },
);
