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
import type { ModelConfig } from './config.js';

export interface SharedPrefix {
  /** Per layer, the prompts' keys / values: prompt row r's column j at (r * batchStride + j * kvDim). */
  k: Float32Array[];
  v: Float32Array[];
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
  /** Per layer, (batch, ownCapacity, kvDim): each row's own columns (all of them without a prefix). */
  k: Float32Array[];
  v: Float32Array[];
  /** (batch, ownCapacity): 1 where an own column holds a real token, 0 for padding / unfilled. */
  keyMask: Uint8Array;
  /** (batch): the RoPE position the row's next real token gets (= real tokens so far). */
  nextPos: Int32Array;
  /** Positions filled so far, prefix included (columns 0..length-1 of every row). */
  length = 0;
  /** The shared prefix, if this cache was forked from prompts' caches. */
  prefix: SharedPrefix | null = null;

  constructor(config: ModelConfig, batch: number, capacity: number = config.maxSeqLen) {
    if (!(batch > 0 && Number.isInteger(batch))) throw new Error(`KvCache: batch must be a positive integer, got ${batch}`);
    if (!(capacity > 0 && capacity <= config.maxSeqLen)) throw new Error(`KvCache: capacity ${capacity} must be in [1, maxSeqLen ${config.maxSeqLen}]`);
    this.batch = batch;
    this.capacity = capacity;
    this.kvDim = config.nKvHeads * (config.dModel / config.nHeads);
    const n = batch * capacity * this.kvDim;
    this.k = Array.from({ length: config.nLayers }, () => new Float32Array(n));
    this.v = Array.from({ length: config.nLayers }, () => new Float32Array(n));
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
    for (const r of rows) if (!(Number.isInteger(r) && r >= 0 && r < prompts.batch)) throw new Error(`KvCache.fork: row ${r} is outside [0, ${prompts.batch})`);
    const kvDim = prompts.kvDim;
    const own = capacity - prompts.length;
    const out = Object.create(KvCache.prototype) as KvCache;
    Object.assign(out, {
      batch: rows.length,
      capacity,
      kvDim,
      k: prompts.k.map(() => new Float32Array(rows.length * own * kvDim)),
      v: prompts.v.map(() => new Float32Array(rows.length * own * kvDim)),
      keyMask: new Uint8Array(rows.length * own),
      nextPos: Int32Array.from(rows, (r) => prompts.nextPos[r]!),
      length: prompts.length,
      prefix: { k: prompts.k, v: prompts.v, keyMask: prompts.keyMask, maskStride: prompts.capacity, len: prompts.length, batchStride: prompts.capacity * kvDim, rows: Int32Array.from(rows) },
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
    const copy = (src: Float32Array): Float32Array => {
      const dst = new Float32Array(rows.length * to * kvDim);
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
      k: this.k.map(copy),
      v: this.v.map(copy),
      keyMask,
      nextPos: Int32Array.from(rows, (r) => this.nextPos[r]!),
      length: this.length,
      prefix: this.prefix ? { ...this.prefix, rows: Int32Array.from(rows, (r) => this.prefix!.rows[r]!) } : null,
    });
    return out;
  }

  /** Copies the shared prefix into every row, in place: afterwards the cache has no prefix. */
  materialize(): void {
    const p = this.prefix;
    if (!p) return;
    const { kvDim, capacity: cap, batch: B } = this;
    const P = p.len;
    const own = cap - P;
    const filled = this.length - P;
    const flat = (mine: Float32Array, shared: Float32Array): Float32Array => {
      const dst = new Float32Array(B * cap * kvDim);
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
