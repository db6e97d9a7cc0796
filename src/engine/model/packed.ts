// A Llama's Linear weights packed for many batches of rows (kernels().packWeight): what a
// generation multiplies at every decode step. Packing reads every weight once (7-13 ms for the
// base model here, most of it first touches of the new arrays); a 64-row decode step's products
// then run ~2x faster than through sgemm, which re-packs each weight on every call
// (native/packed_gemm.cc has the measurements).
//
// A snapshot: weights changed afterwards (a training step) are not seen, so pack per generation,
// never keep one across training.
import { kernels } from '../kernels/index.js';
import type { PackedWeight } from '../kernels/index.js';
import type { Tensor } from '../tensor.js';
import type { Llama } from './llama.js';

export interface PackedLayer {
  q: PackedWeight;
  k: PackedWeight;
  v: PackedWeight;
  o: PackedWeight;
  gate: PackedWeight;
  up: PackedWeight;
  down: PackedWeight;
}

export interface PackedLlama {
  /** The kernels that packed it; calls under other kernels multiply the plain weights instead. */
  backend: 'native' | 'js';
  layers: PackedLayer[];
  /** The output head (vocab, d). */
  head: PackedWeight;
}

/**
 * Rows from which a call uses its packed float weights: up to 8 rows sgemm's stand-in for decode
 * (native/small_gemm.cc) reads each weight straight from its Hugging Face layout as fast. Half
 * panels (every weight exactly a half) are used at any row count: they are half the bytes.
 */
export const PACKED_MIN_ROWS = 9;

function pack(t: Tensor): PackedWeight {
  const [n, k] = t.shape as [number, number];
  return kernels().packWeight(t.data, n, k);
}

/** Packs every Linear weight of the model (with the kernels active now). */
export function packLlama(model: Llama): PackedLlama {
  return {
    backend: kernels().info().backend,
    layers: model.layers.map((l) => ({
      q: pack(l.q),
      k: pack(l.k),
      v: pack(l.v),
      o: pack(l.o),
      gate: pack(l.gate),
      up: pack(l.up),
      down: pack(l.down),
    })),
    head: pack(model.head),
  };
}
