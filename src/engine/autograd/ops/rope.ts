// Rotary position embeddings (Hugging Face rotate-half convention) on per-head row layouts.
import { kernels } from '../../kernels/index.js';
import { Tensor } from '../../tensor.js';
import { ShapeError, expect2d, expectLength, fmt } from '../errors.js';
import { take } from '../pool.js';
import { adoptGrad, newOutput, record } from '../tape.js';

/** cos/sin tables (maxPos, headDim/2) for positions 0..maxPos-1. */
export interface RopeTables {
  cos: Float32Array;
  sin: Float32Array;
  maxPos: number;
  headDim: number;
}

export function ropeTables(maxPos: number, headDim: number, theta: number): RopeTables {
  if (headDim % 2 !== 0) throw new Error(`rope: headDim ${headDim} must be even`);
  const half = headDim / 2;
  const cos = new Float32Array(maxPos * half);
  const sin = new Float32Array(maxPos * half);
  for (let p = 0; p < maxPos; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * Math.pow(theta, (-2 * i) / headDim); // computed in double, stored fp32
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin, maxPos, headDim };
}

/** x (N, heads*headDim), positions (N) -> rotated copy (N, heads*headDim). */
export function rope(x: Tensor, positions: Int32Array, tables: RopeTables, heads: number): Tensor {
  const [rows, width] = expect2d('rope', 'input', x);
  const hd = tables.headDim;
  if (width !== heads * hd) throw new ShapeError('rope', `input ${fmt(x.shape)} is not (rows, heads ${heads} * headDim ${hd})`);
  expectLength('rope', 'positions', positions.length, rows);
  for (let r = 0; r < rows; r++) {
    const p = positions[r]!;
    if (!(p >= 0 && p < tables.maxPos))
      throw new ShapeError('rope', `position ${p} at row ${r} is outside [0, ${tables.maxPos}) (maxSeqLen)`);
  }
  const out = new Tensor(newOutput(x.size), x.shape);
  out.data.set(x.data); // memcpy; the kernel rotates in place
  kernels().rope(out.data, positions, tables.cos, tables.sin, rows, heads, hd, false);
  return record('rope', out, [x], () => {
    // The rotation is orthogonal: dx = R^-1 dy.
    const dx = take(x.size);
    dx.set(out.grad!);
    kernels().rope(dx, positions, tables.cos, tables.sin, rows, heads, hd, true);
    adoptGrad(x, dx);
  });
}
