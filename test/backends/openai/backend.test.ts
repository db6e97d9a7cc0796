import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAIBackend, resetServerQuirks } from '../../../src/backends/openai/backend.js';
import { CapabilityError } from '../../../src/backends/types.js';
import { judgePairs } from '../../../src/judge/pairwise.js';
import { resolveJudgeConfig } from '../../../src/judge/config.js';
import { chatPairTemplate, compactPairTemplate } from '../../../src/judge/templates.js';
import { startFixture } from '../fixtures/openaiServer.js';

beforeEach(() => resetServerQuirks());
const opts = { model: 'm', apiKeyEnv: 'GENRM_TEST_NO_KEY', random: () => 0 };

test('generate: n samples in one request when the server honours n', async () => {
  const fx = await startFixture();
  try {
    const m = new OpenAIBackend({ baseURL: fx.url, ...opts });
    const [g] = await m.generate(['Q:'], { n: 3, seed: 10, maxTokens: 8 });
    assert.deepEqual(
      g?.samples.map((s) => s.text),
      ['sample 10 [[A]]', 'sample 11 [[A]]', 'sample 12 [[A]]'],
    );
    assert.equal(fx.requests.length, 1);
    const s = g?.samples[0];
    assert.equal(s?.tokens.length, s?.text.length);
    assert.ok(s?.logprobs.every((x) => x === -0.5));
    assert.equal(fx.requests[0]?.body.logprobs, 1);
  } finally {
    await fx.close();
  }
});

for (const nMode of ['reject', 'ignore'] as const) {
  test(`n-refusal fallback (${nMode}): seeded single requests, remembered per server`, async () => {
    const fx = await startFixture({ nMode });
    try {
      const m = new OpenAIBackend({ baseURL: fx.url, ...opts });
      const [g] = await m.generate([[{ role: 'user', content: 'hi' }]], { n: 3, seed: 5 });
      assert.deepEqual(
        g?.samples.map((s) => s.text),
        ['sample 5 [[A]]', 'sample 6 [[A]]', 'sample 7 [[A]]'],
      );
      // reject: the refused probe + 3 singles; ignore: the probe's one sample + 2 singles.
      const first = fx.requests.length;
      assert.equal(first, nMode === 'reject' ? 4 : 3);
      // A second backend on the same server goes straight to singles.
      const again = new OpenAIBackend({ baseURL: fx.url, ...opts });
      await again.generate(['x'], { n: 3, seed: 0 });
      const later = fx.requests.slice(first);
      assert.equal(later.length, 3);
      assert.deepEqual(
        later.map((r) => [r.body.n, r.body.seed]),
        [
          [1, 0],
          [1, 1],
          [1, 2],
        ],
      );
    } finally {
      await fx.close();
    }
  });
}

test('direct judging through the HTTP backend: text (whole verdicts, then the common prefix) and chat (verdict position)', async () => {
  const top = { A: Math.log(0.6), B: Math.log(0.2), C: Math.log(0.1) };
  const fx = await startFixture({ verdictTop: top });
  try {
    const m = new OpenAIBackend({ baseURL: fx.url, ...opts });
    const cfg = resolveJudgeConfig({ swap: false });
    const pair = { prompt: 'q', answerA: 'a', answerB: 'b' };
    const [t] = await judgePairs(m, [pair], compactPairTemplate, cfg);
    assert.ok(Math.abs((t?.pA ?? 0) - 0.75) < 1e-12, String(t?.pA));
    // Whole verdicts first (none among "A", "B", "C" at the prompt's end), then the common prefix.
    assert.deepEqual(
      fx.requests.map((r) => String(r.body.prompt).endsWith('[[')),
      [false, true],
      "the second text prompt ends at the verdicts' common prefix",
    );
    const [again] = await judgePairs(m, [pair], compactPairTemplate, cfg);
    assert.equal(again?.pA, t?.pA);
    assert.ok(
      String(fx.requests[2]?.body.prompt).endsWith('[['),
      'once no whole verdict showed, the backend goes to the common prefix directly',
    );
    const [c] = await judgePairs(m, [pair], chatPairTemplate, cfg);
    assert.ok(Math.abs((c?.pA ?? 0) - 0.75) < 1e-12, String(c?.pA));
    assert.deepEqual([fx.requests[3]?.body.logprobs, fx.requests[3]?.body.top_logprobs], [true, 20]);
  } finally {
    await fx.close();
  }
});

test('a server without logprobs is a CapabilityError, not a number', async () => {
  const fx = await startFixture(); // answers max_tokens 1 without top_logprobs
  try {
    const m = new OpenAIBackend({ baseURL: fx.url, ...opts });
    await assert.rejects(
      m.candidateLogprobs(['q [['], ['A]]', 'B]]']),
      (e: unknown) => e instanceof CapabilityError && /no top logprobs/.test((e as Error).message),
    );
  } finally {
    await fx.close();
  }
});

test('continuation log-likelihood via echo (vLLM-style), CapabilityError elsewhere', async () => {
  const vllm = await startFixture({ echo: true });
  try {
    const m = new OpenAIBackend({ baseURL: vllm.url, ...opts });
    // Character tokens at -0.5 each: "cde" after "ab" is 3 tokens.
    assert.deepEqual(
      await m.continuationLogprob([
        { prompt: 'ab', continuation: 'cde' },
        { prompt: 'x', continuation: 'y' },
      ]),
      [-1.5, -0.5],
    );
    assert.deepEqual([vllm.requests[0]?.body.echo, vllm.requests[0]?.body.max_tokens], [true, 0]);
  } finally {
    await vllm.close();
  }
  const plain = await startFixture({ echo: false });
  try {
    const m = new OpenAIBackend({ baseURL: plain.url, ...opts });
    await assert.rejects(
      m.continuationLogprob([{ prompt: 'ab', continuation: 'c' }]),
      (e: unknown) => e instanceof CapabilityError && /vLLM/.test((e as Error).message),
    );
    await assert.rejects(m.continuationLogprob([{ prompt: 'ab', continuation: 'c' }]), CapabilityError);
    assert.equal(plain.requests.length, 1, 'the refusal is remembered');
    await assert.rejects(m.continuationLogprob([{ prompt: [{ role: 'user', content: 'x' }], continuation: 'c' }]), /chat endpoints/);
  } finally {
    await plain.close();
  }
});
