// KV-cache moves that generation needs beyond KvCache.select, written against KvCache's public
// fields (k, v, keyMask, nextPos, length), so the cache itself stays as it is.
//
// Why they are correct: keys carry their RoPE rotation from when they were written (by the row's
// own position counter, nextPos), and attention at decode time (tq = 1) sees every filled, unmasked
// column. So moving a row's columns sideways, or dropping masked columns, changes nothing a
// query computes — only where the numbers sit.
import { KvCache } from '../model/kv-cache.js';
import type { ModelConfig } from '../model/config.js';

/**
 * Leading masked (padding) columns of a row. Rows have padding only at the left: prompts are
 * left-padded and every later column is a real token.
 */
export function leadingPad(cache: KvCache, row: number): number {
  return cache.length - cache.nextPos[row]!;
}

/**
 * Drops the first `cols` columns of every row in place (they must be padding in every row),
 * freeing room at the end: a short prompt batched beside a long one can then run to its own
 * context end instead of stopping where the long one's cache filled up. A shared prefix is copied
 * into the rows first (the padding to drop lives in it).
 */
export function shiftLeft(cache: KvCache, cols: number): void {
  if (cols <= 0) return;
  cache.materialize();
  if (cols > cache.length) throw new RangeError(`shiftLeft: ${cols} columns exceed the filled length ${cache.length}`);
  for (let b = 0; b < cache.batch; b++) {
    if (leadingPad(cache, b) < cols)
      throw new RangeError(`shiftLeft: row ${b} has only ${leadingPad(cache, b)} padding columns, cannot drop ${cols}`);
  }
  const { kvDim, capacity: cap, length } = cache;
  for (const buf of [...cache.k, ...cache.v]) {
    for (let b = 0; b < cache.batch; b++) {
      const o = b * cap * kvDim;
      buf.copyWithin(o, o + cols * kvDim, o + length * kvDim);
    }
  }
  for (let b = 0; b < cache.batch; b++) {
    const o = b * cap;
    cache.keyMask.copyWithin(o, o + cols, o + length);
    cache.keyMask.fill(0, o + length - cols, o + length);
  }
  cache.length = length - cols;
}

/**
 * A cache of parts.length rows, row i a copy of row parts[i].row of parts[i].cache, right-aligned
 * at column `length` = the longest part (shorter ones left-padded). Each source cache must hold
 * only real tokens in that row (a prompt prefilled alone).
 */
export function stackAligned(config: ModelConfig, parts: readonly { cache: KvCache; row: number }[], capacity: number): KvCache {
  if (parts.some((p) => p.cache.prefix)) throw new RangeError('stackAligned: a part has a shared prefix (stack prompts prefilled alone)');
  const dtype = parts[0]?.cache.dtype ?? 'f32';
  if (parts.some((p) => p.cache.dtype !== dtype)) throw new RangeError('stackAligned: the parts mix f32 and f16 caches');
  const length = parts.reduce((m, p) => Math.max(m, p.cache.length), 0);
  if (capacity < length) throw new RangeError(`stackAligned: capacity ${capacity} is below the longest part ${length}`);
  const out = new KvCache(config, parts.length, capacity, dtype);
  const kvDim = out.kvDim;
  parts.forEach(({ cache, row }, i) => {
    const L = cache.length;
    const pad = length - L;
    const src = row * cache.capacity * kvDim;
    const dst = (i * capacity + pad) * kvDim;
    cache.k.forEach((k, li) => out.k[li]!.set(k.subarray(src, src + L * kvDim), dst));
    cache.v.forEach((v, li) => out.v[li]!.set(v.subarray(src, src + L * kvDim), dst));
    out.keyMask.set(cache.keyMask.subarray(row * cache.capacity, row * cache.capacity + L), i * capacity + pad);
    out.nextPos[i] = cache.nextPos[row]!;
  });
  out.length = length;
  return out;
}
