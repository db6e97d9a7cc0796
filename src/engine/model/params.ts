// Parameter names, shapes and deterministic initialisation for a Llama-style decoder, in
// Hugging Face's naming (so checkpoints map one to one onto LlamaForCausalLM's safetensors).
import { Prng } from '../prng.js';
import { Tensor } from '../tensor.js';
import type { ModelConfig } from './config.js';

/** Std of the normal init for embeddings and Linear weights: HF Llama's initializer_range. */
export const INIT_STD = 0.02;

export interface LayerParams {
  inputNorm: Tensor; // (d)
  q: Tensor; // (nHeads*headDim, d)
  k: Tensor; // (nKvHeads*headDim, d)
  v: Tensor; // (nKvHeads*headDim, d)
  o: Tensor; // (d, nHeads*headDim)
  postNorm: Tensor; // (d)
  gate: Tensor; // (ffn, d)
  up: Tensor; // (ffn, d)
  down: Tensor; // (d, ffn)
  /** Present only when config.attentionBias: (nHeads*headDim), (nKvHeads*headDim) x2. */
  qBias?: Tensor;
  kBias?: Tensor;
  vBias?: Tensor;
}

/** Checks a config and returns headDim; throws naming the field. */
export function validateConfig(c: ModelConfig): number {
  const pos = (name: keyof ModelConfig): void => {
    const v = c[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
      throw new Error(`ModelConfig.${name} must be a positive integer, got ${String(v)}`);
  };
  (['vocabSize', 'dModel', 'nLayers', 'nHeads', 'nKvHeads', 'ffnHidden', 'maxSeqLen'] as const).forEach(pos);
  if (c.dModel % c.nHeads !== 0) throw new Error(`ModelConfig.dModel ${c.dModel} must be divisible by nHeads ${c.nHeads}`);
  if (c.nHeads % c.nKvHeads !== 0) throw new Error(`ModelConfig.nHeads ${c.nHeads} must be a multiple of nKvHeads ${c.nKvHeads}`);
  const hd = c.dModel / c.nHeads;
  if (hd % 2 !== 0) throw new Error(`ModelConfig: headDim ${hd} (dModel / nHeads) must be even for rotary embeddings`);
  if (!(c.normEps > 0)) throw new Error(`ModelConfig.normEps must be > 0, got ${c.normEps}`);
  if (!(c.ropeTheta > 0)) throw new Error(`ModelConfig.ropeTheta must be > 0, got ${c.ropeTheta}`);
  return hd;
}

/** N(0, INIT_STD²) entries; with rng null, zeros (weights that a checkpoint overwrites next). */
function normal(rng: Prng | null, shape: number[], name: string): Tensor {
  const t = Tensor.zeros(shape, { requiresGrad: true, name });
  if (rng === null) return t;
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = rng.normal() * INIT_STD;
  return t;
}

function ones(shape: number[], name: string): Tensor {
  const t = Tensor.zeros(shape, { requiresGrad: true, name });
  t.data.fill(1);
  return t;
}

/**
 * Builds every parameter in checkpoint order; the same seed gives the same weights. Seed null:
 * no random draws (zeros, norms at one), for a model whose weights are loaded next — drawing
 * 3 M normals costs ~0.4 s of every model load.
 */
export function initParams(
  c: ModelConfig,
  seed: number | null,
): { params: Map<string, Tensor>; layers: LayerParams[]; embed: Tensor; norm: Tensor; head: Tensor } {
  const hd = validateConfig(c);
  const rng = seed === null ? null : new Prng(seed);
  const params = new Map<string, Tensor>();
  const add = (t: Tensor): Tensor => (params.set(t.name, t), t);
  const d = c.dModel;
  const qDim = c.nHeads * hd;
  const kvDim = c.nKvHeads * hd;
  const embed = add(normal(rng, [c.vocabSize, d], 'model.embed_tokens.weight'));
  const layers: LayerParams[] = [];
  for (let i = 0; i < c.nLayers; i++) {
    const p = `model.layers.${i}.`;
    layers.push({
      q: add(normal(rng, [qDim, d], `${p}self_attn.q_proj.weight`)),
      k: add(normal(rng, [kvDim, d], `${p}self_attn.k_proj.weight`)),
      v: add(normal(rng, [kvDim, d], `${p}self_attn.v_proj.weight`)),
      o: add(normal(rng, [d, qDim], `${p}self_attn.o_proj.weight`)),
      gate: add(normal(rng, [c.ffnHidden, d], `${p}mlp.gate_proj.weight`)),
      up: add(normal(rng, [c.ffnHidden, d], `${p}mlp.up_proj.weight`)),
      down: add(normal(rng, [d, c.ffnHidden], `${p}mlp.down_proj.weight`)),
      inputNorm: add(ones([d], `${p}input_layernorm.weight`)),
      postNorm: add(ones([d], `${p}post_attention_layernorm.weight`)),
    });
    if (c.attentionBias === true) {
      // HF initialises Linear biases to zero; appended after the weights (order matters only for the optimizer's walk).
      const l = layers[i]!;
      l.qBias = add(Tensor.zeros([qDim], { requiresGrad: true, name: `${p}self_attn.q_proj.bias` }));
      l.kBias = add(Tensor.zeros([kvDim], { requiresGrad: true, name: `${p}self_attn.k_proj.bias` }));
      l.vBias = add(Tensor.zeros([kvDim], { requiresGrad: true, name: `${p}self_attn.v_proj.bias` }));
    }
  }
  const norm = add(ones([d], 'model.norm.weight'));
  const head = c.tieEmbeddings ? embed : add(normal(rng, [c.vocabSize, d], 'lm_head.weight'));
  return { params, layers, embed, norm, head };
}
