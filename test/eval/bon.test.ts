// Best-of-N: the compared pairs are the reward server's schedule for every N; a judge that knows
// the gold reaches the oracle and one that knows nothing stays at N = 1; the policy's worked
// lines, cut and empty samples are drawn again; PrefWorld's gold grader agrees with the world's
// own labels; `genrm bon` end to end on a tiny world.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Generation, GenerateOptions, LanguageModel, Prompt } from '../../src/backends/types.js';
import { readPairsAll } from '../../src/data/pair.js';
import { loadSpec } from '../../src/data/world/generate.js';
import { bonPrompts, drawAnswers, GoldGrader, type BonPrompt } from '../../src/eval/bon/answers.js';
import { bonComparisons, chooseBest } from '../../src/eval/bon/choose.js';
import { bonRows, comparisonPairs, recordP, type BonInputs } from '../../src/eval/bon/run.js';
import type { JudgeRecord } from '../../src/eval/records.js';
import { rewardSchedule, schedulePairs } from '../../src/judge/ranking.js';
import { genrmBin } from '../repoRoot.js';
import { makeFixture } from '../train/recipes/fixture.js';

const fx = await makeFixture({ train: 16 });
after(() => rmSync(fx.root, { recursive: true, force: true }));

test('comparisons: the union of each N’s reward schedule on the first N answers', () => {
  const small = bonComparisons([1, 2, 4, 8]);
  assert.equal(small.length, 28); // every pair of 8: the schedules of 2 and 4 are inside it
  const big = bonComparisons([1, 2, 4, 8, 16]);
  const key = ([i, j]: [number, number]): string => `${Math.min(i, j)},${Math.max(i, j)}`;
  const want = new Set([...small.map(key), ...schedulePairs(16, rewardSchedule(16)).map(key)]);
  assert.deepEqual(new Set(big.map(key)), want);
  assert.ok(big.every(([i, j]) => i < j));
});

test('choice: the strongest answer by the judged pairs; an uninformative judge keeps the first', () => {
  const strength = [0.1, 2, 0.5, 1, -1, 0, 0.3, 0.2, 3, 0.4];
  const p = (i: number, j: number): number => 1 / (1 + Math.exp(strength[j]! - strength[i]!));
  assert.equal(chooseBest(8, p), 1);
  assert.equal(chooseBest(10, p), 8); // 10 answers: the round-robin schedule, not all pairs
  assert.equal(
    chooseBest(8, () => 0.5),
    0,
  );
  assert.equal(chooseBest(1, p), 0);
});

function inputs(gold: boolean[][], ns: number[]): BonInputs {
  const prompts: BonPrompt[] = gold.map((_, k) => ({
    id: `p${k}`,
    split: k % 2 ? 'test-ood' : 'test-id',
    subset: 'add',
    prompt: `q${k}`,
    instance: `${k}`,
    shift: [],
  }));
  return { prompts, answers: gold.map((g, k) => g.map((_, i) => `answer ${k}.${i}`)), gold, ns };
}

/** Records as a judge with P(i better than j) = f(gold_i, gold_j) would write them. */
function records(x: BonInputs, f: (gi: boolean, gj: boolean) => number): JudgeRecord[] {
  return comparisonPairs(x).map((pair) => {
    const [k, rest] = [Number(pair.id.slice(1, pair.id.indexOf('/'))), pair.id.slice(pair.id.indexOf('/bon-') + 5)];
    const [i, j] = rest.split('-').map(Number) as [number, number];
    return { v: 1, pairId: pair.id, method: 'j', mode: 'direct', shift: [], pChosen: f(x.gold[k]![i]!, x.gold[k]![j]!) } as JudgeRecord;
  });
}

test('rows: a gold-knowing judge reaches the oracle, a blind one stays at one draw, a contrary one falls below', () => {
  // 12 prompts × 8 answers, right answers sprinkled by a fixed pattern.
  const gold = Array.from({ length: 12 }, (_, k) => Array.from({ length: 8 }, (_, i) => (k * 7 + i * 3) % 5 === 0));
  const x = inputs(gold, [1, 2, 4, 8]);
  const perfect = bonRows(
    'perfect',
    x,
    records(x, (a, b) => (a === b ? 0.5 : a ? 0.95 : 0.05)),
  );
  for (const r of perfect) assert.equal(r.accuracy.value, r.oracle.value, `perfect judge at N=${r.n} ${r.split}`);
  const blind = bonRows(
    'blind',
    x,
    records(x, () => 0.5),
  );
  for (const r of blind) assert.equal(r.accuracy.value, blind.find((b) => b.split === r.split && b.n === 1)!.accuracy.value);
  const contrary = bonRows(
    'contrary',
    x,
    records(x, (a, b) => (a === b ? 0.5 : a ? 0.05 : 0.95)),
  );
  const at8 = contrary.filter((r) => r.n === 8);
  for (const r of at8) assert.ok(r.accuracy.value! <= blind.find((b) => b.split === r.split && b.n === 8)!.accuracy.value!);
  assert.ok(at8.some((r) => r.accuracy.value! < r.oracle.value!));
  assert.ok(perfect.every((r) => r.accuracy.lo! <= r.accuracy.value! && r.accuracy.value! <= r.accuracy.hi! && r.accuracy.n === 6));
  assert.throws(() => bonRows('x', x, records(x, () => 0.5).slice(1)), /no judgment for p0\/bon-0-1/);
});

test('a record’s P: the judge’s own probability, else its vote share over both orders', () => {
  const base = { v: 1 as const, pairId: 'x', method: 'm', mode: 'cot' as const, shift: [] as string[] };
  assert.equal(recordP({ ...base, pChosen: 0.8 } as JudgeRecord), 0.8);
  assert.equal(
    recordP({ ...base, chosenFirst: { verdicts: ['A', 'B'] }, chosenSecond: { verdicts: ['B', 'invalid'] } } as JudgeRecord),
    2.5 / 4,
  );
});

/** A policy that answers from a script, in order, whatever the prompt. */
function scripted(texts: { text: string; finishReason: 'stop' | 'length' }[]): LanguageModel & { seeds: number[] } {
  let at = 0;
  const seeds: number[] = [];
  return {
    name: 'scripted',
    seeds,
    capabilities: {
      prompts: { text: true, chat: true },
      generate: true,
      candidateLogprobs: false,
      continuationLogprob: false,
      singleTokenVerdicts: true,
    },
    async generate(prompts: Prompt[], o: GenerateOptions = {}): Promise<Generation[]> {
      seeds.push(o.seed ?? -1);
      assert.deepEqual(o.stop, ['\n']);
      assert.ok(prompts.every((p) => typeof p === 'string' && p.endsWith('\n')));
      return prompts.map(() => ({
        samples: Array.from({ length: o.n ?? 1 }, () => ({ ...texts[at++ % texts.length]!, tokens: [], logprobs: [] })),
      }));
    },
    candidateLogprobs: () => Promise.reject(new Error('no')),
    continuationLogprob: () => Promise.reject(new Error('no')),
  };
}

test('the policy: worked lines, cut and empty samples are drawn again; a prompt still short is left out', async () => {
  const p: BonPrompt[] = [0, 1].map((k) => ({
    id: `p${k}`,
    split: 'test-id',
    subset: 'add',
    prompt: `What is ${k}+1?`,
    instance: `${k}+1`,
    shift: [],
  }));
  const policy = scripted([
    { text: 'Q: 0+1= W: 0+1=1 =1', finishReason: 'stop' },
    { text: 'The answer is 1.', finishReason: 'stop' },
    { text: '12345678', finishReason: 'length' },
    { text: '  ', finishReason: 'stop' },
  ]);
  const d = await drawAnswers(policy, p, { n: 2, seed: 5, temperature: 1, topP: 1, maxTokens: 8, overdraw: 2, tries: 2 });
  // Each try draws 4 per prompt, one of them whole: after two tries, 2 answers each.
  assert.equal(d.prompts.length, 2);
  assert.deepEqual(d.answers, [
    ['The answer is 1.', 'The answer is 1.'],
    ['The answer is 1.', 'The answer is 1.'],
  ]);
  assert.equal(d.drawn, 16);
  assert.equal(d.dropped, 12);
  assert.deepEqual(policy.seeds, [5, 1_000_005]);
  const short = await drawAnswers(scripted([{ text: 'Q: x', finishReason: 'stop' }]), p, {
    n: 1,
    seed: 0,
    temperature: 1,
    topP: 1,
    maxTokens: 8,
    overdraw: 1,
    tries: 3,
  });
  assert.equal(short.prompts.length, 0);
  assert.equal(short.short.length, 2);
});

test('gold: PrefWorld’s grader calls the world’s chosen answers right and its rejected ones wrong', async () => {
  const grader = new GoldGrader(loadSpec(fx.world));
  const pairs = (await readPairsAll(join(fx.world, 'test-id.jsonl'))).filter((q) => !(q.meta as { noisy?: boolean }).noisy && !q.tie);
  const prompts = bonPrompts(pairs, 1000);
  assert.ok(prompts.length >= 10);
  let checked = 0;
  for (const q of pairs) {
    const bp = prompts.find((b) => b.instance === (q.meta as { instance: string }).instance && b.subset === q.subset)!;
    assert.equal(grader.right(bp, q.chosen), true, `${q.id} chosen: ${q.chosen}`);
    assert.equal(grader.right(bp, q.rejected), false, `${q.id} rejected: ${q.rejected}`);
    checked++;
  }
  assert.ok(checked >= 10);
  assert.equal(new Set(prompts.map((b) => `${b.subset}:${b.instance}`)).size, prompts.length);
  assert.throws(() => bonPrompts([{ id: 'u', prompt: 'hi', chosen: 'a', rejected: 'b' }], 5), /needs PrefWorld pairs/);
});

test('genrm bon: the base as policy and judge on a tiny world, rows for every split and N', () => {
  const r = spawnSync(
    process.execPath,
    [
      genrmBin,
      'bon',
      '--policy',
      fx.base,
      '--judge',
      fx.base,
      '--world',
      fx.world,
      '--prompts',
      '3',
      '--n',
      '1,2',
      '--policy-max-tokens',
      '12',
      '--json',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    rows: { judge: string; split: string; n: number; accuracy: { n: number }; oracle: { value: number } }[];
  };
  assert.deepEqual([...new Set(out.rows.map((x) => x.n))].sort(), [1, 2]);
  assert.ok(out.rows.every((x) => ['test-id', 'test-ood'].includes(x.split)));
  assert.ok(out.rows.length >= 2 && out.rows.every((x) => x.judge === 'zero-shot' && x.accuracy.n >= 1));
  const bad = spawnSync(process.execPath, [genrmBin, 'bon', '--policy', fx.base, '--judge', fx.base, '--world', fx.world, '--n', '1,0'], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--n: expected a comma-separated list/);
});
