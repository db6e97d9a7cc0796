// The JS reference kernels: plain loops, written to be obviously right rather than fast. They
// are the oracle the native addon is tested against and the fallback where it cannot load.
// Semantics are those documented in ./types.ts; sums the doc calls "double" use JS numbers
// (float64) and round once on store.
import {
  DECODE_MAX_QUERIES,
  type AdamWArgs,
  type AttentionArgs,
  type AttentionBackwardArgs,
  type Kernels,
  type KernelsInfo,
  type KvBuffer,
  type MatmulArgs,
} from './types.js';
import { fromHalfBits, halfToFloat, toHalfBits } from './half.js';
import { sigmoid } from '../../util/math.js';

/** A float32 view of cached K/V: half bits are converted (a copy), float32 passes through. */
const asFloat = (x: KvBuffer): Float32Array => (x instanceof Uint16Array ? halfToFloat(x) : x);

function matmul(p: MatmulArgs): void {
  const { a, b, c, m, n, k } = p;
  const transA = p.transA ?? false;
  const transB = p.transB ?? false;
  const alpha = p.alpha ?? 1;
  const beta = p.beta ?? 0;
  const batch = p.batch ?? 1;
  // Leading dimensions default to the stored matrices' column counts.
  const lda = p.lda ?? (transA ? m : k);
  const ldb = p.ldb ?? (transB ? k : n);
  const ldc = p.ldc ?? n;
  const strideA = p.strideA ?? m * k;
  const strideB = p.strideB ?? k * n;
  const strideC = p.strideC ?? m * n;
  const offA = p.offsetA ?? 0;
  const offB = p.offsetB ?? 0;
  const offC = p.offsetC ?? 0;
  for (let bi = 0; bi < batch; bi++) {
    const a0 = offA + bi * strideA;
    const b0 = offB + bi * strideB;
    const c0 = offC + bi * strideC;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let l = 0; l < k; l++) {
          const av = transA ? a[a0 + l * lda + i]! : a[a0 + i * lda + l]!;
          const bv = transB ? b[b0 + j * ldb + l]! : b[b0 + l * ldb + j]!;
          acc += av * bv;
        }
        const ci = c0 + i * ldc + j;
        // beta = 0 must overwrite even a NaN already in C (BLAS semantics).
        c[ci] = beta === 0 ? alpha * acc : alpha * acc + beta * c[ci]!;
      }
    }
  }
}

// GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
const GELU_C = Math.sqrt(2 / Math.PI);
function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x)));
}
function geluGrad(x: number): number {
  const u = GELU_C * (x + 0.044715 * x * x * x);
  const t = Math.tanh(u);
  const du = GELU_C * (1 + 3 * 0.044715 * x * x);
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
}

/** Row max and log-sum-exp of logits[r, :], in double. */
function rowLse(x: Float32Array, off: number, cols: number): number {
  let max = -Infinity;
  for (let j = 0; j < cols; j++) max = Math.max(max, x[off + j]!);
  let s = 0;
  for (let j = 0; j < cols; j++) s += Math.exp(x[off + j]! - max);
  return max + Math.log(s);
}

function attentionForward(p: AttentionArgs): void {
  if (
    p.k instanceof Uint16Array ||
    p.v instanceof Uint16Array ||
    p.prefix?.k instanceof Uint16Array ||
    p.prefix?.v instanceof Uint16Array
  ) {
    if (p.tq > DECODE_MAX_QUERIES || p.probs)
      throw new RangeError(`attentionForward: half-precision K/V are for decoding only (tq <= ${DECODE_MAX_QUERIES}, no probs)`);
    // Half K/V mean exactly their float32 values: convert, then the float32 reference.
    const prefix = p.prefix ? { ...p.prefix, k: asFloat(p.prefix.k), v: asFloat(p.prefix.v) } : undefined;
    attentionForward({ ...p, k: asFloat(p.k), v: asFloat(p.v), ...(prefix ? { prefix } : {}) });
    return;
  }
  const { q, out, batch, tq, tk, heads, kvHeads, headDim, pastLen, scale, probs, keyMask, prefix } = p;
  const kvOffset = p.kvOffset ?? 0;
  const kvBatchStride = p.kvBatchStride ?? tk * kvHeads * headDim;
  const group = heads / kvHeads; // query heads per KV head
  const P = prefix?.len ?? 0;
  if (prefix && (tq > DECODE_MAX_QUERIES || probs))
    throw new RangeError(`attentionForward: a shared prefix is for decoding only (tq <= ${DECODE_MAX_QUERIES}, no probs)`);
  const scores = new Float64Array(tk);
  for (let b = 0; b < batch; b++) {
    // Key/value j of this row: its prompt's shared prefix row, or its own columns after it.
    const k = (j: number): KvBuffer => (j < P ? prefix!.k : p.k);
    const v = (j: number): KvBuffer => (j < P ? prefix!.v : p.v);
    const base = (j: number, kvh: number): number =>
      j < P
        ? prefix!.rows[b]! * prefix!.batchStride + (j * kvHeads + kvh) * headDim
        : kvOffset + b * kvBatchStride + ((j - P) * kvHeads + kvh) * headDim;
    for (let h = 0; h < heads; h++) {
      const kvh = Math.floor(h / group);
      for (let i = 0; i < tq; i++) {
        const qo = ((b * tq + i) * heads + h) * headDim;
        const last = Math.min(pastLen + i, tk - 1); // causal: keys j <= pastLen + i
        let max = -Infinity;
        for (let j = 0; j < tk; j++) {
          const visible = j <= last && (keyMask === undefined || keyMask[b * tk + j] !== 0);
          if (!visible) {
            scores[j] = -Infinity;
            continue;
          }
          const ko = base(j, kvh);
          const kj = k(j);
          let s = 0;
          for (let d = 0; d < headDim; d++) s += q[qo + d]! * kj[ko + d]!;
          scores[j] = s * scale;
          max = Math.max(max, scores[j]!);
        }
        let denom = 0;
        for (let j = 0; j < tk; j++) {
          const e = max === -Infinity ? 0 : Math.exp(scores[j]! - max);
          scores[j] = e;
          denom += e;
        }
        // A row with every key hidden (only possible with keyMask) attends to nothing: output 0.
        const inv = denom > 0 ? 1 / denom : 0;
        const po = ((b * heads + h) * tq + i) * tk;
        for (let j = 0; j < tk; j++) {
          scores[j] = scores[j]! * inv;
          if (probs) probs[po + j] = scores[j]!;
        }
        for (let d = 0; d < headDim; d++) {
          let acc = 0;
          for (let j = 0; j <= last; j++) {
            const pj = scores[j]!;
            if (pj === 0) continue;
            acc += pj * v(j)[base(j, kvh) + d]!;
          }
          out[qo + d] = acc;
        }
      }
    }
  }
}

function attentionBackward(p: AttentionBackwardArgs): void {
  const { dout, q, k, v, probs, dq, dk, dv, batch, t, heads, kvHeads, headDim, scale } = p;
  const group = heads / kvHeads;
  const dp = new Float64Array(t);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const kvh = Math.floor(h / group);
      for (let i = 0; i < t; i++) {
        const qo = ((b * t + i) * heads + h) * headDim;
        const po = ((b * heads + h) * t + i) * t;
        // dP[i, j] = dout[i] . v[j]; dS = P * (dP - sum_j P dP) (softmax backward).
        let dot = 0;
        for (let j = 0; j <= i; j++) {
          const vo = ((b * t + j) * kvHeads + kvh) * headDim;
          let s = 0;
          for (let d = 0; d < headDim; d++) s += dout[qo + d]! * v[vo + d]!;
          dp[j] = s;
          dot += probs[po + j]! * s;
        }
        for (let j = 0; j <= i; j++) {
          const pj = probs[po + j]!;
          if (pj === 0) continue; // masked keys carry no gradient
          const ds = pj * (dp[j]! - dot) * scale;
          const ko = ((b * t + j) * kvHeads + kvh) * headDim;
          for (let d = 0; d < headDim; d++) {
            dq[qo + d] = dq[qo + d]! + ds * k[ko + d]!;
            dk[ko + d] = dk[ko + d]! + ds * q[qo + d]!;
            dv[ko + d] = dv[ko + d]! + pj * dout[qo + d]!;
          }
        }
      }
    }
  }
}

function adamwStep(p: AdamWArgs): void {
  const { param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step } = p;
  const gs = p.gradScale ?? 1;
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2 = 1 - Math.pow(beta2, step);
  for (let i = 0; i < param.length; i++) {
    const g = grad[i]! * gs;
    const mi = beta1 * m[i]! + (1 - beta1) * g;
    const vi = beta2 * v[i]! + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const upd = mi / bc1 / (Math.sqrt(vi / bc2) + eps);
    param[i] = param[i]! - lr * (upd + weightDecay * param[i]!);
  }
}

let threads = 1;

export const jsKernels: Kernels = {
  info(): KernelsInfo {
    return { backend: 'js', threads: 1, reason: 'JS reference kernels selected' };
  },
  setThreads(n: number): void {
    threads = n; // the JS kernels are single-threaded; remembered only for info consistency
    void threads;
  },

  matmul,
  packWeight(w, n, k) {
    // The reference keeps W as it is (a copy: a packed weight is a snapshot).
    if (w.length < n * k) throw new RangeError(`packWeight: w has ${w.length} elements but (n ${n}, k ${k}) needs ${n * k}`);
    return { backend: 'js', n, k, data: w.slice(0, n * k) };
  },
  matmulPacked(a, w, c, m) {
    if (w.backend !== 'js')
      throw new TypeError(`matmulPacked: the weight was packed by the ${w.backend} kernels; pack it with the js ones`);
    matmul({ a, b: asFloat(w.data), c, m, n: w.n, k: w.k, transB: true });
  },

  copyRows(src, dst, rows, cols, srcStride, dstOffset, dstStride) {
    const read = src instanceof Uint16Array ? (i: number): number => fromHalfBits(src[i]!) : (i: number): number => src[i]!;
    const write =
      dst instanceof Uint16Array
        ? (i: number, x: number): void => void (dst[i] = toHalfBits(x))
        : (i: number, x: number): void => void (dst[i] = x);
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) write(dstOffset + r * dstStride + j, read(r * srcStride + j));
  },
  add(a, b, out, n) {
    for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
  },
  mul(a, b, out, n) {
    for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!;
  },
  scale(a, s, out, n) {
    for (let i = 0; i < n; i++) out[i] = a[i]! * s;
  },
  axpy(alpha, x, y, n) {
    for (let i = 0; i < n; i++) y[i] = y[i]! + alpha * x[i]!;
  },
  sum(x, n) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i]!;
    return s;
  },
  sumSquares(x, n) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i]! * x[i]!;
    return s;
  },
  allFinite(x, n) {
    for (let i = 0; i < n; i++) if (!Number.isFinite(x[i]!)) return false;
    return true;
  },

  embeddingForward(table, ids, out, rows, dim, vocab) {
    for (let r = 0; r < rows; r++) {
      const id = ids[r]!;
      if (!(id >= 0 && id < vocab)) throw new RangeError(`embedding: token id ${id} at row ${r} is outside [0, ${vocab})`);
      for (let d = 0; d < dim; d++) out[r * dim + d] = table[id * dim + d]!;
    }
  },
  embeddingBackward(dout, ids, dtable, rows, dim) {
    for (let r = 0; r < rows; r++) {
      const id = ids[r]!;
      for (let d = 0; d < dim; d++) dtable[id * dim + d] = dtable[id * dim + d]! + dout[r * dim + d]!;
    }
  },

  rmsnormForward(x, w, out, invRms, rows, dim, eps) {
    for (let r = 0; r < rows; r++) {
      let ss = 0;
      for (let d = 0; d < dim; d++) ss += x[r * dim + d]! * x[r * dim + d]!;
      const inv = 1 / Math.sqrt(ss / dim + eps);
      invRms[r] = inv;
      for (let d = 0; d < dim; d++) out[r * dim + d] = x[r * dim + d]! * inv * w[d]!;
    }
  },
  rmsnormBackward(dout, x, w, invRms, dx, dw, rows, dim) {
    // y = x * s * w with s = (mean(x^2)+eps)^(-1/2); ds/dx_k = -s^3 x_k / dim.
    // dx_k = s * w_k * g_k - s^3 x_k / dim * sum_d(g_d w_d x_d).
    for (let r = 0; r < rows; r++) {
      const s = invRms[r]!;
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += dout[r * dim + d]! * w[d]! * x[r * dim + d]!;
      const c = (s * s * s * dot) / dim;
      for (let d = 0; d < dim; d++) {
        const i = r * dim + d;
        dx[i] = dx[i]! + s * w[d]! * dout[i]! - c * x[i]!;
        dw[d] = dw[d]! + dout[i]! * x[i]! * s;
      }
    }
  },

  rope(x, positions, cos, sin, rows, heads, headDim, inverse) {
    const half = headDim / 2;
    const sign = inverse ? -1 : 1;
    for (let r = 0; r < rows; r++) {
      const pos = positions[r]!;
      for (let h = 0; h < heads; h++) {
        const o = (r * heads + h) * headDim;
        for (let i = 0; i < half; i++) {
          const c = cos[pos * half + i]!;
          const s = sign * sin[pos * half + i]!;
          const x1 = x[o + i]!;
          const x2 = x[o + i + half]!;
          x[o + i] = x1 * c - x2 * s;
          x[o + i + half] = x2 * c + x1 * s;
        }
      }
    }
  },

  attentionForward,
  attentionBackward,

  swigluForward(gate, up, out, n) {
    for (let i = 0; i < n; i++) {
      const g = gate[i]!;
      out[i] = g * sigmoid(g) * up[i]!;
    }
  },
  swigluBackward(dout, gate, up, dgate, dup, n) {
    for (let i = 0; i < n; i++) {
      const g = gate[i]!;
      const s = sigmoid(g);
      const silu = g * s;
      dgate[i] = dgate[i]! + dout[i]! * up[i]! * (s + silu * (1 - s));
      dup[i] = dup[i]! + dout[i]! * silu;
    }
  },
  siluForward(x, out, n) {
    for (let i = 0; i < n; i++) out[i] = x[i]! * sigmoid(x[i]!);
  },
  siluBackward(dout, x, dx, n) {
    for (let i = 0; i < n; i++) {
      const s = sigmoid(x[i]!);
      dx[i] = dx[i]! + dout[i]! * (s + x[i]! * s * (1 - s));
    }
  },
  geluForward(x, out, n) {
    for (let i = 0; i < n; i++) out[i] = gelu(x[i]!);
  },
  geluBackward(dout, x, dx, n) {
    for (let i = 0; i < n; i++) dx[i] = dx[i]! + dout[i]! * geluGrad(x[i]!);
  },

  logSoftmax(x, out, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const lse = rowLse(x, r * cols, cols);
      for (let j = 0; j < cols; j++) out[r * cols + j] = x[r * cols + j]! - lse;
    }
  },
  logprobsGather(logits, targets, out, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const t = targets[r]!;
      if (t < 0) {
        out[r] = 0;
        continue;
      }
      out[r] = logits[r * cols + t]! - rowLse(logits, r * cols, cols);
    }
  },
  logprobsGatherBackward(logits, targets, dout, dlogits, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const t = targets[r]!;
      if (t < 0) continue;
      const lse = rowLse(logits, r * cols, cols);
      const g = dout[r]!;
      for (let j = 0; j < cols; j++) {
        const p = Math.exp(logits[r * cols + j]! - lse);
        dlogits[r * cols + j] = dlogits[r * cols + j]! + g * ((j === t ? 1 : 0) - p);
      }
    }
  },
  crossEntropy(logits, targets, rows, cols, dlogits, gradScale) {
    let count = 0;
    for (let r = 0; r < rows; r++) if (targets[r]! >= 0) count++;
    let nll = 0;
    const g = count > 0 ? (gradScale ?? 1) / count : 0;
    for (let r = 0; r < rows; r++) {
      const t = targets[r]!;
      if (t < 0) {
        if (dlogits) dlogits.fill(0, r * cols, (r + 1) * cols);
        continue;
      }
      const lse = rowLse(logits, r * cols, cols);
      nll += lse - logits[r * cols + t]!;
      if (dlogits) {
        for (let j = 0; j < cols; j++) {
          const p = Math.exp(logits[r * cols + j]! - lse);
          dlogits[r * cols + j] = (p - (j === t ? 1 : 0)) * g;
        }
      }
    }
    return { loss: count > 0 ? nll / count : 0, count };
  },

  adamwStep,
};
