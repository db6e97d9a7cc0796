// Fitting pairs to a judge's context: a stand-in judge whose "tokens" are characters checks the
// policies' arithmetic exactly; the embedded engine on a tiny model checks that what is fitted is
// what the judge then accepts (its own refusal never fires).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { rmSync } from 'node:fs';
import type { PreferencePair } from '../../../src/data/pair.js';
import { EmbeddedBackend } from '../../../src/backends/embedded/backend.js';
import { type Fits, contextSummary, fitSets, lmFits } from '../../../src/eval/run/context.js';
import { judgePairs } from '../../../src/judge/pairwise.js';
import { resolveJudgeConfig } from '../../../src/judge/config.js';
import { resolveTemplate } from '../../../src/judge/resolveTemplate.js';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../../../src/engine/checkpoint.js';
import { Llama } from '../../../src/engine/model/index.js';
import { headFits } from '../../../src/eval/run/context.js';
import { headRecords, loadHeadModel } from '../../../src/eval/run/heads.js';
import { makeFixture } from '../../train/recipes/fixture.js';

const chars = (p: PreferencePair): number =>
  (typeof p.prompt === 'string' ? p.prompt.length : p.prompt.reduce((n, m) => n + m.content.length, 0)) +
  p.chosen.length +
  p.rejected.length;
/** A judge of `ctx` characters. */
const fitsIn =
  (ctx: number): Fits =>
  async (p) =>
    chars(p) <= ctx;
const set = (pairs: PreferencePair[]) => [{ file: 'x.jsonl', pairs, checker: null }];
const pair = (id: string, prompt: string, chosen: string, rejected: string): PreferencePair => ({ id, prompt, chosen, rejected });

test("truncate-answers cuts the answers' ends to the most that fits; truncate-prompt the prompt's start; skip leaves the pair out", async () => {
  const p = pair('a', 'Q'.repeat(100), 'c'.repeat(2000), 'r'.repeat(1000));
  const fits = fitsIn(1000);
  const ans = await fitSets(set([p]), fits, 'truncate-answers');
  const got = ans.sets[0]!.pairs[0]!;
  assert.equal(got.prompt, p.prompt);
  assert.ok(got.chosen.startsWith('c'.repeat(100)) && got.chosen.endsWith(' [truncated]'));
  assert.equal(chars(got), 1000, 'the largest cut that fits: nothing more is lost than needed');
  assert.equal(got.chosen.length, got.rejected.length, 'one shared cap: the longer answer gives up the most');
  assert.deepEqual([ans.report.answersCut, ans.report.promptsCut, ans.report.skipped], [1, 0, 0]);

  const q = pair('b', 'old context. '.repeat(200) + 'The question?', 'yes', 'no');
  const pr = await fitSets(set([q]), fits, 'truncate-prompt');
  const gp = pr.sets[0]!.pairs[0]!;
  assert.ok(typeof gp.prompt === 'string' && gp.prompt.startsWith('[truncated] ') && gp.prompt.endsWith('The question?'));
  assert.deepEqual([gp.chosen, gp.rejected, chars(gp)], ['yes', 'no', 1000]);
  assert.deepEqual([pr.report.answersCut, pr.report.promptsCut], [0, 1]);

  const sk = await fitSets(set([pair('ok', 'q', 'a', 'b'), p, q]), fits, 'skip');
  assert.deepEqual(
    sk.sets[0]!.pairs.map((x) => x.id),
    ['ok'],
  );
  assert.deepEqual([sk.report.skipped, sk.report.ids.skipped], [2, ['a', 'b']]);
  assert.match(
    contextSummary(sk.report),
    /--context skip\): of 3 pairs, 2 skipped \(a, b\); other policies: --context truncate-answers \| truncate-prompt/,
  );
});

test('the fallbacks: a long prompt under truncate-answers is cut itself; a conversation loses its earliest turns; an impossible pair is counted', async () => {
  const fits = fitsIn(600);
  const longPrompt = pair('lp', 'x'.repeat(5000), 'short yes', 'short no');
  const r = await fitSets(set([longPrompt]), fits, 'truncate-answers');
  const g = r.sets[0]!.pairs[0]!;
  assert.deepEqual([g.chosen, g.rejected], ['short yes', 'short no'], 'answers under the floor stay whole');
  assert.deepEqual([r.report.answersCut, r.report.promptsCut, chars(g)], [0, 1, 600]);

  const chat: PreferencePair = {
    id: 'c',
    prompt: [
      { role: 'user', content: 'u'.repeat(400) },
      { role: 'assistant', content: 'a'.repeat(400) },
      { role: 'user', content: 'last question' },
    ],
    chosen: 'one',
    rejected: 'two',
  };
  const c = (await fitSets(set([chat]), fitsIn(400), 'truncate-prompt')).sets[0]!.pairs[0]!;
  assert.ok(Array.isArray(c.prompt));
  assert.deepEqual(
    c.prompt.map((m) => m.role),
    ['assistant', 'user'],
    'the first user turn went first',
  );
  assert.ok(c.prompt[0]!.content.startsWith('[truncated] '));

  const never: Fits = async () => false;
  const n = await fitSets(set([pair('n', 'q', 'a', 'b')]), never, 'truncate-answers');
  assert.deepEqual([n.sets[0]!.pairs.length, n.report.tooLong, n.report.ids.tooLong], [0, 1, ['n']]);
  // A judge that cannot count tokens is not checked, and says so.
  const un = await fitSets(set([longPrompt]), null, 'skip');
  assert.deepEqual([un.sets[0]!.pairs.length, un.report.checked], [1, false]);
});

const fx = await makeFixture({ train: 4, seqLen: 320 });
after(() => rmSync(fx.root, { recursive: true, force: true }));

test('the embedded judge: pairs fitted by lmFits are accepted by judgePairs under refuse, as given they are not', async () => {
  const model = EmbeddedBackend.load(fx.base);
  const o = {
    method: 'm',
    mode: 'direct' as const,
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
  const fits = lmFits(model, o);
  assert.ok(fits, 'the embedded backend counts tokens');
  const long = pair('long', 'Which is right? ' + 'context '.repeat(40), 'A'.repeat(400), 'B'.repeat(300));
  assert.equal(await fits(long), false);
  const cfg = resolveJudgeConfig({ mode: 'direct', votes: 1, swap: true, contextPolicy: 'refuse' });
  const template = resolveTemplate('auto', 'pair', model.capabilities);
  const input = (p: PreferencePair) => ({ id: p.id, prompt: p.prompt as string, answerA: p.chosen, answerB: p.rejected });
  await assert.rejects(judgePairs(model, [input(long)], template, cfg), /needs \d+ tokens/);
  for (const policy of ['truncate-answers', 'truncate-prompt'] as const) {
    const fitted: PreferencePair = (await fitSets(set([long]), fits, policy)).sets[0]!.pairs[0]!;
    assert.equal(await fits(fitted), true);
    const [j] = await judgePairs(model, [input(fitted)], template, cfg);
    assert.ok(j && Number.isFinite(j.pA), `${policy}: judged`);
  }
});

test('a reward head (bt): a pair over its context is fitted so that headRecords scores it instead of refusing', async () => {
  const ck = loadCheckpoint(fx.base);
  const model = new Llama(ck.config, { seed: 0 });
  for (const [n, t] of model.params) t.data.set(ck.weights.get(n)!.data);
  model.addScoreHead(1, 7);
  const dir = join(fx.root, 'bt');
  saveCheckpoint(dir, {
    config: ck.config,
    kind: 'bt',
    numLabels: 1,
    weights: model.params,
    tokenizer: ck.tokenizer,
    provenance: { command: 'test', config: { recipe: 'bt' }, seed: 7, dataHash: null, parent: fx.base },
  });
  const head = loadHeadModel(dir);
  const long = pair('long', 'Which is right?', 'A'.repeat(600), 'B'.repeat(500));
  assert.throws(() => headRecords(head, [long], { method: 'bt' }), /more than the bt model's context/);
  const fits = headFits(head);
  assert.equal(await fits(long), false);
  const fitted: PreferencePair = (await fitSets(set([long]), fits, 'truncate-answers')).sets[0]!.pairs[0]!;
  const [r] = headRecords(head, [fitted], { method: 'bt' });
  assert.ok(r && Number.isFinite(r.pChosen));
});
