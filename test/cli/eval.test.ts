// `genrm eval` on data as users bring it, through the built CLI and a tiny random model: raw
// benchmark files read by the loaders with bad records skipped and counted, the console's table of
// the user's files (no paper numbers) with N judged / M scored / K ties, --context policies
// counted, and --suite's RewardBench-style score recomputed from the per-pair records.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readRecordsAll } from '../../src/eval/records.js';
import { ResultsSchema } from '../../src/eval/results.js';
import { pairScore } from '../../src/eval/metrics/scores.js';
import { makeFixture } from '../train/recipes/fixture.js';
import { genrmBin, repoRoot } from '../repoRoot.js';

const built = existsSync(join(repoRoot(), 'dist', 'src', 'cli', 'eval.js'));
const skip = !built && 'dist/ not built (npm test builds it)';

const fx = await makeFixture({ train: 4 });
after(() => rmSync(fx.root, { recursive: true, force: true }));
const genrm = (...args: string[]) =>
  spawnSync(process.execPath, [genrmBin, 'eval', '--model', fx.base, ...args], { encoding: 'utf8', cwd: fx.root });
const jsonl = (recs: unknown[]) => recs.map((r) => JSON.stringify(r)).join('\n') + '\n';

const judgebench = join(fx.root, 'judgebench.jsonl');
writeFileSync(
  judgebench,
  jsonl(
    [
      ['mmlu-pro-math', 'A>B'],
      ['mmlu-pro-law', 'B>A'],
      ['livecodebench', 'A>B'],
      ['livebench-math', 'B>A'],
    ].map(([source, label], i) => ({
      pair_id: `p${i}`,
      source,
      question: `What is ${i} + ${i}?`,
      response_model: 'm',
      response_A: `It is ${2 * i}.`,
      response_B: `It is ${2 * i + 1}.`,
      label,
    })),
  ),
);
const autoj = join(fx.root, 'autoj.jsonl');
writeFileSync(
  autoj,
  jsonl(
    [
      [0, 'You are great.', 'Go away.'],
      [1, 'Meh.', 'Have a lovely day!'],
      [2, 'Same text', 'Same text'],
      [7, 'x', 'y'],
    ].map(([label, a, b], i) => ({ scenario: 'chitchat', label, prompt: `Say something nice #${i}`, 'response 1': a, 'response 2': b })),
  ),
);

test(
  'raw benchmark files: read by the loaders, bad records counted, the user table with CIs, ties said, no paper numbers',
  { skip },
  () => {
    const r = genrm(judgebench, autoj);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /autoj\.jsonl: invalid records skipped: 1 of 4 \(label-range 1 \(line 4\)\)/);
    assert.match(r.stdout, /Accuracy % \[95% bootstrap CI\] on your files/);
    assert.match(r.stdout, /zero-shot +judgebench +category mmlu-pro +2 +\d+\.\d \[\d+\.\d, \d+\.\d\]/);
    assert.match(r.stdout, /zero-shot +autoj +subset chitchat +2 /);
    assert.match(r.stdout, /^autoj: 3 judged, 2 scored, 1 ties left out$/m);
    assert.match(r.stdout, /^judgebench: 4 judged, 4 scored$/m);
    assert.match(r.stdout, /left out of accuracy/);
    assert.doesNotMatch(r.stdout, /paper|UltraFeedback|RewardBench\)/);
    // The report files show the user's files as the console does: their own table, no paper numbers or claims.
    const rep = genrm(judgebench, autoj, '--report', 'rep');
    assert.equal(rep.status, 0, rep.stderr);
    const md = readFileSync(join(fx.root, 'rep', 'report.md'), 'utf8');
    assert.match(md, /## Your files/);
    assert.match(md, /\| judgebench \|/);
    assert.doesNotMatch(md, /paper|UltraFeedback|claims/);
    assert.doesNotMatch(readFileSync(join(fx.root, 'rep', 'report.html'), 'utf8'), /paper’s|UltraFeedback/);

    const strict = genrm(autoj, '--strict');
    assert.equal(strict.status, 3);
    assert.match(strict.stderr, /autoj\.jsonl:4: field "label": label "7" is outside its range/);
    const odd = join(fx.root, 'odd.jsonl');
    writeFileSync(odd, jsonl([{ question: 'q', good: 'a', bad: 'b' }]));
    const o = genrm(odd);
    assert.equal(o.status, 3);
    assert.match(
      o.stderr,
      /cannot tell the format from the fields \[question, good, bad\]; map it once with `genrm data convert .*odd\.jsonl --out pairs\.jsonl`/,
    );
  },
);

test(
  '--context: the default judges every pair, cutting what is over the context; skip leaves them out; both counted; flags, not API fields',
  { skip },
  () => {
    const long = join(fx.root, 'long.jsonl');
    writeFileSync(
      long,
      jsonl([
        { id: 'short', prompt: 'Pick one', chosen: 'yes', rejected: 'no' },
        { id: 'long-answers', prompt: 'Pick one', chosen: 'y'.repeat(1500), rejected: 'n'.repeat(1200) },
        { id: 'long-prompt', prompt: 'context '.repeat(300) + 'Pick one', chosen: 'yes', rejected: 'no' },
      ]),
    );
    const out = join(fx.root, 'ctx.jsonl');
    const d = genrm(long, '--out', out);
    assert.equal(d.status, 0, d.stderr);
    assert.match(
      d.stdout,
      /context \(--context truncate-answers\): of 3 pairs, 1 with answers cut, 2 with the prompt's start cut; other policies: --context truncate-prompt \| skip/,
    );
    assert.match(d.stdout, /^long: 3 judged, 3 scored$/m);
    assert.doesNotMatch(d.stdout + d.stderr, /contextPolicy|maxTokens/);

    const s = genrm(long, '--context', 'skip', '--out', out, '--json');
    assert.equal(s.status, 0, s.stderr);
    const res = ResultsSchema.parse(JSON.parse(s.stdout));
    assert.ok(res.notes.extra.some((l) => /2 skipped \(long-answers, long-prompt\)/.test(l)));
    assert.equal(res.methods[0]!.groups.find((g) => g.by === 'all')!.accuracy.n, 1);
    const bad = genrm(long, '--context', 'cut');
    assert.match(bad.stderr, /--context: expected truncate-answers \| truncate-prompt \| skip, got "cut"/);
  },
);

test(
  "--suite: a RewardBench-style table; its score is the categories' mean of pair-weighted file accuracies, from the records",
  { skip },
  async () => {
    const suite = join(fx.root, 'suite.yaml');
    writeFileSync(
      suite,
      'name: tiny\ncategories:\n  Chat:\n    - judgebench.jsonl\n    - path: autoj.jsonl\n      weight: 3\n  Safety:\n    - path: autoj.jsonl\n      name: again\n',
    );
    const out = join(fx.root, 'suite-records.jsonl');
    const r = genrm('--suite', suite, '--out', out, '--json');
    assert.equal(r.status, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as {
      suite: { score: { value: number }; categories: { category: string; accuracy: { value: number } }[] }[];
    };
    const recs = (await readRecordsAll(out)).filter((x) => !x.tie);
    const acc = (split: string) => {
      const xs = recs.filter((x) => x.split === split).map(pairScore);
      return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, n: xs.length };
    };
    const jb = acc('judgebench');
    const aj = acc('autoj');
    const chat = (jb.mean * jb.n + aj.mean * 3) / (jb.n + 3);
    const safety = acc('again').mean;
    const s = printed.suite[0]!;
    assert.ok(Math.abs(s.categories.find((c) => c.category === 'Chat')!.accuracy.value - chat) < 1e-9);
    assert.ok(Math.abs(s.score.value - (chat + safety) / 2) < 1e-9);

    const text = genrm('--suite', suite);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /tiny: zero-shot, RewardBench-style/);
    assert.match(text.stdout, /score: mean of 2 categories +\d+\.\d \[/);
    const both = genrm('--suite', suite, judgebench);
    assert.match(both.stderr, /the suite names its files; drop the file arguments/);
  },
);
