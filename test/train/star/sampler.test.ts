// The STaR sampler's logic against a scripted LanguageModel (crafted completions): verdicts marked
// against the label in both orders, STaR-SFT keeping exactly the right-verdict rationales, a
// no-verdict sample counted as wrong (a DPO rejected, trained whole), the 'checked' filter, DPO
// pairing rules, the rationalization fallback (trained without the hint), batching per chunk with
// the judge's seeds per order, and resume without resampling a finished pair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Capabilities, GenerateOptions, Generation, LanguageModel, Prompt } from '../../../src/backends/types.js';
import { parseVerdict } from '../../../src/data/judgeFormat.js';
import type { PreferencePair } from '../../../src/data/pair.js';
import { chosenShownFirst } from '../../../src/judge/pairwise.js';
import { starBuildConfig, starSamplingConfig } from '../../../src/train/star/config.js';
import { buildStarDatasets } from '../../../src/train/star/datasets.js';
import { rightVerdict, SAMPLES_FILE, trainedCompletion } from '../../../src/train/star/records.js';
import { readSamples, sampleStar } from '../../../src/train/star/sampler.js';
import { runStarSampling } from '../../../src/train/star/sampleRun.js';

/** Completions the double writes, by sample index (the same list for every prompt unless hinted). */
const SCRIPT = [
  'Q: x W: good sound\nA says 1: matches. B says 2: does not.\nVerdict: [[A]]', // right for the right reason
  'Q: x W: bad\nVerdict: [[B]]',
  'no verdict at all',
  'first [[B]] then Verdict: [[A]] trailing words', // the last verdict counts: A
  'Q: x W: bad\nVerdict: [[A]]', // A, but the rationale's own result is wrong
  'Q: x W: good\nVerdict: [[B]]',
];

class ScriptedModel implements LanguageModel {
  readonly name = 'scripted';
  readonly capabilities: Capabilities = {
    prompts: { text: true, chat: false },
    generate: true,
    candidateLogprobs: false,
    continuationLogprob: false,
    singleTokenVerdicts: true,
  };
  calls: { prompts: string[]; n: number; seed: number | undefined }[] = [];
  constructor(private readonly script: (prompt: string, i: number) => string) {}
  async generate(prompts: Prompt[], o: GenerateOptions = {}): Promise<Generation[]> {
    const n = o.n ?? 1;
    this.calls.push({ prompts: prompts as string[], n, seed: o.seed });
    return (prompts as string[]).map((p) => ({
      samples: Array.from({ length: n }, (_, i) => ({
        text: this.script(p, i),
        tokens: [1, 2, 3],
        logprobs: [0, 0, 0],
        finishReason: 'stop' as const,
      })),
    }));
  }
  async candidateLogprobs(): Promise<never> {
    throw new Error('unused');
  }
  async continuationLogprob(): Promise<never> {
    throw new Error('unused');
  }
}

const pairs: PreferencePair[] = Array.from({ length: 5 }, (_, i) => ({
  id: `p${i}`,
  prompt: `question ${i}?`,
  chosen: `right ${i}`,
  rejected: `wrong ${i}`,
}));
const tie: PreferencePair = { id: 'tie', prompt: 'q?', chosen: 'x', rejected: 'y', tie: true };
// A stand-in grader: "good" rationales have a right result; right for the right reason when they also say "sound".
const goodChecker = () => (c: string) => {
  const good = c.includes('good');
  return {
    verdict: null,
    restated: good,
    workedExact: good,
    resultRight: good,
    checksConsistent: c.includes('sound'),
    verdictFollows: true,
  };
};

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'genrm-star-'));
}

test('verdicts are marked against the label in both orders; STaR-SFT keeps exactly the right-verdict rationales', async () => {
  const dir = tmp();
  try {
    const lm = new ScriptedModel((_, i) => SCRIPT[i % SCRIPT.length]!);
    const cfg = starSamplingConfig({ k: SCRIPT.length, chunkPairs: 2 });
    const stats = await sampleStar(lm, [...pairs, tie], { config: cfg, outDir: dir, checker: goodChecker });
    assert.equal(stats.sampledPairs, 5);
    assert.equal(stats.ties, 1);
    // Batched: per chunk of 2 pairs, one generate call per judge order (one prompt per pair), k
    // samples per prompt, seeded as judgePairs seeds them: order 1 with seed, order 2 with seed + k.
    assert.deepEqual(
      lm.calls.map((c) => [c.prompts.length, c.n, c.seed]),
      [
        [2, 6, 1],
        [2, 6, 7],
        [2, 6, 1],
        [2, 6, 7],
        [1, 6, 1],
        [1, 6, 7],
      ],
    );
    // Order AB shows the chosen answer as A, BA as B; the one eval judges first (chosenShownFirst) gets the base seed.
    for (const p of pairs) {
      const i = Number(p.id.slice(1));
      const ab = `A: right ${i}\nB: wrong ${i}`;
      const ba = `A: wrong ${i}\nB: right ${i}`;
      const seedOf = (shown: string) => lm.calls.find((c) => c.prompts.some((q) => q.includes(shown)))!.seed;
      assert.deepEqual([seedOf(ab), seedOf(ba)], chosenShownFirst(p.id, cfg.seed) ? [1, 7] : [7, 1], p.id);
    }

    const recs = readSamples(join(dir, SAMPLES_FILE));
    assert.equal(recs.length, 5);
    const d = buildStarDatasets(recs, starBuildConfig({ dedupe: false }));
    // By hand: verdicts of SCRIPT are A, B, none, A, A, B. Right in AB (A): samples 0, 3, 4; in BA (B): 1, 5.
    const keptAB = [0, 3, 4].map((i) => trainedCompletion(SCRIPT[i]!));
    const keptBA = [1, 5].map((i) => trainedCompletion(SCRIPT[i]!));
    for (const p of pairs) {
      assert.deepEqual(
        d.sft.filter((r) => r.pairId === p.id && r.order === 'AB').map((r) => r.completion),
        keptAB,
      );
      assert.deepEqual(
        d.sft.filter((r) => r.pairId === p.id && r.order === 'BA').map((r) => r.completion),
        keptBA,
      );
    }
    // Every kept completion ends in its order's right verdict, and nothing after it is trained.
    for (const r of d.sft) {
      assert.equal(parseVerdict(r.completion), rightVerdict(r.order));
      assert.ok(r.completion.endsWith(`[[${rightVerdict(r.order)}]]`));
      assert.ok(r.prompt.endsWith('Check:\n') && !r.prompt.includes('Hint:'));
    }
    assert.equal(d.report.sft.kept, 5 * 5);
    assert.equal(d.report.invalid, 5 * 2); // sample 2, both orders
    assert.ok(Math.abs(d.report.rightShareMean - 5 / 12) < 1e-12); // 5 right of 12 per pair
    assert.equal(d.report.pairsWithRight, 1);
    assert.ok(d.report.graded);
    // Right for the wrong reason (checker: "good" in the rationale): AB samples 3 and 4, BA sample 1.
    assert.equal(d.report.sft.rightForWrongReason, 5 * 3);

    // DPO: chosen ends in the right verdict; rejected is a wrong-verdict or a no-verdict one, same prompt.
    for (const r of d.dpo) {
      assert.equal(parseVerdict(r.chosen), rightVerdict(r.order));
      assert.notEqual(parseVerdict(r.rejected), rightVerdict(r.order));
      assert.equal(r.rejectedInvalid, parseVerdict(r.rejected) === null);
    }
    // all: R x W capped (AB: 3 right x 3 wrong = 9 -> 4; BA: 2 x 4 = 8 -> 4), distinct combinations.
    assert.equal(d.dpo.length, 5 * 8);
    const combos = d.dpo.filter((r) => r.pairId === 'p0' && r.order === 'AB').map((r) => `${r.chosen}|${r.rejected}`);
    assert.equal(new Set(combos).size, 4);
    const uncapped = buildStarDatasets(recs, starBuildConfig({ maxPairsPerOrder: 100, dedupe: false }));
    assert.equal(uncapped.dpo.length, 5 * 17);
    const one = buildStarDatasets(recs, starBuildConfig({ pairing: 'random-one' }));
    assert.equal(one.dpo.length, 5 * 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a sample without a verdict counts as wrong: a DPO rejected, trained whole, and counted', async () => {
  const dir = tmp();
  try {
    // Per order: one right rationale and one that stops without judging (as 39 % of zero-shot CoT samples did).
    const lm = new ScriptedModel((p, i) =>
      i === 0 ? `Q: x W: ok\nVerdict: ${p.includes('A: right') ? '[[A]]' : '[[B]]'}` : 'Q: x W: ok\nA says 1: right. So A is right.',
    );
    await sampleStar(lm, pairs, { config: starSamplingConfig({ k: 2 }), outDir: dir });
    const d = buildStarDatasets(readSamples(join(dir, SAMPLES_FILE)), starBuildConfig());
    assert.equal(d.report.invalid, 5 * 2);
    assert.equal(d.sft.length, 5 * 2, 'the no-verdict samples are never kept');
    assert.equal(d.dpo.length, 5 * 2, 'each order gives one pair: right over no-verdict');
    assert.ok(d.dpo.every((r) => r.rejected === 'Q: x W: ok\nA says 1: right. So A is right.' && r.rejectedInvalid === true));
    assert.equal(d.report.dpo.rejectedInvalid, 5 * 2);
    assert.equal(d.report.dpo.ordersOneSided, 0);
    assert.equal(trainedCompletion('no verdict, cut at the limit'), 'no verdict, cut at the limit');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("filter 'checked' keeps only rationales right for the right reason; the unchecked right ones are neither kept nor rejected", async () => {
  const dir = tmp();
  try {
    const lm = new ScriptedModel((_, i) => SCRIPT[i % SCRIPT.length]!);
    await sampleStar(lm, pairs, { config: starSamplingConfig({ k: SCRIPT.length }), outDir: dir, checker: goodChecker });
    const recs = readSamples(join(dir, SAMPLES_FILE));
    const plain = buildStarDatasets(recs, starBuildConfig({ dedupe: false }));
    const d = buildStarDatasets(recs, starBuildConfig({ dedupe: false, filter: 'checked', maxPairsPerOrder: 100 }));
    // The stand-in grader passes sample 0 only ("good sound"): AB keeps it; BA (right: 1, 5) keeps none.
    assert.deepEqual(
      d.sft.map((r) => `${r.pairId}/${r.order}`),
      pairs.map((p) => `${p.id}/AB`),
    );
    assert.ok(d.sft.every((r) => r.completion === trainedCompletion(SCRIPT[0]!)));
    assert.equal(d.report.sft.droppedUnchecked, 5 * 4); // AB samples 3, 4; BA samples 1, 5
    assert.equal(plain.report.sft.unchecked, 5 * 4, "the paper's filter keeps those four");
    // DPO: chosen is sample 0; rejected are AB's wrong or no-verdict ones (1, 2, 5), never the unchecked right 3 and 4.
    assert.equal(d.dpo.length, 5 * 3);
    assert.ok(d.dpo.every((r) => r.order === 'AB' && r.chosen === trainedCompletion(SCRIPT[0]!) && parseVerdict(r.rejected) !== 'A'));
    assert.equal(d.report.dpo.rejectedInvalid, 5);
    assert.equal(d.report.dpo.chosenRightForWrongReason, 0);
    assert.equal(d.report.config.filter, 'checked');

    // Without a grader the filter is an error, before anything is sampled.
    const ungraded = tmp();
    try {
      await sampleStar(lm, pairs, { config: starSamplingConfig({ k: 2 }), outDir: ungraded });
      assert.throws(
        () => buildStarDatasets(readSamples(join(ungraded, SAMPLES_FILE)), starBuildConfig({ filter: 'checked' })),
        /filter 'checked' needs graded samples/,
      );
      const lm2 = new ScriptedModel(() => 'x');
      await assert.rejects(
        runStarSampling(lm2, pairs, {
          sampling: starSamplingConfig({ k: 2 }),
          build: starBuildConfig({ filter: 'checked' }),
          outDir: join(ungraded, 'run'),
          checker: null,
        }),
        /filter 'checked' needs PrefWorld's rationale grader/,
      );
      assert.equal(lm2.calls.length, 0);
    } finally {
      rmSync(ungraded, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rationalization fallback: hinted only where no rationale is right, kept if right, trained without the hint', async () => {
  const dir = tmp();
  try {
    // Pair p0 never gets a right verdict unhinted; the hinted prompt answers with its hint.
    const lm = new ScriptedModel((p, i) => {
      const hint = /Hint: (\[\[[AB]\]\])/.exec(p);
      if (hint) return `because hinted\nVerdict: ${hint[1]}`;
      if (p.includes('question 0?')) return p.includes('A: right 0') ? 'x Verdict: [[B]]' : 'x Verdict: [[A]]';
      return SCRIPT[i % 2]!;
    });
    await sampleStar(lm, pairs.slice(0, 3), { config: starSamplingConfig({ k: 2, rationalize: true }), outDir: dir });
    const hinted = lm.calls.flatMap((c) => c.prompts).filter((p) => p.includes('Hint: '));
    assert.equal(hinted.length, 2); // both orders of p0, nothing else
    assert.ok(hinted.every((p) => p.includes('question 0?') && p.includes('Hint: ')));
    const d = buildStarDatasets(readSamples(join(dir, SAMPLES_FILE)), starBuildConfig());
    assert.equal(d.report.rationalized.pairs, 1);
    assert.equal(d.report.rationalized.orders, 2);
    assert.equal(d.report.rationalized.kept, 2);
    const r0 = d.sft.filter((r) => r.pairId === 'p0');
    assert.equal(r0.length, 2);
    assert.ok(r0.every((r) => r.rationalized && !r.prompt.includes('Hint') && r.completion.startsWith('because hinted')));
    assert.equal(d.report.pairsWithRight, 2 / 3); // the rationalized pair does not count as sampled-right
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sampling resumes where it stopped: no pair sampled twice, a cut line resampled, settings checked', async () => {
  const dir = tmp();
  try {
    const cfg = starSamplingConfig({ k: 2, chunkPairs: 2 });
    const lm1 = new ScriptedModel((_, i) => SCRIPT[i]!);
    const s1 = await sampleStar(lm1, pairs, { config: cfg, outDir: dir, stopAfterChunks: 1 });
    assert.equal(s1.sampledPairs, 2);
    assert.equal(s1.complete, false);
    // A crash in the middle of writing the next line.
    appendFileSync(join(dir, SAMPLES_FILE), '{"pairId":"p2","index":2,"ord');
    await assert.rejects(sampleStar(lm1, pairs, { config: cfg, outDir: dir }), /exists already; pass --resume/);
    await assert.rejects(
      sampleStar(lm1, pairs, { config: starSamplingConfig({ k: 3, chunkPairs: 2 }), outDir: dir, resume: true }),
      /drawn with k = 2 but this run asks for 3/,
    );
    const lm2 = new ScriptedModel((_, i) => SCRIPT[i]!);
    const s2 = await sampleStar(lm2, pairs, { config: cfg, outDir: dir, resume: true });
    assert.equal(s2.resumedPairs, 2);
    assert.equal(s2.sampledPairs, 3);
    assert.ok(s2.complete);
    const sampledAgain = lm2.calls.flatMap((c) => c.prompts).filter((p) => /question [01]\?/.test(p));
    assert.equal(sampledAgain.length, 0, 'a finished pair was sampled again');
    const lines = readFileSync(join(dir, SAMPLES_FILE), 'utf8').trim().split('\n');
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { pairId: string }).pairId).sort(), ['p0', 'p1', 'p2', 'p3', 'p4']);
    // Resuming a complete run samples nothing.
    const lm3 = new ScriptedModel((_, i) => SCRIPT[i]!);
    assert.equal((await sampleStar(lm3, pairs, { config: cfg, outDir: dir, resume: true })).sampledPairs, 0);
    assert.equal(lm3.calls.length, 0);
    // Input order, whatever the chunking.
    assert.deepEqual(
      readSamples(join(dir, SAMPLES_FILE)).map((r) => r.pairId),
      ['p0', 'p1', 'p2', 'p3', 'p4'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
