// The Kernels interface: every numeric loop of the engine goes through one of these methods.
//
// Two implementations: `native` (N-API C++ addon; matmul through OpenBLAS cblas_sgemm, the rest
// as fused C++ loops) and `js` (plain TypeScript, the reference and test oracle). They agree
// within the tolerance stated in test/engine/kernels/native.test.ts.
//
// Conventions, shared by both implementations:
// - All tensors are row-major Float32Array; integer inputs (token ids, positions) are Int32Array.
// - Kernels are synchronous and never allocate their outputs: the caller passes them. Outputs
//   are overwritten unless the doc says "accumulates" (+=), which backward passes use for grads.
// - An output may alias an input only where the doc says so.
// - Offsets are in elements, so a kernel can work on a slice of a larger buffer (e.g. one layer
//   of a KV cache) without a subarray copy.
// - Shapes are given as plain numbers; kernels trust them (the autograd layer checks shapes and
//   throws errors that name the op, so kernels stay hot-loop simple). Native kernels do check
//   that every buffer is long enough for the shape it is given, and throw otherwise.

export interface MatmulArgs {
  /** C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b], for b in [0, batch). */
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
  /** op(A) is (m, k); A is stored (m, k) or, when transA, (k, m). */
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  /** op(B) is (k, n); B is stored (k, n) or, when transB, (n, k) — e.g. a Linear weight [out, in]. */
  transB?: boolean;
  alpha?: number; // default 1
  /** 0 overwrites C, 1 accumulates into C (used by backward passes). Default 0. */
  beta?: number;
  /** Number of independent products; default 1. */
  batch?: number;
  /** Element strides between consecutive batch items; default: packed (m*k, k*n, m*n). 0 broadcasts. */
  strideA?: number;
  strideB?: number;
  strideC?: number;
  /** Element offsets of the first item in each buffer; default 0. */
  offsetA?: number;
  offsetB?: number;
  offsetC?: number;
  /** Leading dimensions (row strides) as in BLAS; default: packed (cols of the stored matrix). */
  lda?: number;
  ldb?: number;
  ldc?: number;
}

/**
 * A Linear weight W (n, k) laid out ahead of time for matmulPacked, by the Kernels that will use
 * it (the layout is that backend's own: native cuts W^T into panels of 16 output columns, in half
 * bits when every weight is exactly a half, which gives the same products; js keeps W). For a
 * weight that multiplies many batches of rows, as at every step of a generation. It is a snapshot:
 * changing W afterwards does not change it.
 */
export interface PackedWeight {
  readonly backend: 'native' | 'js';
  /** Output features (W's rows). */
  readonly n: number;
  /** Input features (W's columns). */
  readonly k: number;
  readonly data: Float32Array | Uint16Array;
}

/**
 * Queries per attention call up to which the kernels take their decoding path (plain loops, no
 * probs): the only path that reads a shared prefix or half-precision K/V. native/attention.cc's
 * kMaxLoopQueries is the same number.
 */
export const DECODE_MAX_QUERIES = 4;

/**
 * Cached keys or values: float32, or IEEE half-precision bits (Uint16Array, see ./half.ts), which
 * halve the memory a decode step reads. Half K/V are for the decoding path only (tq <= 4, no probs).
 */
export type KvBuffer = Float32Array | Uint16Array;

export interface AttentionArgs {
  // Causal multi-head self-attention with grouped-query support. Layouts are "token-major" so
  // that the Q/K/V projections' matmul outputs are used as they are:
  //   q:   (batch, tq, heads,   headDim)           rows of heads*headDim
  //   k,v: (batch, tk, kvHeads, headDim) at kvOffset, with kvBatchStride elements between batches
  //        (tk <= the KV buffer's capacity; a KV cache passes its full buffer and the live length)
  //   out: (batch, tq, heads,   headDim)
  // Query i (0-based in this call) sits at absolute position pastLen + i and attends to keys
  // j <= pastLen + i, j < tk. Training calls use pastLen = 0 and tk = tq. heads % kvHeads == 0.
  q: Float32Array;
  k: KvBuffer;
  v: KvBuffer;
  out: Float32Array;
  batch: number;
  tq: number;
  tk: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  pastLen: number;
  /** Softmax scale, usually 1/sqrt(headDim). */
  scale: number;
  kvOffset?: number; // default 0
  kvBatchStride?: number; // default tk * kvHeads * headDim
  /**
   * If given, (batch, heads, tq, tk) softmax probabilities are written here for the backward
   * pass. Inference passes nothing and the kernel keeps only a row of scores at a time.
   */
  probs?: Float32Array;
  /** Optional (batch, tk) key mask: 0 hides a key (left padding in batched generation). */
  keyMask?: Uint8Array;
  /**
   * A shared prefix (decoding only: tq <= 4, no probs). Keys j < prefix.len of batch row b are
   * read from row prefix.rows[b] of prefix.k / prefix.v (token-major like k / v, rows
   * prefix.batchStride apart, from offset 0); keys j >= prefix.len from k / v at column
   * j - prefix.len. So the n samples of one prompt read one cached copy of that prompt.
   */
  prefix?: SharedPrefixArgs;
}

export interface SharedPrefixArgs {
  k: KvBuffer;
  v: KvBuffer;
  len: number;
  batchStride: number;
  /** (batch): the prefix row each batch row reads. */
  rows: Int32Array;
}

export interface AttentionBackwardArgs {
  // Same shapes as AttentionArgs with pastLen = 0, tk = tq (training only), packed K/V.
  dout: Float32Array;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  probs: Float32Array;
  /** Gradients accumulate (+=) into dq, dk, dv. */
  dq: Float32Array;
  dk: Float32Array;
  dv: Float32Array;
  batch: number;
  t: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  scale: number;
  keyMask?: Uint8Array;
}

export interface AdamWArgs {
  /** Updated in place: p -= lr * (mHat / (sqrt(vHat) + eps) + weightDecay * p). */
  param: Float32Array;
  grad: Float32Array;
  m: Float32Array;
  v: Float32Array;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
  /** Multiplies grad before use (global-norm clipping folded in); default 1. */
  gradScale?: number;
}

export interface KernelsInfo {
  /** Which implementation this is. */
  backend: 'native' | 'js';
  /** e.g. "OpenBLAS 0.3.21 Zen MAX_THREADS=64" for native; absent for js. */
  blas?: string;
  /** Threads used by matmul (and by any fused kernel that is threaded). */
  threads: number;
  /** For js: why native is not active (e.g. the addon failed to load, with its message). */
  reason?: string;
}

export interface Kernels {
  info(): KernelsInfo;
  /** Sets the thread count for matmul and threaded kernels (one pool at a time). */
  setThreads(n: number): void;

  // ---- Linear algebra ----
  matmul(args: MatmulArgs): void;
  /** A snapshot of the Linear weight w (n, k) in the layout matmulPacked reads. */
  packWeight(w: Float32Array, n: number, k: number): PackedWeight;
  /**
   * c (m, n) = a (m, k) @ W^T for W packed by this backend's packWeight. Each element is one
   * fixed-order sum over k, so a row's result does not depend on m or the other rows.
   */
  matmulPacked(a: Float32Array, w: PackedWeight, c: Float32Array, m: number): void;

  /**
   * dst[dstOffset + r * dstStride + j] = src[r * srcStride + j] for r < rows, j < cols: rows of one
   * buffer into strided places of another (a decode step's keys into their rows' cache columns),
   * converting between float32 and half bits where the two differ. src and dst must not overlap.
   */
  copyRows(src: KvBuffer, dst: KvBuffer, rows: number, cols: number, srcStride: number, dstOffset: number, dstStride: number): void;

  // ---- Elementwise (n elements; out may alias a or b) ----
  /** out = a + b */
  add(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void;
  /** out = a * b */
  mul(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void;
  /** out = a * s */
  scale(a: Float32Array, s: number, out: Float32Array, n: number): void;
  /** y += alpha * x (accumulation of gradients) */
  axpy(alpha: number, x: Float32Array, y: Float32Array, n: number): void;
  /** Sum of all n elements (accumulated in double). */
  sum(x: Float32Array, n: number): number;
  /** Sum of squares of n elements (accumulated in double), for global grad-norm. */
  sumSquares(x: Float32Array, n: number): number;
  /** True iff none of the n elements is NaN or ±Inf. */
  allFinite(x: Float32Array, n: number): boolean;

  // ---- Embedding ----
  /** out[r, :] = table[ids[r], :] for r < rows; out (rows, dim). Throws on an id outside [0, vocab). */
  embeddingForward(table: Float32Array, ids: Int32Array, out: Float32Array, rows: number, dim: number, vocab: number): void;
  /** dtable[ids[r], :] += dout[r, :] (scatter-add; accumulates). */
  embeddingBackward(dout: Float32Array, ids: Int32Array, dtable: Float32Array, rows: number, dim: number): void;

  // ---- RMSNorm: y = x / sqrt(mean(x^2) + eps) * w, over the last dim ----
  /** x, out (rows, dim); w (dim); invRms (rows) receives 1/sqrt(mean(x^2)+eps). out may alias x. */
  rmsnormForward(x: Float32Array, w: Float32Array, out: Float32Array, invRms: Float32Array, rows: number, dim: number, eps: number): void;
  /** dx accumulates (+=); dw accumulates (+=). */
  rmsnormBackward(
    dout: Float32Array,
    x: Float32Array,
    w: Float32Array,
    invRms: Float32Array,
    dx: Float32Array,
    dw: Float32Array,
    rows: number,
    dim: number,
  ): void;

  // ---- Rotary embeddings, Hugging Face rotate-half convention ----
  /**
   * In place on x (rows, heads, headDim), row r at position positions[r]:
   *   for i < headDim/2: (x1, x2) = (x[i], x[i + headDim/2]);
   *   x[i] = x1*cos - x2*sin; x[i + headDim/2] = x2*cos + x1*sin,
   * with cos/sin = cos/sin(pos * theta^(-2i/headDim)) read from tables cos, sin of shape
   * (maxPos, headDim/2). inverse = true rotates by -angle (the backward pass of the forward).
   */
  rope(
    x: Float32Array,
    positions: Int32Array,
    cos: Float32Array,
    sin: Float32Array,
    rows: number,
    heads: number,
    headDim: number,
    inverse: boolean,
  ): void;

  // ---- Attention ----
  attentionForward(args: AttentionArgs): void;
  attentionBackward(args: AttentionBackwardArgs): void;

  // ---- Activations ----
  /** out = silu(gate) * up; out may alias gate or up. */
  swigluForward(gate: Float32Array, up: Float32Array, out: Float32Array, n: number): void;
  /** dgate += dout * up * silu'(gate); dup += dout * silu(gate). */
  swigluBackward(dout: Float32Array, gate: Float32Array, up: Float32Array, dgate: Float32Array, dup: Float32Array, n: number): void;
  /** out = x * sigmoid(x) */
  siluForward(x: Float32Array, out: Float32Array, n: number): void;
  /** dx += dout * silu'(x) */
  siluBackward(dout: Float32Array, x: Float32Array, dx: Float32Array, n: number): void;
  /** GELU, tanh approximation (as GPT-2). */
  geluForward(x: Float32Array, out: Float32Array, n: number): void;
  /** dx += dout * gelu'(x) */
  geluBackward(dout: Float32Array, x: Float32Array, dx: Float32Array, n: number): void;

  // ---- Softmax family over rows of `cols` ----
  /** out = log_softmax(x) rowwise; out may alias x. */
  logSoftmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /**
   * out[r] = log_softmax(logits[r, :])[targets[r]] for rows whose target >= 0; rows with a
   * negative target (ignored) get 0. Used for cross-entropy, DPO sequence log-likelihoods and
   * per-token log-probs of samples.
   */
  logprobsGather(logits: Float32Array, targets: Int32Array, out: Float32Array, rows: number, cols: number): void;
  /** dlogits[r, :] += dout[r] * (onehot(targets[r]) - softmax(logits[r, :])); ignored rows get nothing. */
  logprobsGatherBackward(
    logits: Float32Array,
    targets: Int32Array,
    dout: Float32Array,
    dlogits: Float32Array,
    rows: number,
    cols: number,
  ): void;
  /**
   * Fused mean cross-entropy over the rows whose target >= 0: returns { loss, count } with
   * loss = -sum(logprobs)/count (0 when count = 0). If dlogits is given, writes (overwrites)
   * (softmax - onehot) * gradScale / count into it for those rows and 0 into ignored rows.
   */
  crossEntropy(
    logits: Float32Array,
    targets: Int32Array,
    rows: number,
    cols: number,
    dlogits?: Float32Array,
    gradScale?: number,
  ): { loss: number; count: number };

  // ---- Optimizer ----
  adamwStep(args: AdamWArgs): void;
}
