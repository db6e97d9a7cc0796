// Inference forward with a KV cache: straight kernel calls, no tape (nothing here needs
// gradients), K/V projections written by matmul directly into the cache (no copies).
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

export interface CachedForwardOptions {
  /** (batch*tq), 1 = real token, 0 = padding. Default: all real. */
  valid?: Uint8Array;
  /** Which positions get logits: the last of each row (default), or all. */
  logitsFor?: 'last' | 'all';
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
  if (tk > cache.capacity) throw new ShapeError('forwardCached', `cache full: ${past} filled + ${tq} new exceeds capacity ${cache.capacity}`);
  if (opts.valid && opts.valid.length !== rows) throw new ShapeError('forwardCached', `valid has length ${opts.valid.length}, expected ${rows}`);
  if (P > 0 && tq !== 1) throw new ShapeError('forwardCached', `a cache with a shared prefix takes one token per row per call (decoding), got tq ${tq}`);

  // Positions and key mask for the new tokens; the attention kernel wants a (B, tk) mask.
  const positions = new Int32Array(rows);
  const mask = new Uint8Array(B * tk);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < tq; i++) {
      const real = opts.valid ? opts.valid[b * tq + i]! : 1;
      cache.keyMask[b * own + past - P + i] = real ? 1 : 0;
      positions[b * tq + i] = real ? cache.nextPos[b]!++ : 0;
      if (positions[b * tq + i]! >= c.maxSeqLen) throw new ShapeError('forwardCached', `row ${b} reached position ${positions[b * tq + i]}, beyond maxSeqLen ${c.maxSeqLen}`);
    }
  }
  for (let b = 0; b < B; b++) cache.rowMask(b, mask, b * tk, tk);

  const x = new Float32Array(rows * d); // (B*tq, d) residual stream
  const h = new Float32Array(rows * d);
  const inv = new Float32Array(rows);
  const q = new Float32Array(rows * qDim);
  const att = new Float32Array(rows * qDim);
  const proj = new Float32Array(rows * d);
  const gate = new Float32Array(rows * c.ffnHidden);
  const up = new Float32Array(rows * c.ffnHidden);
  K.embeddingForward(model.embed.data, ids, x, rows, d, c.vocabSize);

  model.layers.forEach((l, li) => {
    const kc = cache.k[li]!;
    const vc = cache.v[li]!;
    K.rmsnormForward(x, l.inputNorm.data, h, inv, rows, d, c.normEps);
    K.matmul({ a: h, b: l.q.data, c: q, m: rows, n: qDim, k: d, transB: true });
    // New K/V rows go straight into the cache at columns past..past+tq of each sequence (own
    // columns past-P.., P = 0 without a shared prefix).
    // Decoding (tq = 1): one (B, kvDim) product whose output rows are own*kvDim apart (ldc), not
    // B products of one row each (those ran at gemv speed: the largest cost of a decode step).
    const kv =
      tq === 1
        ? { a: h, m: B, n: kvDim, k: d, transB: true, ldc: own * kvDim, offsetC: (past - P) * kvDim }
        : { a: h, m: tq, n: kvDim, k: d, transB: true, batch: B, strideA: tq * d, strideB: 0, strideC: own * kvDim, offsetC: (past - P) * kvDim };
    K.matmul({ ...kv, b: l.k.data, c: kc });
    K.matmul({ ...kv, b: l.v.data, c: vc });
    if (l.qBias) addBiasRows(q, l.qBias.data, q, rows, qDim);
    for (let b = 0; b < B && l.kBias; b++) {
      const o = (b * own + past - P) * kvDim; // this row's new cache columns
      addBiasRows(kc.subarray(o, o + tq * kvDim), l.kBias.data, kc.subarray(o, o + tq * kvDim), tq, kvDim);
      if (l.vBias) addBiasRows(vc.subarray(o, o + tq * kvDim), l.vBias.data, vc.subarray(o, o + tq * kvDim), tq, kvDim);
    }
    K.rope(q, positions, model.rope.cos, model.rope.sin, rows, c.nHeads, hd, false);
    for (let b = 0; b < B; b++) {
      const o = (b * own + past - P) * kvDim;
      K.rope(kc.subarray(o, o + tq * kvDim), positions.subarray(b * tq, (b + 1) * tq), model.rope.cos, model.rope.sin, tq, c.nKvHeads, hd, false);
    }
    const prefix = cache.prefix ? { k: cache.prefix.k[li]!, v: cache.prefix.v[li]!, len: P, batchStride: cache.prefix.batchStride, rows: cache.prefix.rows } : undefined;
    K.attentionForward({ q, k: kc, v: vc, out: att, batch: B, tq, tk, heads: c.nHeads, kvHeads: c.nKvHeads, headDim: hd, pastLen: past, scale: 1 / Math.sqrt(hd), kvBatchStride: own * kvDim, keyMask: mask, ...(prefix ? { prefix } : {}) });
    K.matmul({ a: att, b: l.o.data, c: proj, m: rows, n: d, k: qDim, transB: true });
    K.add(x, proj, x, rows * d);
    K.rmsnormForward(x, l.postNorm.data, h, inv, rows, d, c.normEps);
    K.matmul({ a: h, b: l.gate.data, c: gate, m: rows, n: c.ffnHidden, k: d, transB: true });
    K.matmul({ a: h, b: l.up.data, c: up, m: rows, n: c.ffnHidden, k: d, transB: true });
    K.swigluForward(gate, up, gate, rows * c.ffnHidden);
    K.matmul({ a: gate, b: l.down.data, c: proj, m: rows, n: d, k: c.ffnHidden, transB: true });
    K.add(x, proj, x, rows * d);
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
  K.matmul({ a: hn, b: model.head.data, c: logits, m: nOut, n: c.vocabSize, k: d, transB: true });
  return logits;
}
