// The JS reference kernels against independent constructions and central finite differences.
// These are the oracle for the native addon, so each is checked from first principles here.
// Tolerance: fp32 finite differences with eps 1e-2, |fd - analytic| <= 1e-3 + 1e-2 |fd|.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels as K } from '../../../src/engine/kernels/reference.js';
import { Prng } from '../../../src/engine/prng.js';
import { assertClose, checkGrad, dotLoss, randArray } from '../helpers.js';

/** Dense (rows, cols) copy of a stored matrix read through (ld, trans). */
function dense(src: Float32Array, off: number, rows: number, cols: number, ld: number, trans: boolean): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const row: number[] = [];
    for (let j = 0; j < cols; j++) row.push(trans ? src[off + j * ld + i]! : src[off + i * ld + j]!);
    out.push(row);
  }
  return out;
}

test('matmul: transposes, batch strides, broadcast, offsets, leading dims, alpha/beta', () => {
  const rng = new Prng(1);
  const m = 3,
    n = 4,
    k = 5,
    batch = 2;
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      // Padded leading dims (+2) and offsets (+3) exercise the strided paths; B broadcasts (stride 0).
      const lda = (transA ? m : k) + 2;
      const ldb = (transB ? k : n) + 2;
      const ldc = n + 1;
      const aRows = transA ? k : m;
      const bRows = transB ? n : k;
      const strideA = aRows * lda;
      const a = randArray(rng, 3 + batch * strideA);
      const b = randArray(rng, 1 + bRows * ldb);
      const c0 = randArray(rng, 2 + batch * m * ldc);
      const c = c0.slice();
      K.matmul({
        a,
        b,
        c,
        m,
        n,
        k,
        transA,
        transB,
        alpha: 0.5,
        beta: 1,
        batch,
        lda,
        ldb,
        ldc,
        strideA,
        strideB: 0,
        strideC: m * ldc,
        offsetA: 3,
        offsetB: 1,
        offsetC: 2,
      });
      for (let bi = 0; bi < batch; bi++) {
        const A = dense(a, 3 + bi * strideA, m, k, lda, transA);
        const B = dense(b, 1, k, n, ldb, transB);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let l = 0; l < k; l++) s += A[i]![l]! * B[l]![j]!;
            const ci = 2 + bi * m * ldc + i * ldc + j;
            assert.ok(Math.abs(c[ci]! - (0.5 * s + c0[ci]!)) < 1e-5, `transA=${transA} transB=${transB} C[${bi},${i},${j}]`);
          }
        }
      }
      // Padding columns of C (j = n) are untouched.
      assert.equal(c[2 + n], c0[2 + n]);
    }
  }
  // beta = 0 overwrites, even a NaN.
  const c = new Float32Array([NaN]);
  K.matmul({ a: new Float32Array([2]), b: new Float32Array([3]), c, m: 1, n: 1, k: 1 });
  assert.equal(c[0], 6);
});

test('elementwise, sum, sumSquares, allFinite', () => {
  const a = new Float32Array([1, -2, 3]);
  const b = new Float32Array([4, 5, -6]);
  const o = new Float32Array(3);
  K.add(a, b, o, 3);
  assert.deepEqual([...o], [5, 3, -3]);
  K.mul(a, b, o, 3);
  assert.deepEqual([...o], [4, -10, -18]);
  K.scale(a, 2, o, 3);
  assert.deepEqual([...o], [2, -4, 6]);
  K.axpy(-1, a, o, 3);
  assert.deepEqual([...o], [1, -2, 3]);
  assert.equal(K.sum(a, 3), 2);
  assert.equal(K.sumSquares(a, 3), 14);
  assert.equal(K.allFinite(a, 3), true);
  assert.equal(K.allFinite(new Float32Array([0, Infinity]), 2), false);
  assert.equal(K.allFinite(new Float32Array([0, NaN]), 1), true, 'only the first n elements count');
});

test('embedding: gather, scatter-add backward, out-of-range id throws', () => {
  const table = new Float32Array([0, 1, 10, 11, 20, 21]); // (3, 2)
  const ids = new Int32Array([2, 0, 2]);
  const out = new Float32Array(6);
  K.embeddingForward(table, ids, out, 3, 2, 3);
  assert.deepEqual([...out], [20, 21, 0, 1, 20, 21]);
  const dt = new Float32Array(6);
  K.embeddingBackward(new Float32Array([1, 2, 3, 4, 5, 6]), ids, dt, 3, 2);
  assert.deepEqual([...dt], [3, 4, 0, 0, 6, 8]);
  assert.throws(() => K.embeddingForward(table, new Int32Array([3]), out, 1, 2, 3), /token id 3/);
});

test('rmsnorm forward matches definition; backward matches finite differences', () => {
  const rng = new Prng(2);
  const rows = 3,
    dim = 5,
    eps = 1e-5;
  const x = randArray(rng, rows * dim);
  const w = randArray(rng, dim);
  const r = randArray(rng, rows * dim);
  const out = new Float32Array(rows * dim);
  const inv = new Float32Array(rows);
  K.rmsnormForward(x, w, out, inv, rows, dim, eps);
  for (let i = 0; i < rows; i++) {
    let ms = 0;
    for (let d = 0; d < dim; d++) ms += x[i * dim + d]! ** 2 / dim;
    for (let d = 0; d < dim; d++) assert.ok(Math.abs(out[i * dim + d]! - (x[i * dim + d]! / Math.sqrt(ms + eps)) * w[d]!) < 1e-5);
  }
  const f = (): number => {
    K.rmsnormForward(x, w, out, inv, rows, dim, eps);
    return dotLoss(out, r);
  };
  f();
  const dx = new Float32Array(rows * dim);
  const dw = new Float32Array(dim);
  K.rmsnormBackward(r, x, w, inv, dx, dw, rows, dim);
  checkGrad('rmsnorm dx', x, f, dx);
  checkGrad('rmsnorm dw', w, f, dw);
});

test('rope: rotate-half convention, inverse undoes forward', () => {
  const headDim = 4,
    half = 2,
    maxPos = 3,
    theta = 10000;
  const cos = new Float32Array(maxPos * half);
  const sin = new Float32Array(maxPos * half);
  for (let p = 0; p < maxPos; p++)
    for (let i = 0; i < half; i++) {
      const ang = p * Math.pow(theta, (-2 * i) / headDim);
      cos[p * half + i] = Math.cos(ang);
      sin[p * half + i] = Math.sin(ang);
    }
  const x = new Float32Array([1, 2, 3, 4]);
  K.rope(x, new Int32Array([1]), cos, sin, 1, 1, headDim, false);
  // Pair (x0, x2) rotates by angle 1; pair (x1, x3) by 1/100.
  assert.ok(Math.abs(x[0]! - (Math.cos(1) - 3 * Math.sin(1))) < 1e-6);
  assert.ok(Math.abs(x[2]! - (3 * Math.cos(1) + Math.sin(1))) < 1e-6);
  assert.ok(Math.abs(x[1]! - (2 * Math.cos(0.01) - 4 * Math.sin(0.01))) < 1e-6);
  K.rope(x, new Int32Array([1]), cos, sin, 1, 1, headDim, true);
  assertClose('rope roundtrip', x, new Float32Array([1, 2, 3, 4]), 1e-6);
});

test('attention: probs are a causal softmax; pastLen over a cache equals the full forward', () => {
  const rng = new Prng(3);
  const batch = 2,
    t = 5,
    heads = 4,
    kvHeads = 2,
    hd = 3,
    scale = 1 / Math.sqrt(hd);
  const q = randArray(rng, batch * t * heads * hd);
  const k = randArray(rng, batch * t * kvHeads * hd);
  const v = randArray(rng, batch * t * kvHeads * hd);
  const out = new Float32Array(q.length);
  const probs = new Float32Array(batch * heads * t * t);
  K.attentionForward({ q, k, v, out, batch, tq: t, tk: t, heads, kvHeads, headDim: hd, pastLen: 0, scale, probs });
  for (let row = 0; row < batch * heads * t; row++) {
    const i = row % t;
    let s = 0;
    for (let j = 0; j < t; j++) {
      if (j > i) assert.equal(probs[row * t + j], 0, 'future key hidden');
      s += probs[row * t + j]!;
    }
    assert.ok(Math.abs(s - 1) < 1e-5);
  }
  // Independent check of one output: batch 1, head 3 (kv head 1), query 2.
  {
    const b = 1,
      h = 3,
      i = 2,
      kvh = 1;
    const sc: number[] = [];
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let d = 0; d < hd; d++) s += q[((b * t + i) * heads + h) * hd + d]! * k[((b * t + j) * kvHeads + kvh) * hd + d]!;
      sc.push(Math.exp(s * scale));
    }
    const z = sc.reduce((a, c) => a + c, 0);
    for (let d = 0; d < hd; d++) {
      let o = 0;
      for (let j = 0; j <= i; j++) o += (sc[j]! / z) * v[((b * t + j) * kvHeads + kvh) * hd + d]!;
      assert.ok(Math.abs(out[((b * t + i) * heads + h) * hd + d]! - o) < 1e-5);
    }
  }
  // Last two queries against a cache with capacity 8 stored at an offset; pastLen = 3.
  const cap = 8,
    off = 7,
    past = 3,
    tq = t - past;
  const kvStride = cap * kvHeads * hd;
  const kc = new Float32Array(off + batch * kvStride).fill(99); // junk beyond tk must be ignored
  const vc = kc.slice();
  for (let b = 0; b < batch; b++) {
    kc.set(k.subarray(b * t * kvHeads * hd, (b + 1) * t * kvHeads * hd), off + b * kvStride);
    vc.set(v.subarray(b * t * kvHeads * hd, (b + 1) * t * kvHeads * hd), off + b * kvStride);
  }
  const q2 = new Float32Array(batch * tq * heads * hd);
  for (let b = 0; b < batch; b++) q2.set(q.subarray((b * t + past) * heads * hd, (b + 1) * t * heads * hd), b * tq * heads * hd);
  const out2 = new Float32Array(q2.length);
  K.attentionForward({
    q: q2,
    k: kc,
    v: vc,
    out: out2,
    batch,
    tq,
    tk: t,
    heads,
    kvHeads,
    headDim: hd,
    pastLen: past,
    scale,
    kvOffset: off,
    kvBatchStride: kvStride,
  });
  const want = new Float32Array(q2.length);
  for (let b = 0; b < batch; b++) want.set(out.subarray((b * t + past) * heads * hd, (b + 1) * t * heads * hd), b * tq * heads * hd);
  assertClose('cached attention', out2, want, 1e-6);
});

test('attention: keyMask hides keys (left padding equals the unpadded sequence)', () => {
  const rng = new Prng(4);
  const t = 4,
    pad = 2,
    heads = 2,
    hd = 2,
    scale = 0.7;
  const q = randArray(rng, t * heads * hd);
  const k = randArray(rng, t * heads * hd);
  const v = randArray(rng, t * heads * hd);
  const out = new Float32Array(q.length);
  K.attentionForward({ q, k, v, out, batch: 1, tq: t, tk: t, heads, kvHeads: heads, headDim: hd, pastLen: 0, scale });
  // The same sequence after `pad` junk tokens that the mask hides.
  const T = t + pad;
  const pre = (src: Float32Array): Float32Array => {
    const o = randArray(rng, T * heads * hd);
    o.set(src, pad * heads * hd);
    return o;
  };
  const mask = new Uint8Array(T).fill(1);
  mask.fill(0, 0, pad);
  const outP = new Float32Array(T * heads * hd);
  K.attentionForward({
    q: pre(q),
    k: pre(k),
    v: pre(v),
    out: outP,
    batch: 1,
    tq: T,
    tk: T,
    heads,
    kvHeads: heads,
    headDim: hd,
    pastLen: 0,
    scale,
    keyMask: mask,
  });
  assertClose('masked', outP.subarray(pad * heads * hd), out, 1e-6);
});

test('attention backward matches finite differences (GQA, keyMask)', () => {
  const rng = new Prng(5);
  const batch = 2,
    t = 4,
    heads = 4,
    kvHeads = 2,
    hd = 3,
    scale = 0.6;
  const q = randArray(rng, batch * t * heads * hd);
  const k = randArray(rng, batch * t * kvHeads * hd);
  const v = randArray(rng, batch * t * kvHeads * hd);
  const r = randArray(rng, q.length);
  const keyMask = new Uint8Array([1, 1, 1, 1, 0, 1, 1, 1]);
  const out = new Float32Array(q.length);
  const probs = new Float32Array(batch * heads * t * t);
  const f = (): number => {
    K.attentionForward({ q, k, v, out, batch, tq: t, tk: t, heads, kvHeads, headDim: hd, pastLen: 0, scale, probs, keyMask });
    return dotLoss(out, r);
  };
  f();
  const dq = new Float32Array(q.length),
    dk = new Float32Array(k.length),
    dv = new Float32Array(v.length);
  K.attentionBackward({ dout: r, q, k, v, probs, dq, dk, dv, batch, t, heads, kvHeads, headDim: hd, scale, keyMask });
  checkGrad('attn dq', q, f, dq);
  checkGrad('attn dk', k, f, dk);
  checkGrad('attn dv', v, f, dv);
});

test('activations: swiglu, silu, gelu backward match finite differences', () => {
  const rng = new Prng(6);
  const n = 7;
  const g = randArray(rng, n, 2),
    u = randArray(rng, n),
    r = randArray(rng, n);
  const out = new Float32Array(n);
  const fsw = (): number => (K.swigluForward(g, u, out, n), dotLoss(out, r));
  const dg = new Float32Array(n),
    du = new Float32Array(n);
  K.swigluBackward(r, g, u, dg, du, n);
  checkGrad('swiglu dgate', g, fsw, dg);
  checkGrad('swiglu dup', u, fsw, du);
  const fsi = (): number => (K.siluForward(g, out, n), dotLoss(out, r));
  const dsi = new Float32Array(n);
  K.siluBackward(r, g, dsi, n);
  checkGrad('silu', g, fsi, dsi);
  const fge = (): number => (K.geluForward(g, out, n), dotLoss(out, r));
  const dge = new Float32Array(n);
  K.geluBackward(r, g, dge, n);
  checkGrad('gelu', g, fge, dge);
  K.geluForward(new Float32Array([1]), out, 1);
  assert.ok(Math.abs(out[0]! - 0.841192) < 1e-6, 'gelu(1), tanh approximation');
});

test('logSoftmax, logprobsGather (+backward) and crossEntropy with an ignore mask', () => {
  const rng = new Prng(7);
  const rows = 4,
    cols = 5;
  const x = randArray(rng, rows * cols, 2);
  const targets = new Int32Array([1, -1, 4, 0]);
  const ls = new Float32Array(rows * cols);
  K.logSoftmax(x, ls, rows, cols);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(ls[i * cols + j]!);
    assert.ok(Math.abs(s - 1) < 1e-5);
  }
  const lp = new Float32Array(rows);
  K.logprobsGather(x, targets, lp, rows, cols);
  assert.equal(lp[1], 0, 'ignored row');
  assert.ok(Math.abs(lp[2]! - ls[2 * cols + 4]!) < 1e-6);
  const r = randArray(rng, rows);
  const dl = new Float32Array(rows * cols);
  K.logprobsGatherBackward(x, targets, r, dl, rows, cols);
  checkGrad('logprobsGather', x, () => (K.logprobsGather(x, targets, lp, rows, cols), dotLoss(lp, r)), dl);

  const dce = new Float32Array(rows * cols).fill(7); // overwritten, including ignored rows
  const { loss, count } = K.crossEntropy(x, targets, rows, cols, dce, 2);
  assert.equal(count, 3);
  K.logprobsGather(x, targets, lp, rows, cols);
  assert.ok(Math.abs(loss - -(lp[0]! + lp[2]! + lp[3]!) / 3) < 1e-6);
  for (let j = 0; j < cols; j++) assert.equal(dce[cols + j], 0);
  checkGrad('crossEntropy', x, () => 2 * K.crossEntropy(x, targets, rows, cols).loss, dce);
  assert.deepEqual(K.crossEntropy(x, new Int32Array(rows).fill(-1), rows, cols), { loss: 0, count: 0 });
});

test('adamwStep: two steps match the formula computed by hand', () => {
  const p = new Float32Array([1, -2]);
  const m = new Float32Array(2),
    v = new Float32Array(2);
  const lr = 0.1,
    b1 = 0.9,
    b2 = 0.99,
    eps = 1e-8,
    wd = 0.01,
    gs = 0.5;
  const grads = [new Float32Array([0.4, -1]), new Float32Array([0.2, 3])];
  const want = [1, -2],
    mm = [0, 0],
    vv = [0, 0];
  grads.forEach((g, s) => {
    K.adamwStep({ param: p, grad: g, m, v, lr, beta1: b1, beta2: b2, eps, weightDecay: wd, step: s + 1, gradScale: gs });
    for (let i = 0; i < 2; i++) {
      const gi = g[i]! * gs;
      mm[i] = b1 * mm[i]! + (1 - b1) * gi;
      vv[i] = b2 * vv[i]! + (1 - b2) * gi * gi;
      const mh = mm[i]! / (1 - b1 ** (s + 1));
      const vh = vv[i]! / (1 - b2 ** (s + 1));
      want[i] = want[i]! - lr * (mh / (Math.sqrt(vh) + eps) + wd * want[i]!);
    }
  });
  assertClose('adamw', p, new Float32Array(want), 1e-6);
});
