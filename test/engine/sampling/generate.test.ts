// Batched KV-cached generation against no-cache references on a tiny random model: greedy equals
// step-by-step argmax of full forwards, returned logprobs and top alternatives equal full-forward
// recomputation, seeds reproduce, batch composition does not matter, stops and limits are right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Llama } from '../../../src/engine/model/index.js';
import type { ModelConfig } from '../../../src/engine/model/config.js';
import { noGrad } from '../../../src/engine/autograd/index.js';
import { kernels } from '../../../src/engine/kernels/index.js';
import { Tokenizer } from '../../../src/engine/tokenizer/index.js';
import { generate, type GeneratedSample } from '../../../src/engine/sampling/index.js';

const tok = Tokenizer.byteLevel({ specials: ['[[A]]', '[[B]]'] });
const cfg: ModelConfig = {
  vocabSize: tok.vocabSize,
  dModel: 16,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  ffnHidden: 24,
  maxSeqLen: 24,
  ropeTheta: 10000,
  normEps: 1e-5,
  tieEmbeddings: false,
};
// A random model with a spread-out output head (logit std ~2), so argmax gaps are far above
// float rounding and greedy comparisons are meaningful.
const model = new Llama(cfg, { seed: 5 });
for (const x of model.head.data.keys()) model.head.data[x]! *= 30;

const prompts = [[tok.eotId, 104, 105], [tok.eotId, 70, 71, 72, 73, 74, 75, 76], [tok.eotId]];

/** Full-forward (no cache) log-softmax of the next token after `seq`. */
function fullNext(seq: readonly number[]): Float32Array {
  const V = cfg.vocabSize;
  const logits = noGrad(() => model.logits(model.hidden(Int32Array.from(seq), 1, seq.length)).data);
  const last = logits.slice((seq.length - 1) * V, seq.length * V);
  kernels().logSoftmax(last, last, 1, V);
  return last;
}

const argmax = (a: Float32Array): number => a.indexOf(Math.max(...a));

test('greedy generation equals the argmax of step-by-step full forward passes (mixed lengths, n = 2)', () => {
  const out = generate(model, tok, prompts, { n: 2, temperature: 0, maxTokens: 6, stopTokens: [] });
  prompts.forEach((p, i) => {
    const seq = [...p];
    const want: number[] = [];
    for (let t = 0; t < 6; t++) (want.push(argmax(fullNext(seq))), seq.push(want[t]!));
    for (const s of out[i]!) {
      assert.deepEqual(s.tokens, want, `prompt ${i}`);
      assert.equal(s.finishReason, 'length');
    }
  });
});

test('per-token logprobs and top alternatives equal a no-cache recomputation (sampled, n = 3)', () => {
  const out = generate(model, tok, prompts, { n: 3, temperature: 1.3, maxTokens: 7, seed: 11, topLogprobs: 3, stopTokens: [] });
  prompts.forEach((p, i) =>
    out[i]!.forEach((s, j) => {
      assert.equal(s.tokens.length, 7);
      s.tokens.forEach((id, t) => {
        const ref = fullNext([...p, ...s.tokens.slice(0, t)]);
        assert.ok(Math.abs(s.logprobs[t]! - ref[id]!) < 1e-4, `prompt ${i} sample ${j} token ${t}: ${s.logprobs[t]} vs ${ref[id]}`);
        const top = s.topLogprobs![t]!;
        const order = Array.from(ref.keys()).sort((a, b) => ref[b]! - ref[a]!);
        assert.deepEqual(
          top.map((x) => x.id),
          order.slice(0, 3),
        );
        top.forEach((x) => assert.ok(Math.abs(x.logprob - ref[x.id]!) < 1e-4));
      });
    }),
  );
  // n samples of one prompt differ (their own streams).
  assert.notDeepEqual(out[0]![0]!.tokens, out[0]![1]!.tokens);
});

test('same seed, same samples; a different seed, different samples', () => {
  const a = generate(model, tok, prompts, { n: 2, maxTokens: 8, seed: 3 });
  const b = generate(model, tok, prompts, { n: 2, maxTokens: 8, seed: 3 });
  const c = generate(model, tok, prompts, { n: 2, maxTokens: 8, seed: 4 });
  const toks = (g: GeneratedSample[][]): number[][][] => g.map((ss) => ss.map((s) => s.tokens));
  assert.deepEqual(toks(a), toks(b));
  assert.notDeepEqual(toks(a), toks(c));
});

test('top-k = 1 equals greedy', () => {
  const g = generate(model, tok, prompts, { temperature: 0, maxTokens: 6 });
  const k1 = generate(model, tok, prompts, { temperature: 1, topK: 1, maxTokens: 6, seed: 9 });
  assert.deepEqual(
    k1.map((x) => x[0]!.tokens),
    g.map((x) => x[0]!.tokens),
  );
});

test('rows finishing early do not change the others: batched equals one prompt at a time, any chunking or prefill', () => {
  // Stopping on ~1 id in 9 makes rows end at different steps, so the batch shrinks mid-run.
  const stopTokens = Array.from({ length: 29 }, (_, i) => 40 + i * 7);
  const opts = { n: 3, temperature: 1, maxTokens: 12, seed: 21, stopTokens };
  const batched = generate(model, tok, prompts, opts);
  const lengths = new Set(batched.flat().map((s) => s.tokens.length));
  assert.ok(lengths.size >= 3, `rows should finish at different steps, got lengths ${[...lengths]}`);
  const variants = [...prompts.map((p) => generate(model, tok, [p], opts)[0]!)];
  const chunked = generate(model, tok, prompts, { ...opts, maxBatchRows: 2 });
  const each = generate(model, tok, prompts, { ...opts, prefill: 'each' });
  const reordered = generate(model, tok, [prompts[2]!, prompts[0]!, prompts[1]!], opts);
  prompts.forEach((_, i) => {
    const want = batched[i]!.map((s) => s.tokens);
    assert.deepEqual(
      variants[i]!.map((s) => s.tokens),
      want,
      `prompt ${i} alone`,
    );
    assert.deepEqual(
      chunked[i]!.map((s) => s.tokens),
      want,
      `prompt ${i} chunked`,
    );
    assert.deepEqual(
      each[i]!.map((s) => s.tokens),
      want,
      `prompt ${i} prefill each`,
    );
    assert.deepEqual(
      reordered[(i + 1) % 3]!.map((s) => s.tokens),
      want,
      `prompt ${i} reordered`,
    );
    batched[i]!.forEach((s, j) => {
      const alone = variants[i]![j]!;
      s.logprobs.forEach((lp, t) => assert.ok(Math.abs(lp - alone.logprobs[t]!) < 1e-4));
      // A stop token ends the row, is kept in tokens, not in the text.
      if (s.finishReason === 'stop') {
        assert.ok(stopTokens.includes(s.tokens.at(-1)!));
        assert.equal(s.stop, s.tokens.at(-1));
        assert.equal(s.text, tok.decode(s.tokens.slice(0, -1)));
      } else {
        assert.equal(s.tokens.length, 12);
        assert.equal(s.text, tok.decode(s.tokens));
      }
    });
  });
});

test("a half-precision KV cache ('f16'): greedy tokens of the full forward, logprobs within 2e-3; every prefill and chunking path", () => {
  // Spread-out logits (the head above): argmax gaps far above f16's rounding of keys and values.
  for (const opts of [{}, { prefill: 'each' as const }, { maxBatchRows: 2 }]) {
    const half = generate(model, tok, prompts, { n: 2, temperature: 0, maxTokens: 6, stopTokens: [], kvCache: 'f16', ...opts });
    prompts.forEach((p, i) => {
      const seq = [...p];
      for (let t = 0; t < 6; t++) {
        const want = fullNext(seq);
        for (const s of half[i]!) assert.equal(s.tokens[t], argmax(want), `prompt ${i} token ${t} ${JSON.stringify(opts)}`);
        for (const s of half[i]!)
          assert.ok(Math.abs(s.logprobs[t]! - want[argmax(want)]!) < 2e-3, `logprob ${s.logprobs[t]} vs ${want[argmax(want)]}`);
        seq.push(argmax(want));
      }
    });
  }
  assert.throws(() => generate(model, tok, prompts, { kvCache: 'f8' as never }), /kvCache must be 'f16' or 'f32'/);
});

test('stop strings cut the text before the match; finish reasons stop and length', () => {
  const free = generate(model, tok, [prompts[0]!], { temperature: 0, maxTokens: 10, stopTokens: [] })[0]![0]!;
  assert.equal(free.finishReason, 'length');
  const text = tok.decode(free.tokens);
  // A stop string taken from the middle of the free-running text (skipping U+FFFD pieces).
  let at = 3;
  while (text.slice(at, at + 2).includes('\ufffd') || text.slice(at, at + 2).length < 2) at++;
  const stop = text.slice(at, at + 2);
  const cutAt = text.indexOf(stop);
  const s = generate(model, tok, [prompts[0]!], { temperature: 0, maxTokens: 10, stop: ['never-there', stop], stopTokens: [] })[0]![0]!;
  assert.equal(s.finishReason, 'stop');
  assert.equal(s.stop, stop);
  assert.equal(s.text, text.slice(0, cutAt));
  // Generation ended at the token that completed the stop string: a prefix of the free run, and
  // one token fewer would not contain it.
  assert.deepEqual(s.tokens, free.tokens.slice(0, s.tokens.length));
  assert.ok(tok.decode(s.tokens).includes(stop));
  assert.ok(!tok.decode(s.tokens.slice(0, -1)).includes(stop));
});

test('context end: finish "length" at maxSeqLen; a short prompt beside a long one runs to its own end', () => {
  const long = [tok.eotId, ...Array.from({ length: 19 }, (_, i) => 60 + i)]; // 20 of 24 positions
  const short = [tok.eotId, 90];
  const opts = { temperature: 0, maxTokens: 30, stopTokens: [] };
  const [l, s] = generate(model, tok, [long, short], opts);
  assert.equal(l![0]!.tokens.length, 4);
  assert.equal(l![0]!.finishReason, 'length');
  assert.equal(s![0]!.tokens.length, 22);
  assert.deepEqual(s![0]!.tokens, generate(model, tok, [short], opts)[0]![0]!.tokens);
  assert.deepEqual(generate(model, tok, [[...long, 1, 2, 3, 4]], opts)[0]![0]!, {
    tokens: [],
    logprobs: [],
    text: '',
    finishReason: 'length',
    stop: null,
  });
  assert.throws(
    () => generate(model, tok, [[...long, ...long]], opts),
    /prompt 0 has 40 tokens, longer than the model's context \(maxSeqLen 24\)/,
  );
  assert.throws(() => generate(model, tok, [[]], opts), /prompt 0 is empty/);
  assert.throws(() => generate(model, tok, [[tok.eotId, 999]], opts), /token 999 at position 1, outside the vocabulary/);
  assert.throws(() => generate(model, tok, [short], { topP: 0 }), /topP must be in \(0, 1\]/);
});

test('maxTokens 0 and an aborted signal', () => {
  const [g] = generate(model, tok, [prompts[0]!], { maxTokens: 0 });
  assert.equal(g![0]!.tokens.length, 0);
  const ac = new AbortController();
  ac.abort(new Error('stop now'));
  assert.throws(() => generate(model, tok, prompts, { signal: ac.signal }), /stop now/);
});

test('cancelled(prompt): that prompt’s rows stop at the next step with what they had; the others are as without it', () => {
  const opts = { n: 2, temperature: 1, seed: 3, maxTokens: 12, stopTokens: [] };
  const full = generate(model, tok, prompts, opts);
  let asked = 0;
  // Prompt 1 is cancelled once its rows have been asked about 6 times (3 decode steps of 2 rows).
  const cut = generate(model, tok, prompts, { ...opts, cancelled: (p) => p === 1 && ++asked > 6 });
  for (const p of [0, 2]) assert.deepEqual(cut[p], full[p], `prompt ${p} is unchanged`);
  for (const [i, s] of cut[1]!.entries()) {
    assert.ok(s.tokens.length < full[1]![i]!.tokens.length, `sample ${i} stopped early (${s.tokens.length} tokens)`);
    assert.deepEqual(s.tokens, full[1]![i]!.tokens.slice(0, s.tokens.length), 'what it had is the uncancelled run’s beginning');
    assert.equal(s.finishReason, 'length');
  }
  // Cancelled before its chunk starts: no tokens at all.
  const none = generate(model, tok, prompts, { ...opts, cancelled: (p) => p === 0 });
  assert.ok(none[0]!.every((s) => s.tokens.length === 0));
  assert.deepEqual(none[2], full[2]);
});

test('onTokens: one call per decode step with each live row’s token; per row they are the sample’s tokens, logprobs and top alternatives, in order', () => {
  const base = { n: 2, temperature: 1, seed: 9, maxTokens: 9, topLogprobs: 2, maxBatchRows: 4 };
  // A stop token the free run draws, so some rows end on one.
  const stopId = generate(model, tok, prompts, { ...base, stopTokens: [] })[0]![0]!.tokens[2]!;
  const opts = { ...base, stopTokens: [stopId] };
  const plain = generate(model, tok, prompts, opts);
  const steps: { prompt: number; sample: number; id: number; logprob: number; top?: { id: number }[]; stop: boolean }[][] = [];
  const out = generate(model, tok, prompts, { ...opts, onTokens: (t) => void steps.push([...t]) });
  assert.deepEqual(out, plain, 'the callback changes nothing');
  // 6 rows in chunks of at most 4: each step carries at most one token per row, never a row twice.
  for (const st of steps) {
    assert.ok(st.length >= 1 && st.length <= 4);
    assert.equal(new Set(st.map((t) => `${t.prompt}/${t.sample}`)).size, st.length);
  }
  prompts.forEach((_, p) =>
    out[p]!.forEach((s, i) => {
      const mine = steps.flat().filter((t) => t.prompt === p && t.sample === i);
      assert.deepEqual(
        mine.map((t) => t.id),
        s.tokens,
        `prompt ${p} sample ${i}`,
      );
      assert.deepEqual(
        mine.map((t) => t.logprob),
        s.logprobs,
      );
      assert.deepEqual(
        mine.map((t) => t.top!.map((a) => a.id)),
        s.topLogprobs!.map((alts) => alts.map((a) => a.id)),
      );
      assert.deepEqual(
        mine.map((t) => t.stop),
        s.tokens.map((id) => id === stopId),
      );
    }),
  );
  assert.ok(
    steps.flat().some((t) => t.stop),
    'some row ended on the stop token',
  );
  const longest = Math.max(...out.flat().map((s) => s.tokens.length));
  assert.ok(steps.length >= longest, `${steps.length} steps for a longest row of ${longest} tokens`);
});
