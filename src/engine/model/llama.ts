// A Llama-style decoder on the autograd tape: token embedding, pre-RMSNorm blocks with RoPE
// multi-head causal attention (grouped-query) and a SwiGLU MLP, final norm, output head (tied or
// untied). Activations are 2-D, token-major: (B*T, width). Training batches are right-padded
// (targets -1 past the end); causal attention never lets a real token see later padding.
import { Prng } from '../prng.js';
import { Tensor } from '../tensor.js';
import {
  add,
  causalAttention,
  crossEntropy,
  embedding,
  gatherRows,
  linear,
  rmsnorm,
  rope,
  ropeTables,
  swiglu,
  tokenLogprobs,
  type RopeTables,
} from '../autograd/index.js';
import { ShapeError } from '../autograd/errors.js';
import type { ModelConfig } from './config.js';
import { INIT_STD, initParams, type LayerParams } from './params.js';
import { addBias, ropeInvFreq, ropeTablesFrom } from './bias.js';

export class Llama {
  readonly config: ModelConfig;
  readonly headDim: number;
  /**
   * Every parameter by its Hugging Face name, in checkpoint order. Load weights by copying into
   * `.data` (the shapes are fixed by the config); freeze by setting `requiresGrad = false`.
   */
  readonly params: Map<string, Tensor>;
  readonly layers: readonly LayerParams[];
  readonly embed: Tensor;
  readonly norm: Tensor;
  /** The output head: `lm_head.weight`, or the embedding itself when tied. */
  readonly head: Tensor;
  readonly rope: RopeTables;
  /** `score.weight` (numLabels, dModel) once addScoreHead was called. */
  scoreHead: Tensor | null = null;
  private positionsCache = new Map<number, Int32Array>();

  /**
   * A freshly initialised model (HF Llama's init, from `seed`). `empty`: no random draws (zeros,
   * norms at one), for weights copied in next — Llama.fromWeights does that.
   */
  constructor(config: ModelConfig, opts: { seed?: number; empty?: boolean } = {}) {
    this.config = { ...config };
    const p = initParams(config, opts.empty === true ? null : (opts.seed ?? 0));
    this.params = p.params;
    this.layers = p.layers;
    this.embed = p.embed;
    this.norm = p.norm;
    this.head = p.head;
    this.headDim = config.dModel / config.nHeads;
    this.rope = config.ropeScaling
      ? ropeTablesFrom(config.maxSeqLen, this.headDim, ropeInvFreq(this.headDim, config.ropeTheta, config.ropeScaling))
      : ropeTables(config.maxSeqLen, this.headDim, config.ropeTheta);
  }

  /**
   * A model whose every parameter is copied from `weights` (a checkpoint's tensors, by HF name),
   * without drawing a random init first. With `scoreLabels`, a score head too (bt/pairrm). A
   * missing tensor is an error naming it and `where` (the file); shapes were checked by the loader.
   */
  static fromWeights(
    config: ModelConfig,
    weights: ReadonlyMap<string, { data: ArrayLike<number> }>,
    where: string,
    opts: { scoreLabels?: number } = {},
  ): Llama {
    const model = new Llama(config, { empty: true });
    if (opts.scoreLabels !== undefined) model.addScoreHead(opts.scoreLabels);
    for (const [name, t] of model.params) {
      const w = weights.get(name);
      if (w === undefined) throw new Error(`${where}: missing tensor '${name}' (expected shape [${t.shape.join(', ')}])`);
      t.data.set(w.data);
    }
    return model;
  }

  /** Trainable parameters (requiresGrad), in checkpoint order. */
  parameters(): Tensor[] {
    return [...this.params.values()].filter((t) => t.requiresGrad);
  }

  /** Freezes every parameter (a DPO reference model): no gradients, no optimizer state. */
  freeze(): this {
    for (const t of this.params.values()) {
      t.requiresGrad = false;
      t.grad = null;
    }
    return this;
  }

  /**
   * Adds `score.weight` (numLabels, dModel), the scalar head of HF's LlamaForSequenceClassification
   * used by the Bradley–Terry and PairRM baselines; seeded normal init like the other Linears.
   */
  addScoreHead(numLabels: number, seed = 1): Tensor {
    const t = Tensor.zeros([numLabels, this.config.dModel], { requiresGrad: true, name: 'score.weight' });
    const rng = new Prng(seed);
    for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * INIT_STD;
    this.params.set('score.weight', t);
    this.scoreHead = t;
    return t;
  }

  /** Positions 0..T-1 for each of B sequences, (B*T). */
  private positions(batch: number, seqLen: number): Int32Array {
    const key = batch * 100003 + seqLen;
    let p = this.positionsCache.get(key);
    if (!p) {
      p = new Int32Array(batch * seqLen);
      for (let b = 0; b < batch; b++) for (let t = 0; t < seqLen; t++) p[b * seqLen + t] = t;
      this.positionsCache.set(key, p);
    }
    return p;
  }

  /**
   * Final hidden states after the last RMSNorm: ids (B*T) token-major -> (B*T, dModel).
   * The hook for scalar heads: pick rows with `gatherRows` (or `scoreAt`).
   */
  hidden(ids: Int32Array, batch: number, seqLen: number): Tensor {
    const c = this.config;
    if (ids.length !== batch * seqLen)
      throw new ShapeError('model.forward', `ids has length ${ids.length}, expected batch ${batch} * seqLen ${seqLen}`);
    if (seqLen > c.maxSeqLen) throw new ShapeError('model.forward', `seqLen ${seqLen} exceeds maxSeqLen ${c.maxSeqLen}`);
    const pos = this.positions(batch, seqLen);
    const shape = { batch, seqLen, heads: c.nHeads, kvHeads: c.nKvHeads };
    let x = embedding(this.embed, ids); // (B*T, d)
    for (const l of this.layers) {
      const h = rmsnorm(x, l.inputNorm, c.normEps);
      const proj = (w: Tensor, b: Tensor | undefined): Tensor => (b ? addBias(linear(h, w), b) : linear(h, w));
      const q = rope(proj(l.q, l.qBias), pos, this.rope, c.nHeads); // (B*T, nHeads*hd)
      const k = rope(proj(l.k, l.kBias), pos, this.rope, c.nKvHeads); // (B*T, nKvHeads*hd)
      const v = proj(l.v, l.vBias);
      const a = causalAttention(q, k, v, shape); // (B*T, nHeads*hd)
      x = add(x, linear(a, l.o));
      const h2 = rmsnorm(x, l.postNorm, c.normEps);
      const m = swiglu(linear(h2, l.gate), linear(h2, l.up)); // (B*T, ffn)
      x = add(x, linear(m, l.down));
    }
    return rmsnorm(x, this.norm, c.normEps);
  }

  /** Vocabulary logits from hidden states: (N, d) -> (N, vocab). */
  logits(hidden: Tensor): Tensor {
    return linear(hidden, this.head);
  }

  /** Mean next-token cross-entropy; targets (B*T), -1 = ignored. Returns a scalar tensor. */
  loss(ids: Int32Array, targets: Int32Array, batch: number, seqLen: number): Tensor {
    return crossEntropy(this.logits(this.hidden(ids, batch, seqLen)), targets);
  }

  /** log p(targets[r]) per token (B*T); ignored targets (-1) give 0. For DPO and sample scoring. */
  tokenLogprobs(ids: Int32Array, targets: Int32Array, batch: number, seqLen: number): Tensor {
    return tokenLogprobs(this.logits(this.hidden(ids, batch, seqLen)), targets);
  }

  /** The scalar head at given rows (b*T + t) of `hidden`: (R, numLabels). Needs addScoreHead. */
  scoreAt(hidden: Tensor, rows: Int32Array): Tensor {
    if (!this.scoreHead) throw new Error('scoreAt: the model has no score head; call addScoreHead(numLabels) first');
    return linear(gatherRows(hidden, rows), this.scoreHead);
  }
}
