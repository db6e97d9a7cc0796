// The key/value cache for incremental decoding of a batch of sequences.
//
// Per layer, K and V live in (batch, capacity, nKvHeads*headDim) buffers; `length` positions are
// filled, the same count for every row. Rows may start with padding (left-padded prompts, so
// that every row's last prompt token is at the same column): `keyMask` marks real tokens, and
// each row's RoPE positions count only its real tokens (`nextPos`), so a padded row computes
// exactly what it would alone. See `forwardCached` in ./infer.ts for how calls fill it.
//
// Shared prefix. A cache made by `KvCache.fork` holds its first `prefix.len` columns once per
// prompt, not once per row: row b reads them from row `prefix.rows[b]` of the prompts' cache, and
// only the columns after them are its own (k, v and keyMask then hold columns prefix.len ..
// capacity - 1). So n samples of one prompt share one copy of it: forking costs no copy, and
// decoding reads each prompt's keys and values once per step for all its samples, from cache.
//
// Precision. 'f32' keeps keys and values as computed; 'f16' stores them as IEEE half bits
// (Uint16Array), half the memory and half the bytes a decode step reads (decoding at batch 16-256
// is bound by reading the cache: native/attention.cc), at a relative error of at most 2^-11 per
// cached element. Prefill attention uses the call's own float32 keys; decoding reads the halves.
import type { ModelConfig } from './config.js';
import type { KvBuffer } from '../kernels/types.js';

export type KvDtype = 'f32' | 'f16';

/** A zeroed K/V buffer of n elements in the given precision. */
export function kvBuffer(dtype: KvDtype, n: number): KvBuffer {
  return dtype === 'f16' ? new Uint16Array(n) : new Float32Array(n);
}

export interface SharedPrefix {
  /** Per layer, the prompts' keys / values: prompt row r's column j at (r * batchStride + j * kvDim). */
  k: KvBuffer[];
  v: KvBuffer[];
  /** (rows, maskStride): 1 where a prefix column holds a real token. */
  keyMask: Uint8Array;
  maskStride: number;
  /** Columns in the prefix. */
  len: number;
  /** Elements between prompt rows in k / v. */
  batchStride: number;
  /** (batch): the prompt row each batch row reads. */
  rows: Int32Array;
}

export class KvCache {
  batch: number;
  /** Positions each row can hold, prefix included (default the model's maxSeqLen). */
  capacity: number;
  /** nKvHeads * headDim: one cached row's width. */
  readonly kvDim: number;
  /** Stored precision of k and v (and of a shared prefix): see the top of this file. */
  readonly dtype: KvDtype;
  /** Per layer, (batch, ownCapacity, kvDim): each row's own columns (all of them without a prefix). */
  k: KvBuffer[];
  v: KvBuffer[];
  /** (batch, ownCapacity): 1 where an own column holds a real token, 0 for padding / unfilled. */
  keyMask: Uint8Array;
  /** (batch): the RoPE position the row's next real token gets (= real tokens so far). */
  nextPos: Int32Array;
  /** Positions filled so far, prefix included (columns 0..length-1 of every row). */
  length = 0;
  /** The shared prefix, if this cache was forked from prompts' caches. */
  prefix: SharedPrefix | null = null;

  constructor(config: ModelConfig, batch: number, capacity: number = config.maxSeqLen, dtype: KvDtype = 'f32') {
    if (!(batch > 0 && Number.isInteger(batch))) throw new Error(`KvCache: batch must be a positive integer, got ${batch}`);
    if (!(capacity > 0 && capacity <= config.maxSeqLen))
      throw new Error(`KvCache: capacity ${capacity} must be in [1, maxSeqLen ${config.maxSeqLen}]`);
    if (dtype !== 'f32' && dtype !== 'f16') throw new Error(`KvCache: dtype must be 'f32' or 'f16', got ${String(dtype)}`);
    this.batch = batch;
    this.capacity = capacity;
    this.kvDim = config.nKvHeads * (config.dModel / config.nHeads);
    this.dtype = dtype;
    const n = batch * capacity * this.kvDim;
    this.k = Array.from({ length: config.nLayers }, () => kvBuffer(dtype, n));
    this.v = Array.from({ length: config.nLayers }, () => kvBuffer(dtype, n));
    this.keyMask = new Uint8Array(batch * capacity);
    this.nextPos = new Int32Array(batch);
  }

  /** Positions still free. */
  get remaining(): number {
    return this.capacity - this.length;
  }

  /** Columns read from the shared prefix (0 without one). */
  get prefixLen(): number {
    return this.prefix?.len ?? 0;
  }

  /** Columns each row holds itself: capacity - prefixLen. */
  get ownCapacity(): number {
    return this.capacity - this.prefixLen;
  }

  /** Writes row b's key mask over columns 0..cols-1 (default: the filled ones), prefix part included, into out at offset. */
  rowMask(b: number, out: Uint8Array, offset: number, cols: number = this.length): void {
    const P = this.prefixLen;
    if (this.prefix) {
      const r = this.prefix.rows[b]!;
      out.set(this.prefix.keyMask.subarray(r * this.prefix.maskStride, r * this.prefix.maskStride + P), offset);
    }
    const own = this.ownCapacity;
    out.set(this.keyMask.subarray(b * own, b * own + cols - P), offset + P);
  }

  /**
   * A cache of rows.length rows, row i reading row rows[i] of `prompts` (a plain cache of
   * prefilled prompts, every column filled) as its shared prefix, with room for `capacity` -
   * prompts.length columns of its own. No copy of the prompts is made: `prompts` must stay as it
   * is while the fork is used.
   */
  static fork(prompts: KvCache, rows: readonly number[], capacity: number): KvCache {
    if (prompts.prefix) throw new Error('KvCache.fork: the prompts cache has a prefix itself');
    if (capacity < prompts.length) throw new Error(`KvCache.fork: capacity ${capacity} is below the prompts' length ${prompts.length}`);
    for (const r of rows)
      if (!(Number.isInteger(r) && r >= 0 && r < prompts.batch)) throw new Error(`KvCache.fork: row ${r} is outside [0, ${prompts.batch})`);
    const kvDim = prompts.kvDim;
    const own = capacity - prompts.length;
    const out = Object.create(KvCache.prototype) as KvCache;
    Object.assign(out, {
      batch: rows.length,
      capacity,
      kvDim,
      dtype: prompts.dtype,
      k: prompts.k.map(() => kvBuffer(prompts.dtype, rows.length * own * kvDim)),
      v: prompts.v.map(() => kvBuffer(prompts.dtype, rows.length * own * kvDim)),
      keyMask: new Uint8Array(rows.length * own),
      nextPos: Int32Array.from(rows, (r) => prompts.nextPos[r]!),
      length: prompts.length,
      prefix: {
        k: prompts.k,
        v: prompts.v,
        keyMask: prompts.keyMask,
        maskStride: prompts.capacity,
        len: prompts.length,
        batchStride: prompts.capacity * kvDim,
        rows: Int32Array.from(rows),
      },
    });
    return out;
  }

  /**
   * A new cache holding the given rows of this one, in that order (repeats allowed): fork one
   * prompt into n samples, or drop finished sequences. Copies only the filled own columns; a
   * shared prefix stays shared.
   */
  select(rows: readonly number[], capacity: number = this.capacity): KvCache {
    if (capacity < this.length) throw new Error(`KvCache.select: capacity ${capacity} is below the filled length ${this.length}`);
    const out = Object.create(KvCache.prototype) as KvCache;
    const kvDim = this.kvDim;
    const P = this.prefixLen;
    const from = this.ownCapacity;
    const to = capacity - P;
    const filled = this.length - P;
    const copy = (src: KvBuffer): KvBuffer => {
      const dst = kvBuffer(this.dtype, rows.length * to * kvDim);
      rows.forEach((r, i) => {
        if (!(r >= 0 && r < this.batch)) throw new Error(`KvCache.select: row ${r} is outside [0, ${this.batch})`);
        dst.set(src.subarray(r * from * kvDim, (r * from + filled) * kvDim), i * to * kvDim);
      });
      return dst;
    };
    const keyMask = new Uint8Array(rows.length * to);
    rows.forEach((r, i) => keyMask.set(this.keyMask.subarray(r * from, r * from + filled), i * to));
    Object.assign(out, {
      batch: rows.length,
      capacity,
      kvDim,
      dtype: this.dtype,
      k: this.k.map(copy),
      v: this.v.map(copy),
      keyMask,
      nextPos: Int32Array.from(rows, (r) => this.nextPos[r]!),
      length: this.length,
      prefix: this.prefix ? { ...this.prefix, rows: Int32Array.from(rows, (r) => this.prefix!.rows[r]!) } : null,
    });
    return out;
  }

  /**
   * Keeps only the given rows (ascending, no repeats), in place: each kept row's filled own
   * columns move down to its new index inside the same buffers, which keep their size. What
   * generation does when rows finish: select() would allocate (and page in) a new cache each time
   * (~6 % of a 128-row CoT batch's time went to that, measured), this moves what it keeps.
   */
  compact(keep: readonly number[]): void {
    keep.forEach((r, i) => {
      if (!(Number.isInteger(r) && r >= 0 && r < this.batch)) throw new Error(`KvCache.compact: row ${r} is outside [0, ${this.batch})`);
      if (i > 0 && r <= keep[i - 1]!)
        throw new Error(`KvCache.compact: rows must be ascending without repeats, got ${keep[i - 1]} then ${r}`);
    });
    const own = this.ownCapacity;
    const filled = this.length - this.prefixLen;
    const kvDim = this.kvDim;
    keep.forEach((r, i) => {
      if (r === i) return;
      for (const buf of [...this.k, ...this.v]) buf.copyWithin(i * own * kvDim, r * own * kvDim, (r * own + filled) * kvDim);
      this.keyMask.copyWithin(i * own, r * own, r * own + filled);
    });
    this.nextPos = Int32Array.from(keep, (r) => this.nextPos[r]!);
    if (this.prefix) this.prefix = { ...this.prefix, rows: Int32Array.from(keep, (r) => this.prefix!.rows[r]!) };
    this.batch = keep.length;
  }

  /** Copies the shared prefix into every row, in place: afterwards the cache has no prefix. */
  materialize(): void {
    const p = this.prefix;
    if (!p) return;
    const { kvDim, capacity: cap, batch: B } = this;
    const P = p.len;
    const own = cap - P;
    const filled = this.length - P;
    const flat = (mine: KvBuffer, shared: KvBuffer): KvBuffer => {
      const dst = kvBuffer(this.dtype, B * cap * kvDim);
      for (let b = 0; b < B; b++) {
        const r = p.rows[b]!;
        dst.set(shared.subarray(r * p.batchStride, r * p.batchStride + P * kvDim), b * cap * kvDim);
        dst.set(mine.subarray(b * own * kvDim, (b * own + filled) * kvDim), (b * cap + P) * kvDim);
      }
      return dst;
    };
    const mask = new Uint8Array(B * cap);
    for (let b = 0; b < B; b++) this.rowMask(b, mask, b * cap);
    this.k = this.k.map((k, li) => flat(k, p.k[li]!));
    this.v = this.v.map((v, li) => flat(v, p.v[li]!));
    this.keyMask = mask;
    this.prefix = null;
  }
}
