// IEEE 754 half precision (binary16) stored as Uint16Array bits: the KV cache's compact form.
// The conversions are safetensors.ts's (round to nearest, ties to even; overflow to infinity;
// subnormals kept), which are F16C's, so the JS reference and the native kernels store the same
// bits (NaN payloads aside: a NaN stays a NaN).
import { f16BitsToF32, f32ToF16Bits } from '../safetensors.js';

/** The half-precision bits nearest to x. */
export const toHalfBits = f32ToF16Bits;

/** The value of half-precision bits h. */
export const fromHalfBits = f16BitsToF32;

/** A float32 copy of half-precision bits. */
export function halfToFloat(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f16BitsToF32(src[i]!);
  return out;
}
