// The key/value cache for incremental decoding of a batch of sequences.
//
// Per layer, K and V live in (batch, capacity, nKvHeads*headDim) buffers; `length` positions are
// filled, the same count for every row. Rows may start with padding (left-padded prompts, so
// that every row's last prompt token is at the same column): `keyMask` marks real tokens, and
// each row's RoPE positions count only its real tokens (`nextPos`), so a padded row computes
// exactly what it would alone. See `forwardCached` in ./infer.ts for how calls fill it.
import type { ModelConfig } from './config.js';

export class KvCache {
  readonly batch: number;
  /** Positions each row can hold (default the model's maxSeqLen). */
  readonly capacity: number;
  /** nKvHeads * headDim: one cached row's width. */
  readonly kvDim: number;
  /** Per layer, (batch, capacity, kvDim). */
  readonly k: Float32Array[];
  readonly v: Float32Array[];
  /** (batch, capacity): 1 where the position holds a real token, 0 for padding / unfilled. */
  readonly keyMask: Uint8Array;
  /** (batch): the RoPE position the row's next real token gets (= real tokens so far). */
  readonly nextPos: Int32Array;
  /** Positions filled so far (columns 0..length-1 of every row). */
  length = 0;

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

  /**
   * A new cache holding the given rows of this one, in that order (repeats allowed): fork one
   * prompt into n samples, or drop finished sequences. Copies only the filled columns.
   */
  select(rows: readonly number[], capacity: number = this.capacity): KvCache {
    if (capacity < this.length) throw new Error(`KvCache.select: capacity ${capacity} is below the filled length ${this.length}`);
    const out = Object.create(KvCache.prototype) as KvCache;
    const kvDim = this.kvDim;
    const rowLen = this.length * kvDim;
    const copy = (src: Float32Array): Float32Array => {
      const dst = new Float32Array(rows.length * capacity * kvDim);
      rows.forEach((r, i) => {
        if (!(r >= 0 && r < this.batch)) throw new Error(`KvCache.select: row ${r} is outside [0, ${this.batch})`);
        dst.set(src.subarray(r * this.capacity * kvDim, r * this.capacity * kvDim + rowLen), i * capacity * kvDim);
      });
      return dst;
    };
    const keyMask = new Uint8Array(rows.length * capacity);
    rows.forEach((r, i) => keyMask.set(this.keyMask.subarray(r * this.capacity, r * this.capacity + this.length), i * capacity));
    Object.assign(out, {
      batch: rows.length,
      capacity,
      kvDim,
      k: this.k.map(copy),
      v: this.v.map(copy),
      keyMask,
      nextPos: Int32Array.from(rows, (r) => this.nextPos[r]!),
      length: this.length,
    });
    return out;
  }
}
