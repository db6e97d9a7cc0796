// Optional projection biases (Qwen2's q/k/v_proj.bias) and HF's RoPE frequency scaling: the two
// pieces of real Llama-family checkpoints that genrm's own models do not use. Kept here, apart
// from llama.ts, so a model without them computes exactly what it did before.
import { Tensor } from '../tensor.js';
import { ShapeError, expect2d, fmt } from '../autograd/errors.js';
import { gradOf, newOutput, record } from '../autograd/tape.js';
import type { RopeTables } from '../autograd/index.js';
import type { RopeScaling } from './config.js';

/** y = x + b on every row: x (N, C), b (C) -> (N, C). */
export function addBias(x: Tensor, b: Tensor): Tensor {
  const [n, c] = expect2d('addBias', 'input', x);
  if (b.shape.length !== 1 || b.shape[0] !== c)
    throw new ShapeError('addBias', `bias ${fmt(b.shape)} does not match input ${fmt(x.shape)} (expected [${c}])`);
  const out = new Tensor(newOutput(x.size), x.shape);
  addBiasRows(x.data, b.data, out.data, n, c);
  return record('addBias', out, [x, b], () => {
    const g = out.grad!;
    if (x.requiresGrad) {
      const gx = gradOf(x);
      for (let i = 0; i < g.length; i++) gx[i]! += g[i]!;
    }
    if (b.requiresGrad) {
      const gb = gradOf(b); // db = sum over rows of dy
      for (let r = 0; r < n; r++) for (let j = 0; j < c; j++) gb[j]! += g[r * c + j]!;
    }
  });
}

/** out[r, :] = x[r, :] + b for r < n (out may be x). */
export function addBiasRows(x: Float32Array, b: Float32Array, out: Float32Array, n: number, c: number): void {
  for (let r = 0; r < n; r++) for (let j = 0; j < c; j++) out[r * c + j] = x[r * c + j]! + b[j]!;
}

/**
 * The rotary inverse frequencies theta^(-2i/hd), i < hd/2, adjusted by HF's rope_scaling:
 * 'linear' divides every frequency by the factor; 'llama3' (Llama 3.1+) divides only the low
 * frequencies (wavelength beyond original_max_position_embeddings / low_freq_factor), keeps the
 * high ones (wavelength below .../high_freq_factor) and blends linearly between.
 */
export function ropeInvFreq(headDim: number, theta: number, scaling?: RopeScaling): Float64Array {
  const half = headDim / 2;
  const inv = Float64Array.from({ length: half }, (_, i) => Math.pow(theta, (-2 * i) / headDim));
  if (scaling === undefined) return inv;
  if (scaling.type === 'linear') return inv.map((f) => f / scaling.factor);
  const { factor, lowFreqFactor: lo, highFreqFactor: hi, originalMaxPositionEmbeddings: ctx } = scaling;
  const lowWavelen = ctx / lo;
  const highWavelen = ctx / hi;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (ctx / wavelen - lo) / (hi - lo);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/** cos/sin tables (maxPos, headDim/2) from explicit inverse frequencies. */
export function ropeTablesFrom(maxPos: number, headDim: number, invFreq: Float64Array): RopeTables {
  const half = headDim / 2;
  const cos = new Float32Array(maxPos * half);
  const sin = new Float32Array(maxPos * half);
  for (let p = 0; p < maxPos; p++)
    for (let i = 0; i < half; i++) {
      const angle = p * invFreq[i]!;
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  return { cos, sin, maxPos, headDim };
}
