// Inference forward with a KV cache: straight kernel calls, no tape (nothing here needs
// gradients); each call's new keys and values are computed for all its rows at once, then copied
// into their sequences' cache columns.
//
//   const cache = new KvCache(model.config, batch);
//   let logits = forwardCached(model, cache, promptIds, promptLen, { valid }); // (batch, vocab)
//   loop: pick next ids (batch) from logits; logits = forwardCached(model, cache, next, 1);
//
// Every call appends tq positions to every row. Left padding: pass `valid` (batch*tq, 0 = pad);
// pad positions are hidden from attention and do not advance the row's RoPE position.
import { kernels } from '../kernels/index.js';
import { ShapeError } from '../autograd/errors.js';
import type { KvCache } from './kv-cache.js';
import type { Llama } from './llama.js';
import { addBiasRows } from './bias.js';
import { PACKED_MIN_ROWS, type PackedLlama } from './packed.js';
import type { PackedWeight } from '../kernels/index.js';
import { DECODE_MAX_QUERIES } from '../kernels/types.js';

export interface CachedForwardOptions {
  /** (batch*tq), 1 = real token, 0 = padding. Default: all real. */
  valid?: Uint8Array;
  /** Which positions get logits: the last of each row (default), or all. */
  logitsFor?: 'last' | 'all';
  /**
   * The model's weights packed by packLlama (packed.ts), for a caller that runs many calls with
   * the same weights (generate): calls of PACKED_MIN_ROWS rows or more use them. They must be this
   * model's current weights.
   */
  packed?: PackedLlama;
}

/**
 * Appends ids (batch*tq, row-major by sequence) to the cache and returns vocabulary logits:
 * (batch, vocab) for 'last', (batch*tq, vocab) for 'all'. Throws when the cache is full.
 */
export function forwardCached(model: Llama, cache: KvCache, ids: Int32Array, tq: number, opts: CachedForwardOptions = {}): Float32Array {
  const K = kernels();
  const c = model.config;
  const B = cache.batch;
  const d = c.dModel;
  const hd = model.headDim;
  const qDim = c.nHeads * hd;
  const kvDim = cache.kvDim;
  const past = cache.length;
  // A forked cache reads its first P columns from the prompts' shared prefix; its own buffers
  // (k, v, keyMask) hold columns P.. at own column = column - P, rows `own` columns apart.
  const P = cache.prefixLen;
  const own = cache.ownCapacity;
  const tk = past + tq;
  const rows = B * tq;
  if (ids.length !== rows) throw new ShapeError('forwardCached', `ids has length ${ids.length}, expected batch ${B} * tq ${tq}`);
  if (tk > cache.capacity)
    throw new ShapeError('forwardCached', `cache full: ${past} filled + ${tq} new exceeds capacity ${cache.capacity}`);
  if (opts.valid && opts.valid.length !== rows)
    throw new ShapeError('forwardCached', `valid has length ${opts.valid.length}, expected ${rows}`);
  if (P > 0 && tq !== 1)
    throw new ShapeError('forwardCached', `a cache with a shared prefix takes one token per row per call (decoding), got tq ${tq}`);

  // Positions and key mask for the new tokens; the attention kernel wants a (B, tk) mask.
  const positions = new Int32Array(rows);
  const mask = new Uint8Array(B * tk);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < tq; i++) {
      const real = opts.valid ? opts.valid[b * tq + i]! : 1;
      cache.keyMask[b * own + past - P + i] = real ? 1 : 0;
      positions[b * tq + i] = real ? cache.nextPos[b]!++ : 0;
      if (positions[b * tq + i]! >= c.maxSeqLen)
        throw new ShapeError('forwardCached', `row ${b} reached position ${positions[b * tq + i]}, beyond maxSeqLen ${c.maxSeqLen}`);
    }
  }
  for (let b = 0; b < B; b++) cache.rowMask(b, mask, b * tk, tk);

  const x = new Float32Array(rows * d); // (B*tq, d) residual stream
  const h = new Float32Array(rows * d);
  const inv = new Float32Array(rows);
  const q = new Float32Array(rows * qDim);
  const kNew = new Float32Array(rows * kvDim); // this call's keys and values, before the cache
  const vNew = new Float32Array(rows * kvDim);
  const att = new Float32Array(rows * qDim);
  const out = new Float32Array(rows * d); // a block's output before the residual add
  const gate = new Float32Array(rows * c.ffnHidden);
  const up = new Float32Array(rows * c.ffnHidden);
  K.embeddingForward(model.embed.data, ids, x, rows, d, c.vocabSize);
  // out (m, n) = a (m, k) @ W^T, through W's packed copy when the call has rows enough for it.
  const packed = opts.packed?.backend === K.info().backend ? opts.packed : undefined;
  // Packed weights from PACKED_MIN_ROWS rows; half panels (an F16 checkpoint) at any row count:
  // below that a step streams its weights from memory, and halves are half the bytes.
  const viaPacked = (pw: PackedWeight | undefined, m: number): pw is PackedWeight =>
    pw !== undefined && (m >= PACKED_MIN_ROWS || pw.data instanceof Uint16Array);
  const linear = (
    a: Float32Array,
    w: Float32Array,
    pw: PackedWeight | undefined,
    out: Float32Array,
    m: number,
    n: number,
    k: number,
  ): void => {
    if (viaPacked(pw, m)) K.matmulPacked(a, pw, out, m);
    else K.matmul({ a, b: w, c: out, m, n, k, transB: true });
  };

  // x @ W^T (+ bias): the same projection Llama.hidden's `proj` is, on the kernels directly.
  const proj = (
    a: Float32Array,
    w: Float32Array,
    bias: Float32Array | undefined,
    pw: PackedWeight | undefined,
    out: Float32Array,
    m: number,
    n: number,
    k: number,
  ): void => {
    linear(a, w, pw, out, m, n, k);
    if (bias) addBiasRows(out, bias, out, m, n);
  };
  const attend = (li: number): void => {
    const kc = cache.k[li]!;
    const vc = cache.v[li]!;
    // Sequence b's tq new rows (one block) go to its cache columns past - P .. (own columns).
    K.copyRows(kNew, kc, B, tq * kvDim, tq * kvDim, (past - P) * kvDim, own * kvDim);
    K.copyRows(vNew, vc, B, tq * kvDim, tq * kvDim, (past - P) * kvDim, own * kvDim);
    const prefix = cache.prefix
      ? { k: cache.prefix.k[li]!, v: cache.prefix.v[li]!, len: P, batchStride: cache.prefix.batchStride, rows: cache.prefix.rows }
      : undefined;
    const args = {
      q,
      out: att,
      batch: B,
      tq,
      tk,
      heads: c.nHeads,
      kvHeads: c.nKvHeads,
      headDim: hd,
      pastLen: past,
      scale: 1 / Math.sqrt(hd),
      keyMask: mask,
    };
    if (cache.dtype === 'f32' || tq <= DECODE_MAX_QUERIES) {
      K.attentionForward({ ...args, k: kc, v: vc, kvBatchStride: own * kvDim, ...(prefix ? { prefix } : {}) });
    } else if (past === 0) {
      // A half cache's prefill: this call's keys are all the keys; attend over their float32 values.
      K.attentionForward({ ...args, k: kNew, v: vNew, kvBatchStride: tq * kvDim });
    } else {
      // Several queries after a filled half cache (no prefix: checked above): float32 copies.
      const kf = new Float32Array(B * tk * kvDim),
        vf = new Float32Array(B * tk * kvDim);
      K.copyRows(kc, kf, B, tk * kvDim, own * kvDim, 0, tk * kvDim);
      K.copyRows(vc, vf, B, tk * kvDim, own * kvDim, 0, tk * kvDim);
      K.attentionForward({ ...args, k: kf, v: vf, kvBatchStride: tk * kvDim });
    }
  };

  // The blocks of Llama.hidden, in its order and names.
  model.layers.forEach((l, li) => {
    const pl = packed?.layers[li];
    // h = rmsnorm(x)
    K.rmsnormForward(x, l.inputNorm.data, h, inv, rows, d, c.normEps);
    // q = rope(proj(q)), k = rope(proj(k)), v = proj(v): each one product over every row of the
    // call (OpenBLAS packs the weight on every call), then copied per sequence into the cache.
    proj(h, l.q.data, l.qBias?.data, pl?.q, q, rows, qDim, d);
    proj(h, l.k.data, l.kBias?.data, pl?.k, kNew, rows, kvDim, d);
    proj(h, l.v.data, l.vBias?.data, pl?.v, vNew, rows, kvDim, d);
    K.rope(q, positions, model.rope.cos, model.rope.sin, rows, c.nHeads, hd, false);
    K.rope(kNew, positions, model.rope.cos, model.rope.sin, rows, c.nKvHeads, hd, false);
    // a = causalAttention(q, k, v) over the cache
    attend(li);
    // x = x + o(a)
    linear(att, l.o.data, pl?.o, out, rows, d, qDim);
    K.add(x, out, x, rows * d);
    // h2 = rmsnorm(x); m = swiglu(gate(h2), up(h2)); x = x + down(m)
    K.rmsnormForward(x, l.postNorm.data, h, inv, rows, d, c.normEps);
    linear(h, l.gate.data, pl?.gate, gate, rows, c.ffnHidden, d);
    linear(h, l.up.data, pl?.up, up, rows, c.ffnHidden, d);
    K.swigluForward(gate, up, gate, rows * c.ffnHidden);
    linear(gate, l.down.data, pl?.down, out, rows, d, c.ffnHidden);
    K.add(x, out, x, rows * d);
  });
  cache.length = tk;

  // Only the rows asked for go through the final norm and the (vocab-wide) head.
  let sel = x;
  let nOut = rows;
  if ((opts.logitsFor ?? 'last') === 'last') {
    nOut = B;
    sel = new Float32Array(B * d);
    const last = Int32Array.from({ length: B }, (_, b) => b * tq + tq - 1);
    K.embeddingForward(x, last, sel, B, d, rows); // row gather
  }
  const hn = new Float32Array(nOut * d);
  K.rmsnormForward(sel, model.norm.data, hn, new Float32Array(nOut), nOut, d, c.normEps);
  const logits = new Float32Array(nOut * c.vocabSize);
  linear(hn, model.head.data, packed?.head, logits, nOut, c.vocabSize, d);
  return logits;
}
