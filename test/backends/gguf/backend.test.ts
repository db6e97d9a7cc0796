// A genrm model exported to GGUF and run by llama.cpp (node-llama-cpp) against the engine on the
// same weights. Skipped, with the reason, where node-llama-cpp cannot load.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EmbeddedBackend } from '../../../src/backends/embedded/index.js';
import { GgufBackend, nodeLlamaCpp } from '../../../src/backends/gguf/index.js';
import { writeLlamaGguf } from '../../../src/engine/gguf.js';
import { randomModel, tinyConfig, TOK } from '../../engine/hf/fixture.js';

let skip: string | false = false;
try {
  await nodeLlamaCpp();
} catch (e) {
  skip = (e as Error).message;
}

// fp32 weights both sides, but llama.cpp keeps its KV cache in f16 by default and sums in another
// order, so log-probs agree to a few 1e-3, not bitwise (measured here: up to ~4e-3).
const TOL = 1e-2;

describe('gguf backend (llama.cpp) vs the engine on the same weights', { skip }, () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-gguf-be-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const cfg = tinyConfig({ dModel: 32, maxSeqLen: 64 });
  const model = randomModel(cfg, 5);
  for (const t of model.params.values()) if (!t.name.includes('norm')) for (let i = 0; i < t.size; i++) t.data[i]! *= 0.6;
  const path = join(root, 'm.gguf');
  writeLlamaGguf(path, cfg, model.params, TOK);
  model.freeze();
  const engine = new EmbeddedBackend(model, TOK);
  let gguf: GgufBackend;
  after(async () => gguf?.dispose());
  const prompts = ['hello world', 'The answer is 42.', 'abc'];

  it('loads and tokenizes the prompt as the engine does (BOS = end of text, then bytes)', async () => {
    // One thread: llama.cpp's worker threads spin-wait, which crawls on a shared, busy 2-core machine.
    gguf = await GgufBackend.load(path, { sequences: 3, contextSize: 64, threads: 1 });
    for (const p of prompts) assert.deepEqual(gguf.encode(p).map(Number), engine.encode(p));
  });

  it('next-token log-probabilities of candidates agree within 1e-2', async () => {
    const cands = ['a', ' ', 'e', '!', 'Z'];
    const [a, b] = await Promise.all([engine.candidateLogprobs(prompts, cands), gguf.candidateLogprobs(prompts, cands)]);
    for (let i = 0; i < prompts.length; i++)
      for (let j = 0; j < cands.length; j++)
        assert.ok(
          Math.abs(a[i]![j]!.logprob - b[i]![j]!.logprob) < TOL,
          `prompt ${i} cand ${j}: engine ${a[i]![j]!.logprob} llama.cpp ${b[i]![j]!.logprob}`,
        );
  });

  it('continuation log-likelihoods agree within 1e-2 per token', async () => {
    const items = prompts.map((prompt) => ({ prompt, continuation: ' is fine' }));
    const [a, b] = await Promise.all([engine.continuationLogprob(items), gguf.continuationLogprob(items)]);
    a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < TOL * 8, `item ${i}: ${x} vs ${b[i]}`));
  });

  it('greedy generation gives the same tokens, with per-token log-probs within 1e-2', async () => {
    const opts = { temperature: 0, maxTokens: 12 };
    const [a, b] = await Promise.all([engine.generate(prompts, opts), gguf.generate(prompts, opts)]);
    for (let i = 0; i < prompts.length; i++) {
      const x = a[i]!.samples[0]!;
      const y = b[i]!.samples[0]!;
      assert.deepEqual(y.tokens, x.tokens, `prompt ${i}`);
      x.logprobs.forEach((lp, t) => assert.ok(Math.abs(lp - y.logprobs[t]!) < TOL, `prompt ${i} token ${t}: ${lp} vs ${y.logprobs[t]}`));
    }
  });

  it('seeded sampling is reproducible and n samples come back', async () => {
    const opts = { temperature: 1, topP: 0.9, maxTokens: 6, n: 2, seed: 3 };
    const [a, b] = [await gguf.generate(['abc'], opts), await gguf.generate(['abc'], opts)];
    assert.equal(a[0]!.samples.length, 2);
    // Same draws; log-probs may differ in the last bits (llama.cpp's batch composition varies).
    a[0]!.samples.forEach((s, i) => {
      assert.deepEqual(s.tokens, b[0]!.samples[i]!.tokens);
      s.logprobs.forEach((lp, t) => assert.ok(Math.abs(lp - b[0]!.samples[i]!.logprobs[t]!) < 1e-4));
    });
    assert.notDeepEqual(a[0]!.samples[0]!.tokens, a[0]!.samples[1]!.tokens); // seed + i differ
  });
});
