import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgePairs } from '../../src/judge/pairwise.js';
import { verifyAnswers } from '../../src/judge/pointwise.js';
import { resolveJudgeConfig } from '../../src/judge/config.js';
import { chatPairTemplate, chatPointTemplate, compactPairTemplate } from '../../src/judge/templates.js';
import { ScriptedModel, slots } from './fixtures/scriptedModel.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const pair = { prompt: 'What is 2+2?', answerA: '4', answerB: '5' };

test('direct P(A) renormalises the two verdict log-probs', async () => {
  // Most of the mass is elsewhere (p(A)=e^-1.2, p(B)=e^-2.7): only their ratio counts.
  const model = new ScriptedModel({ logprob: (_p, c) => (c === '[[A]]' ? -1.2 : c === '[[B]]' ? -2.7 : undefined) });
  const [j] = await judgePairs(model, [pair], compactPairTemplate, resolveJudgeConfig({ swap: false }));
  assert.ok(Math.abs((j?.pA ?? 0) - sigmoid(1.5)) < 1e-12, String(j?.pA));
  assert.equal(j?.verdict, 'A');
  assert.deepEqual(model.calls[0]?.candidates, ['[[A]]', '[[B]]']);
  assert.equal(j?.approximate, false);
});

test('without single-token verdicts the prompt ends at the common prefix and the remainders are scored', async () => {
  const model = new ScriptedModel(
    { logprob: (p, c) => (p.endsWith('[[') ? (c === 'A]]' ? -3 : c === 'B]]' ? -1 : undefined) : undefined) },
    { singleTokenVerdicts: false },
  );
  const [j] = await judgePairs(model, [pair], compactPairTemplate, resolveJudgeConfig({ swap: false }));
  assert.deepEqual(model.calls[0]?.candidates, ['A]]', 'B]]']);
  assert.ok(Math.abs((j?.pA ?? 0) - sigmoid(-2)) < 1e-12);
  assert.equal(j?.verdict, 'B');
});

test("a verdict outside the backend's view is flagged approximate; neither visible is an error", async () => {
  const one = new ScriptedModel({ logprob: (_p, c) => (c === '[[A]]' ? -0.1 : c === 'x' ? -5 : undefined) });
  const [j] = await judgePairs(one, [pair], compactPairTemplate, resolveJudgeConfig({ swap: false }));
  assert.equal(j?.approximate, true);
  const none = new ScriptedModel({ logprob: () => undefined });
  await assert.rejects(judgePairs(none, [pair], compactPairTemplate, resolveJudgeConfig({ swap: false })), /neither verdict/);
});

test('CoT: vote share over valid verdicts, invalid counted apart, rationales kept', async () => {
  const script = ['so [[A]]', 'hence [[A]]', '[[B]]', 'I cannot decide', '[[B]] no wait [[A]]'];
  const model = new ScriptedModel({ complete: (_p, k) => script[k] as string });
  const [j] = await judgePairs(model, [pair], compactPairTemplate, resolveJudgeConfig({ mode: 'cot', votes: 5, swap: false }));
  const cot = j?.orders[0].cot;
  assert.deepEqual(cot?.votes, { pos: 3, neg: 1, invalid: 1 });
  assert.equal(j?.pA, 3 / 4);
  assert.equal(j?.verdict, 'A');
  assert.deepEqual(
    cot?.rationales.map((r) => r.text),
    script,
  );
  // The paper's sampling settings reach the backend.
  const o = model.calls[0]?.options;
  assert.deepEqual([o?.n, o?.temperature, o?.topP], [5, 1.0, 0.95]);
});

test('CoT: a tie in votes is a tie at 0.5; all invalid is invalid at 0.5', async () => {
  const tie = new ScriptedModel({ complete: (_p, k) => (k % 2 ? '[[B]]' : '[[A]]') });
  const [t] = await judgePairs(tie, [pair], compactPairTemplate, resolveJudgeConfig({ mode: 'cot', votes: 4, swap: false }));
  assert.equal(t?.verdict, 'tie');
  assert.equal(t?.pA, 0.5);
  const bad = new ScriptedModel({ complete: () => 'no idea' });
  const [b] = await judgePairs(bad, [pair], compactPairTemplate, resolveJudgeConfig({ mode: 'cot', votes: 3 }));
  assert.equal(b?.verdict, 'invalid');
  assert.equal(b?.pA, 0.5);
});

test('order swap cancels a model that always says [[A]] (direct and CoT)', async () => {
  const direct = new ScriptedModel({ logprob: (_p, c) => (c === '[[A]]' ? -0.01 : -5) });
  const [d] = await judgePairs(direct, [pair], compactPairTemplate, resolveJudgeConfig({ swap: true }));
  assert.ok(Math.abs((d?.pA ?? 0) - 0.5) < 1e-12);
  assert.equal(d?.disagree, true);
  assert.ok((d?.positionBias ?? 0) > 0.49);
  const cot = new ScriptedModel({ complete: () => '[[A]]' });
  const [c] = await judgePairs(cot, [pair], compactPairTemplate, resolveJudgeConfig({ mode: 'cot', votes: 4 }));
  assert.equal(c?.pA, 0.5);
  assert.equal(c?.verdict, 'tie');
  assert.equal(c?.positionBias, 0.5);
  // The swapped order sampled with different seeds.
  assert.notEqual(cot.calls[0]?.options?.seed, cot.calls[1]?.options?.seed);
});

test("order swap keeps a content-aware judge's preference and reports agreement", async () => {
  // Prefers the answer "4" wherever it is shown, with a slight lean to slot A.
  const model = new ScriptedModel({
    logprob: (p, c) => {
      const { a } = slots(p);
      const aGood = a === '4';
      return c === '[[A]]' ? (aGood ? -0.1 : -2.0) : aGood ? -2.5 : -0.3;
    },
  });
  const [j] = await judgePairs(model, [pair], chatPairTemplate, resolveJudgeConfig({ swap: true }));
  const p1 = sigmoid(-0.1 + 2.5);
  const p2 = sigmoid(-2.0 + 0.3);
  assert.ok(Math.abs((j?.pA ?? 0) - (p1 + (1 - p2)) / 2) < 1e-12);
  assert.equal(j?.verdict, 'A');
  assert.equal(j?.disagree, false);
});

test('pointwise: direct P(Yes) and the CoT average of P(Yes | rationale)', async () => {
  const direct = new ScriptedModel({ logprob: (_p, c) => (c === '[[YES]]' ? -0.5 : -1.5) });
  const [d] = await verifyAnswers(direct, [{ prompt: 'q', answer: 'a' }], chatPointTemplate, resolveJudgeConfig({}));
  assert.ok(Math.abs((d?.pYes ?? 0) - sigmoid(1)) < 1e-12);
  assert.equal(d?.verdict, 'YES');

  // Token-id style backend (single-token verdicts): each rationale's verdict is re-scored at its
  // end; rationale k gets P(Yes) = sigmoid(s_k).
  const s = [2, -1, 0.5];
  const cot = new ScriptedModel({
    complete: (_p, k) => `step ${k} ok [[${k === 1 ? 'NO' : 'YES'}]]`,
    logprob: (p, c) => {
      const k = Number(/step (\d) ok $/.exec(p)?.[1]);
      return c === '[[YES]]' ? (s[k] as number) : 0;
    },
  });
  const [c] = await verifyAnswers(
    cot,
    [{ prompt: 'q', answer: 'a' }],
    { ...chatPointTemplate, render: (f) => `Q: ${f.question} A: ${f.answer}\n` },
    resolveJudgeConfig({ mode: 'cot', votes: 3, weighting: 'verdict-prob' }),
  );
  const want = (sigmoid(2) + sigmoid(-1) + sigmoid(0.5)) / 3;
  assert.ok(Math.abs((c?.pYes ?? 0) - want) < 1e-12, `${c?.pYes} vs ${want}`);
  assert.deepEqual(c?.cot?.votes, { pos: 2, neg: 1, invalid: 0 });
});

test('CoT verdict-prob weighting from string tokens with top alternatives (HTTP-style samples)', async () => {
  // A backend whose samples carry per-position alternatives, as an OpenAI server reports them.
  const model = new ScriptedModel({}, { singleTokenVerdicts: false });
  model.generate = async (prompts) =>
    prompts.map(() => ({
      samples: [
        {
          text: 'B is wrong. [[A]]',
          tokens: ['B is wrong.', ' [[', 'A', ']]'],
          logprobs: [-0.1, -0.1, Math.log(0.7), 0],
          topLogprobs: [
            [],
            [],
            [
              { token: 'A', logprob: Math.log(0.7) },
              { token: 'B', logprob: Math.log(0.1) },
            ],
            [],
          ],
          finishReason: 'stop' as const,
        },
      ],
    }));
  const [j] = await judgePairs(
    model,
    [pair],
    chatPairTemplate,
    resolveJudgeConfig({ mode: 'cot', votes: 1, swap: false, weighting: 'verdict-prob' }),
  );
  assert.ok(Math.abs((j?.pA ?? 0) - 0.7 / 0.8) < 1e-12, String(j?.pA));
});
