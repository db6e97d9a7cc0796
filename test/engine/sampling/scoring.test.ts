// Scoring against one-position-at-a-time references: continuation log-likelihoods, next-token
// and candidate logprobs, chunking invariance, and errors for over-long input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Llama } from '../../../src/engine/model/index.js';
import type { ModelConfig } from '../../../src/engine/model/config.js';
import { noGrad } from '../../../src/engine/autograd/index.js';
import { kernels } from '../../../src/engine/kernels/index.js';
import { candidateLogprobs, continuationLogprobs, nextTokenLogprobs } from '../../../src/engine/sampling/index.js';

const cfg: ModelConfig = {
  vocabSize: 40,
  dModel: 16,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  ffnHidden: 24,
  maxSeqLen: 16,
  ropeTheta: 10000,
  normEps: 1e-5,
  tieEmbeddings: false,
};
const model = new Llama(cfg, { seed: 8 });
for (const x of model.head.data.keys()) model.head.data[x]! *= 20;

/** Reference: log-softmax after `seq`, from a full forward of exactly that sequence (batch 1). */
function ref(seq: readonly number[]): Float32Array {
  const V = cfg.vocabSize;
  const logits = noGrad(() => model.logits(model.hidden(Int32Array.from(seq), 1, seq.length)).data);
  const last = logits.slice((seq.length - 1) * V, seq.length * V);
  kernels().logSoftmax(last, last, 1, V);
  return last;
}

const items = [
  { prompt: [1, 2, 3], continuation: [4, 5] },
  { prompt: [7], continuation: [8, 9, 10, 11, 12, 13] },
  { prompt: [1, 2, 3, 4, 5, 6, 7, 8, 9], continuation: [30] },
  { prompt: [3, 3], continuation: [] },
];

test("a continuation's log-likelihood equals the sum over its tokens computed one position at a time", () => {
  const got = continuationLogprobs(model, items);
  items.forEach((it, i) => {
    const per = it.continuation.map((id, t) => ref([...it.prompt, ...it.continuation.slice(0, t)])[id]!);
    assert.equal(got[i]!.tokens.length, per.length);
    per.forEach((w, t) => assert.ok(Math.abs(got[i]!.tokens[t]! - w) < 1e-4, `item ${i} token ${t}: ${got[i]!.tokens[t]} vs ${w}`));
    assert.ok(Math.abs(got[i]!.total - per.reduce((a, b) => a + b, 0)) < 1e-3);
  });
  assert.equal(got[3]!.total, 0);
  // Chunking (one item per forward) changes nothing.
  const small = continuationLogprobs(model, items, { maxBatchTokens: 1 });
  small.forEach((s, i) => assert.ok(Math.abs(s.total - got[i]!.total) < 1e-4));
});

test('next-token and candidate logprobs equal the full-forward distribution at the end of each prompt', () => {
  const prompts = items.map((it) => it.prompt);
  const lsm = nextTokenLogprobs(model, prompts);
  prompts.forEach((p, i) => {
    const r = ref(p);
    for (let v = 0; v < cfg.vocabSize; v++) assert.ok(Math.abs(lsm[i]![v]! - r[v]!) < 1e-4, `prompt ${i} id ${v}`);
  });
  const single = candidateLogprobs(model, prompts, [[5], [6]], { maxBatchTokens: 10 });
  prompts.forEach((p, i) => {
    assert.ok(Math.abs(single[i]![0]! - ref(p)[5]!) < 1e-4);
    assert.ok(Math.abs(single[i]![1]! - ref(p)[6]!) < 1e-4);
  });
  // Multi-token candidates: the teacher-forced total.
  const multi = candidateLogprobs(model, prompts, [[5, 6], [6]]);
  prompts.forEach((p, i) => {
    assert.ok(Math.abs(multi[i]![0]! - (ref(p)[5]! + ref([...p, 5])[6]!)) < 1e-4);
    assert.ok(Math.abs(multi[i]![1]! - ref(p)[6]!) < 1e-4);
  });
});

test('bad input: errors name the item and the context limit', () => {
  assert.throws(
    () => continuationLogprobs(model, [{ prompt: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], continuation: [1, 2, 3, 4, 5, 6, 7] }]),
    /item 0 has 10 prompt \+ 7 continuation tokens = 17, longer than the model's context \(maxSeqLen 16\)/,
  );
  assert.throws(() => continuationLogprobs(model, [{ prompt: [], continuation: [1] }]), /prompt 0 is empty/);
  assert.throws(() => nextTokenLogprobs(model, [new Array<number>(17).fill(1)]), /maxSeqLen 16/);
  assert.throws(() => candidateLogprobs(model, [[1]], [[41]]), /candidate 0 has token 41/);
});
