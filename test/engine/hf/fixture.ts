// A tiny random Llama/Qwen2 (GQA, optional biases and RoPE scaling) with genrm's byte-level
// tokenizer, for the Hugging Face layout tests. Every weight is random (norms and biases too), so
// a mix-up of any two tensors or conventions changes the logits.
import { Llama } from '../../../src/engine/model/llama.js';
import type { ModelConfig } from '../../../src/engine/model/config.js';
import { Prng } from '../../../src/engine/prng.js';
import { Tokenizer, toTokenizerJson } from '../../../src/engine/tokenizer/index.js';
import { forwardCached } from '../../../src/engine/model/infer.js';
import { KvCache } from '../../../src/engine/model/kv-cache.js';

export const TOK = Tokenizer.byteLevel();

export function tinyConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    vocabSize: TOK.vocabSize,
    dModel: 16,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    ffnHidden: 24,
    maxSeqLen: 32,
    ropeTheta: 10000,
    normEps: 1e-5,
    tieEmbeddings: false,
    ...over,
  };
}

export function randomModel(config: ModelConfig, seed = 7): Llama {
  const m = new Llama(config, { seed });
  const rng = new Prng(seed + 100);
  for (const [name, t] of m.params) {
    const norm = name.endsWith('layernorm.weight') || name === 'model.norm.weight';
    for (let i = 0; i < t.size; i++) t.data[i] = norm ? 1 + 0.3 * rng.normal() : 0.3 * rng.normal();
  }
  return m;
}

export const tokenizerJson = (): Record<string, unknown> => toTokenizerJson(TOK);

/** Logits at every position of one sequence through the cached inference path: (T, vocab). */
export function allLogits(m: Llama, ids: number[]): Float32Array {
  const cache = new KvCache(m.config, 1, ids.length);
  return forwardCached(m, cache, Int32Array.from(ids), ids.length, { logitsFor: 'all' });
}
