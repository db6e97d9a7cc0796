// The native kernels (C++/OpenBLAS addon) against the JS reference, on random inputs with odd
// sizes, transposes, strides/offsets, GQA, a KV-cache window (pastLen) and key masks; plus the
// addon's own checks of buffer lengths and types. The decode paths (the worker pool's small
// products, attention over a shared prefix) are in nativeDecode.test.ts.
//
// Tolerance: |native - js| <= ATOL + RTOL |js| with ATOL = 1e-5, RTOL = 1e-4 for every kernel
// (fp32 results that differ only in summation order and in float vs double intermediates);
// matmul and attention, whose sums run over up to ~100 terms of O(1) products, use ATOL = 1e-4.
// Skipped, with the reason printed, when the addon is not built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels as J } from '../../../src/engine/kernels/reference.js';
import { Prng } from '../../../src/engine/prng.js';
import { assertClose, nativeUnderTest, randArray } from '../helpers.js';

const ATOL = 1e-5;
const RTOL = 1e-4;
const MM_ATOL = 1e-4;

const { N, skip } = nativeUnderTest('kernels-native');

const copy = (a: Float32Array): Float32Array => new Float32Array(a);

test('matmul: all transposes, odd sizes, alpha/beta, batch, broadcast, offsets and leading dims', { skip }, () => {
  const rng = new Prng(11);
  // A @ B^T with few rows takes the decode path (small_gemm.cc): row blocks of 4 and the 1..3 left, k tails.
  for (const [m, n, k] of [
    [1, 1, 1],
    [7, 5, 3],
    [33, 17, 65],
    [2, 64, 9],
    [8, 9, 70],
    [7, 6, 37],
    [3, 10, 16],
    [5, 4, 23],
    [1, 3, 300],
    [12, 9, 40],
    [16, 5, 33],
  ] as const) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const batch = 3;
        const lda = (transA ? m : k) + 3; // padded rows: a view into a wider matrix
        const ldb = (transB ? k : n) + 1;
        const ldc = n + 2;
        const sA = (transA ? k : m) * lda + 5;
        const offA = 4,
          offB = 2,
          offC = 7;
        const a = randArray(rng, offA + batch * sA);
        const b = randArray(rng, offB + (transB ? n : k) * ldb); // broadcast: strideB = 0
        const sC = m * ldc + 1;
        const c0 = randArray(rng, offC + batch * sC);
        const args = {
          a,
          b,
          m,
          n,
          k,
          transA,
          transB,
          alpha: 0.5,
          beta: 1,
          batch,
          strideA: sA,
          strideB: 0,
          strideC: sC,
          offsetA: offA,
          offsetB: offB,
          offsetC: offC,
          lda,
          ldb,
          ldc,
        };
        const cj = copy(c0),
          cn = copy(c0);
        J.matmul({ ...args, c: cj });
        N.matmul({ ...args, c: cn });
        assertClose(`matmul ${m}x${n}x${k} tA=${transA} tB=${transB}`, cn, cj, MM_ATOL, RTOL);
      }
    }
  }
  // Defaults (packed, beta 0) overwrite a C that holds NaN, as BLAS does.
  const a = randArray(rng, 6 * 4),
    b = randArray(rng, 4 * 5);
  const cj = new Float32Array(30).fill(NaN),
    cn = new Float32Array(30).fill(NaN);
  J.matmul({ a, b, c: cj, m: 6, n: 5, k: 4 });
  N.matmul({ a, b, c: cn, m: 6, n: 5, k: 4 });
  assertClose('matmul defaults', cn, cj, MM_ATOL, RTOL);
  const ct = new Float32Array(30).fill(NaN),
    ctj = new Float32Array(30).fill(NaN);
  J.matmul({ a, b, c: ctj, m: 6, n: 5, k: 4, transB: true });
  N.matmul({ a, b, c: ct, m: 6, n: 5, k: 4, transB: true }); // the decode path, beta 0
  assertClose('matmul defaults, B transposed', ct, ctj, MM_ATOL, RTOL);
  // k = 0: C = beta * C.
  const c2 = randArray(rng, 6);
  const want = c2.map((x) => 2 * x);
  N.matmul({ a: new Float32Array(0), b: new Float32Array(0), c: c2, m: 2, n: 3, k: 0, beta: 2 });
  assertClose('matmul k=0', c2, want);
});

test('elementwise and reductions, including aliased outputs', { skip }, () => {
  const rng = new Prng(12);
  const n = 1001;
  const a = randArray(rng, n),
    b = randArray(rng, n);
  for (const op of ['add', 'mul'] as const) {
    const oj = new Float32Array(n),
      on = new Float32Array(n);
    J[op](a, b, oj, n);
    N[op](a, b, on, n);
    assertClose(op, on, oj);
    const alias = copy(a);
    N[op](alias, b, alias, n); // out aliases a
    assertClose(`${op} aliased`, alias, oj);
  }
  const sj = new Float32Array(n),
    sn = new Float32Array(n);
  J.scale(a, -1.7, sj, n);
  N.scale(a, -1.7, sn, n);
  assertClose('scale', sn, sj);
  const yj = copy(b),
    yn = copy(b);
  J.axpy(0.3, a, yj, n);
  N.axpy(0.3, a, yn, n);
  assertClose('axpy', yn, yj);
  assert.ok(Math.abs(N.sum(a, n) - J.sum(a, n)) <= 1e-9 * n, 'sum');
  assert.ok(Math.abs(N.sumSquares(a, n) - J.sumSquares(a, n)) <= 1e-9 * n, 'sumSquares');
  assert.ok(Math.abs(N.sum(a, 7) - J.sum(a, 7)) <= 1e-12, 'sum of a prefix');
  assert.equal(N.allFinite(a, n), true);
  for (const bad of [NaN, Infinity, -Infinity]) {
    const x = copy(a);
    x[n - 1] = bad;
    assert.equal(N.allFinite(x, n), false, `allFinite sees ${bad}`);
    assert.equal(N.allFinite(x, n - 1), true, 'allFinite reads only n elements');
  }
});

test('activations: SwiGLU, SiLU, GELU forward and accumulating backward', { skip }, () => {
  const rng = new Prng(13);
  const n = 517;
  const g = randArray(rng, n, 3),
    u = randArray(rng, n),
    d = randArray(rng, n);
  const fj = new Float32Array(n),
    fn = new Float32Array(n);
  J.swigluForward(g, u, fj, n);
  N.swigluForward(g, u, fn, n);
  assertClose('swigluForward', fn, fj);
  const base1 = randArray(rng, n),
    base2 = randArray(rng, n);
  const [dgj, duj, dgn, dun] = [copy(base1), copy(base2), copy(base1), copy(base2)];
  J.swigluBackward(d, g, u, dgj, duj, n);
  N.swigluBackward(d, g, u, dgn, dun, n);
  assertClose('swigluBackward dgate', dgn, dgj);
  assertClose('swigluBackward dup', dun, duj);
  for (const [fwd, bwd] of [
    ['siluForward', 'siluBackward'],
    ['geluForward', 'geluBackward'],
  ] as const) {
    const oj = new Float32Array(n),
      on = new Float32Array(n);
    J[fwd](g, oj, n);
    N[fwd](g, on, n);
    assertClose(fwd, on, oj);
    const xj = copy(base1),
      xn = copy(base1);
    J[bwd](d, g, xj, n);
    N[bwd](d, g, xn, n);
    assertClose(bwd, xn, xj);
  }
});

test(
  'vectorized exp (through SiLU and logSoftmax): within a few ulp of exp in double from -110 to 110, inf, NaN and underflow as IEEE, independent of position',
  { skip },
  () => {
    // silu(x) = x / (1 + exp(-x)): its relative error is exp's wherever exp(-x) dominates.
    const xs: number[] = [];
    for (let x = -110; x <= 110; x += 0.0137) xs.push(x);
    xs.push(0, -0, 88.72, 88.73, -87.3, -103.9, -104, 1e-8, -1e-8);
    const x = Float32Array.from(xs);
    const out = new Float32Array(x.length);
    N.siluForward(x, out, x.length);
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      const want = xi / (1 + Math.exp(-xi));
      const fw = Math.fround(want);
      // Past float range: exp(-x) overflows to inf (silu -> -0) or is a subnormal; compare absolutely.
      if (Math.abs(fw) < 1e-30) assert.ok(Math.abs(out[i]!) < 1e-30, `silu(${xi}) = ${out[i]}, want ~${want}`);
      else
        assert.ok(
          Math.abs(out[i]! - want) <= 4e-7 * Math.abs(want),
          `silu(${xi}) = ${out[i]}, want ${want} (rel ${Math.abs(out[i]! - want) / Math.abs(want)})`,
        );
    }
    const special = Float32Array.from([NaN, Infinity, -Infinity, 1000, -1000]);
    const so = new Float32Array(special.length);
    N.siluForward(special, so, special.length);
    assert.ok(Number.isNaN(so[0]!), 'silu(NaN) is NaN');
    assert.equal(so[1], Infinity);
    assert.ok(Number.isNaN(so[2]!), 'silu(-inf) = -inf * 0 is NaN');
    assert.equal(so[3], 1000);
    assert.ok(Object.is(so[4], -0) || so[4] === 0);
    // The same value at every offset (no separate tail formula): x shifted by one place.
    const shifted = new Float32Array(x.length + 1);
    shifted.set(x, 1);
    const out2 = new Float32Array(shifted.length);
    N.siluForward(shifted, out2, shifted.length);
    for (let i = 0; i < x.length; i++)
      if (!Object.is(out2[i + 1], out[i])) assert.fail(`silu(${x[i]}) differs by position: ${out[i]} vs ${out2[i + 1]}`);
    // logSoftmax over a wide row against double.
    const row = Float32Array.from({ length: 333 }, (_, j) => Math.fround(-90 + (j * 190) / 333));
    const ls = new Float32Array(row.length);
    N.logSoftmax(row, ls, 1, row.length);
    const mx = Math.max(...row);
    const lse = mx + Math.log(row.reduce((t, v) => t + Math.exp(v - mx), 0));
    for (let j = 0; j < row.length; j++)
      assert.ok(Math.abs(ls[j]! - (row[j]! - lse)) <= 1e-5 + 1e-6 * Math.abs(row[j]! - lse), `logSoftmax[${j}]`);
  },
);

test('embedding gather and scatter-add with repeated ids; ids out of range throw', { skip }, () => {
  const rng = new Prng(14);
  const vocab = 11,
    dim = 7,
    rows = 9;
  const table = randArray(rng, vocab * dim);
  const ids = new Int32Array([3, 0, 10, 3, 3, 5, 0, 9, 1]);
  const oj = new Float32Array(rows * dim),
    on = new Float32Array(rows * dim);
  J.embeddingForward(table, ids, oj, rows, dim, vocab);
  N.embeddingForward(table, ids, on, rows, dim, vocab);
  assertClose('embeddingForward', on, oj);
  const dout = randArray(rng, rows * dim),
    base = randArray(rng, vocab * dim);
  const dj = copy(base),
    dn = copy(base);
  J.embeddingBackward(dout, ids, dj, rows, dim);
  N.embeddingBackward(dout, ids, dn, rows, dim);
  assertClose('embeddingBackward', dn, dj);
  assert.throws(() => N.embeddingForward(table, new Int32Array([1, 11]), on, 2, dim, vocab), /embeddingForward.*11 at row 1/);
  assert.throws(() => N.embeddingBackward(dout, new Int32Array([-1]), dn, 1, dim), /embeddingBackward.*-1/);
});

test('copyRows: strided rows into strided places, untouched elsewhere; a destination too short throws', { skip }, () => {
  const rng = new Prng(15);
  const src = randArray(rng, 5 * 9),
    base = randArray(rng, 80);
  const dj = copy(base),
    dn = copy(base);
  J.copyRows(src, dj, 5, 7, 9, 3, 15);
  N.copyRows(src, dn, 5, 7, 9, 3, 15);
  assert.deepEqual(dn, dj);
  assert.equal(dn[3 + 2 * 15 + 6], src[2 * 9 + 6]);
  assert.equal(dn[3 + 2 * 15 + 7], base[3 + 2 * 15 + 7], 'past cols stays');
  assert.throws(() => N.copyRows(src, dn, 5, 7, 9, 20, 15), /copyRows: buffer 'dst' has 80 elements/);
});

test('RMSNorm forward (also in place) and backward', { skip }, () => {
  const rng = new Prng(15);
  const rows = 5,
    dim = 67,
    eps = 1e-5;
  const x = randArray(rng, rows * dim, 2),
    w = randArray(rng, dim);
  const oj = new Float32Array(rows * dim),
    on = new Float32Array(rows * dim);
  const ij = new Float32Array(rows),
    inn = new Float32Array(rows);
  J.rmsnormForward(x, w, oj, ij, rows, dim, eps);
  N.rmsnormForward(x, w, on, inn, rows, dim, eps);
  assertClose('rmsnormForward', on, oj);
  assertClose('rmsnormForward invRms', inn, ij);
  const xi = copy(x);
  N.rmsnormForward(xi, w, xi, inn, rows, dim, eps);
  assertClose('rmsnormForward in place', xi, oj);
  const dout = randArray(rng, rows * dim),
    bx = randArray(rng, rows * dim),
    bw = randArray(rng, dim);
  const [dxj, dwj, dxn, dwn] = [copy(bx), copy(bw), copy(bx), copy(bw)];
  J.rmsnormBackward(dout, x, w, ij, dxj, dwj, rows, dim);
  N.rmsnormBackward(dout, x, w, ij, dxn, dwn, rows, dim);
  assertClose('rmsnormBackward dx', dxn, dxj);
  assertClose('rmsnormBackward dw', dwn, dwj);
});

test('RoPE forward and inverse at arbitrary positions; positions outside the tables throw', { skip }, () => {
  const rng = new Prng(16);
  const rows = 6,
    heads = 3,
    hd = 10,
    half = hd / 2,
    maxPos = 40;
  const cos = new Float32Array(maxPos * half),
    sin = new Float32Array(maxPos * half);
  for (let p = 0; p < maxPos; p++)
    for (let i = 0; i < half; i++) {
      const ang = p * Math.pow(10000, (-2 * i) / hd);
      cos[p * half + i] = Math.cos(ang);
      sin[p * half + i] = Math.sin(ang);
    }
  const pos = new Int32Array([0, 39, 7, 7, 1, 23]);
  const x = randArray(rng, rows * heads * hd);
  for (const inverse of [false, true]) {
    const xj = copy(x),
      xn = copy(x);
    J.rope(xj, pos, cos, sin, rows, heads, hd, inverse);
    N.rope(xn, pos, cos, sin, rows, heads, hd, inverse);
    assertClose(`rope inverse=${inverse}`, xn, xj);
  }
  const round = copy(x);
  N.rope(round, pos, cos, sin, rows, heads, hd, false);
  N.rope(round, pos, cos, sin, rows, heads, hd, true);
  assertClose('rope then inverse', round, x);
  assert.throws(() => N.rope(copy(x), new Int32Array([0, 40, 0, 0, 0, 0]), cos, sin, rows, heads, hd, false), /rope: position 40 at row 1/);
});

interface AttnCase {
  batch: number;
  tq: number;
  tk: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  pastLen: number;
  kvOffset: number;
  kvBatchStride: number;
  mask: boolean;
}

function attnCase(c: AttnCase, seed: number): void {
  const rng = new Prng(seed);
  const { batch, tq, tk, heads, kvHeads, headDim, pastLen, kvOffset, kvBatchStride } = c;
  const q = randArray(rng, batch * tq * heads * headDim);
  const kvLen = kvOffset + batch * kvBatchStride;
  const k = randArray(rng, kvLen),
    v = randArray(rng, kvLen);
  let keyMask: Uint8Array | undefined;
  if (c.mask) {
    keyMask = new Uint8Array(batch * tk).fill(1);
    keyMask[0] = 0; // batch 0: first key hidden, so a query that sees only key 0 gets a zero row
    keyMask[1] = 0;
    if (batch > 1) keyMask[tk + tk - 1] = 0;
  }
  const base = {
    q,
    k,
    v,
    batch,
    tq,
    tk,
    heads,
    kvHeads,
    headDim,
    pastLen,
    scale: 1 / Math.sqrt(headDim),
    kvOffset,
    kvBatchStride,
    ...(keyMask ? { keyMask } : {}),
  };
  const size = batch * tq * heads * headDim;
  const oj = new Float32Array(size),
    on = new Float32Array(size).fill(NaN);
  const pj = new Float32Array(batch * heads * tq * tk),
    pn = new Float32Array(pj.length).fill(NaN);
  J.attentionForward({ ...base, out: oj, probs: pj });
  N.attentionForward({ ...base, out: on, probs: pn });
  const label = JSON.stringify(c);
  assertClose(`attention out ${label}`, on, oj, MM_ATOL, RTOL);
  assertClose(`attention probs ${label}`, pn, pj, ATOL, RTOL);
  const oi = new Float32Array(size).fill(NaN); // inference path: no probs buffer
  N.attentionForward({ ...base, out: oi });
  assertClose(`attention out without probs ${label}`, oi, oj, MM_ATOL, RTOL);
}

test('attention forward: GQA, KV-cache window (pastLen, kvOffset, batch stride), key mask', { skip }, () => {
  // Training shape (pastLen 0, tk = tq), multi-query, and grouped-query.
  attnCase(
    { batch: 2, tq: 5, tk: 5, heads: 4, kvHeads: 2, headDim: 8, pastLen: 0, kvOffset: 0, kvBatchStride: 5 * 2 * 8, mask: false },
    21,
  );
  attnCase({ batch: 1, tq: 9, tk: 9, heads: 3, kvHeads: 1, headDim: 5, pastLen: 0, kvOffset: 0, kvBatchStride: 9 * 5, mask: true }, 22);
  // Decoding into a cache of capacity 12 per batch item at offset 13: tk = 7 live keys.
  attnCase(
    { batch: 2, tq: 3, tk: 7, heads: 4, kvHeads: 2, headDim: 6, pastLen: 4, kvOffset: 13, kvBatchStride: 12 * 2 * 6, mask: true },
    23,
  );
  // One token at a time, and a window where tk < pastLen + tq (later queries see every key).
  attnCase(
    { batch: 3, tq: 1, tk: 6, heads: 2, kvHeads: 2, headDim: 4, pastLen: 5, kvOffset: 0, kvBatchStride: 6 * 2 * 4, mask: false },
    24,
  );
  attnCase({ batch: 1, tq: 4, tk: 5, heads: 2, kvHeads: 1, headDim: 3, pastLen: 3, kvOffset: 2, kvBatchStride: 5 * 3, mask: false }, 25);
  // Longer than the native causal block (128 queries): three blocks, the last one short; and a
  // prefill of 150 queries after 30 cached keys.
  attnCase(
    { batch: 2, tq: 300, tk: 300, heads: 2, kvHeads: 1, headDim: 8, pastLen: 0, kvOffset: 0, kvBatchStride: 300 * 8, mask: true },
    26,
  );
  attnCase(
    { batch: 1, tq: 150, tk: 180, heads: 2, kvHeads: 2, headDim: 4, pastLen: 30, kvOffset: 3, kvBatchStride: 180 * 2 * 4, mask: false },
    27,
  );
});

test('attention backward accumulates dq, dk, dv as the reference does (GQA, key mask, t past the causal block)', { skip }, () => {
  for (const [batch, t, heads, kvHeads, headDim, mask] of [
    [2, 6, 4, 2, 8, true],
    [1, 11, 2, 2, 5, false],
    [3, 4, 6, 1, 4, true],
    [2, 300, 2, 1, 8, true],
  ] as const) {
    const rng = new Prng(30 + t);
    const q = randArray(rng, batch * t * heads * headDim);
    const k = randArray(rng, batch * t * kvHeads * headDim),
      v = randArray(rng, k.length);
    const keyMask = mask ? new Uint8Array(batch * t).fill(1).map((_, i) => (i % 5 === 3 ? 0 : 1)) : undefined;
    const scale = 1 / Math.sqrt(headDim);
    const out = new Float32Array(q.length),
      probs = new Float32Array(batch * heads * t * t);
    J.attentionForward({
      q,
      k,
      v,
      out,
      probs,
      batch,
      tq: t,
      tk: t,
      heads,
      kvHeads,
      headDim,
      pastLen: 0,
      scale,
      ...(keyMask ? { keyMask } : {}),
    });
    const dout = randArray(rng, q.length);
    const bq = randArray(rng, q.length),
      bk = randArray(rng, k.length),
      bv = randArray(rng, k.length);
    const gj = { dq: copy(bq), dk: copy(bk), dv: copy(bv) },
      gn = { dq: copy(bq), dk: copy(bk), dv: copy(bv) };
    const args = { dout, q, k, v, probs, batch, t, heads, kvHeads, headDim, scale, ...(keyMask ? { keyMask } : {}) };
    J.attentionBackward({ ...args, ...gj });
    N.attentionBackward({ ...args, ...gn });
    for (const key of ['dq', 'dk', 'dv'] as const) assertClose(`attentionBackward ${key} t=${t}`, gn[key], gj[key], MM_ATOL, RTOL);
  }
});

test('softmax family: logSoftmax (in place), log-prob gather and backward, cross-entropy with ignored rows', { skip }, () => {
  const rng = new Prng(17);
  const rows = 7,
    cols = 37;
  const x = randArray(rng, rows * cols, 4);
  const lj = new Float32Array(x.length),
    ln = copy(x);
  J.logSoftmax(x, lj, rows, cols);
  N.logSoftmax(ln, ln, rows, cols);
  assertClose('logSoftmax in place', ln, lj);
  const targets = new Int32Array([3, -1, 0, 36, -100, 12, 12]);
  const gj = new Float32Array(rows),
    gn = new Float32Array(rows).fill(NaN);
  J.logprobsGather(x, targets, gj, rows, cols);
  N.logprobsGather(x, targets, gn, rows, cols);
  assertClose('logprobsGather', gn, gj);
  const dout = randArray(rng, rows),
    base = randArray(rng, x.length);
  const dj = copy(base),
    dn = copy(base);
  J.logprobsGatherBackward(x, targets, dout, dj, rows, cols);
  N.logprobsGatherBackward(x, targets, dout, dn, rows, cols);
  assertClose('logprobsGatherBackward', dn, dj);
  for (const gradScale of [1, 0.25]) {
    const cj = new Float32Array(x.length),
      cn = new Float32Array(x.length).fill(NaN);
    const rj = J.crossEntropy(x, targets, rows, cols, cj, gradScale);
    const rn = N.crossEntropy(x, targets, rows, cols, cn, gradScale);
    assert.equal(rn.count, 5);
    assert.equal(rn.count, rj.count);
    assert.ok(Math.abs(rn.loss - rj.loss) <= 1e-5 * Math.abs(rj.loss), `crossEntropy loss ${rn.loss} vs ${rj.loss}`);
    assertClose(`crossEntropy dlogits gradScale=${gradScale}`, cn, cj);
  }
  const none = N.crossEntropy(x, new Int32Array(rows).fill(-1), rows, cols);
  assert.deepEqual(none, { loss: 0, count: 0 });
  assert.throws(() => N.logprobsGather(x, new Int32Array(rows).fill(cols), gn, rows, cols), /logprobsGather: target 37 at row 0/);
});

test('AdamW: several steps with weight decay and a grad scale match the reference', { skip }, () => {
  const rng = new Prng(18);
  const n = 301;
  const p0 = randArray(rng, n);
  const pj = copy(p0),
    pn = copy(p0);
  const [mj, vj, mn, vn] = [new Float32Array(n), new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  for (let step = 1; step <= 4; step++) {
    const grad = randArray(rng, n);
    const args = { grad, lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step, gradScale: 0.5 };
    J.adamwStep({ ...args, param: pj, m: mj, v: vj });
    N.adamwStep({ ...args, param: pn, m: mn, v: vn });
  }
  assertClose('adamw param', pn, pj);
  assertClose('adamw m', mn, mj);
  assertClose('adamw v', vn, vj);
  assert.ok(
    pn.some((x, i) => x !== p0[i]),
    'params moved',
  );
});

test('buffers too short for their shape, and wrong array types, throw errors naming the kernel', { skip }, () => {
  const f = (n: number): Float32Array => new Float32Array(n);
  assert.throws(() => N.matmul({ a: f(6), b: f(6), c: f(3), m: 2, n: 2, k: 3 }), /matmul: buffer 'c' has 3 elements/);
  assert.throws(() => N.matmul({ a: f(5), b: f(6), c: f(4), m: 2, n: 2, k: 3 }), /matmul: buffer 'a' has 5 elements/);
  assert.throws(() => N.matmul({ a: f(12), b: f(6), c: f(8), m: 2, n: 2, k: 3, batch: 2 }), /matmul: buffer 'b'/);
  assert.throws(() => N.matmul({ a: f(6), b: f(6), c: f(4), m: 2, n: 2, k: 3, lda: 2 }), /matmul: leading dimension of 'a'/);
  assert.throws(() => N.add(f(4), f(3), f(4), 4), /add: buffer 'b' has 3 elements/);
  assert.throws(() => N.add(new Float64Array(4) as unknown as Float32Array, f(4), f(4), 4), /add: 'a' must be a Float32Array/);
  assert.throws(() => N.rmsnormForward(f(10), f(4), f(10), f(2), 2, 5, 1e-5), /rmsnormForward: buffer 'w'/);
  assert.throws(
    () =>
      N.attentionForward({
        q: f(16),
        k: f(15),
        v: f(16),
        out: f(16),
        batch: 1,
        tq: 2,
        tk: 2,
        heads: 2,
        kvHeads: 2,
        headDim: 4,
        pastLen: 0,
        scale: 1,
      }),
    /attentionForward: buffer 'k' has 15 elements/,
  );
  assert.throws(
    () =>
      N.attentionForward({
        q: f(24),
        k: f(24),
        v: f(24),
        out: f(24),
        batch: 1,
        tq: 2,
        tk: 2,
        heads: 3,
        kvHeads: 2,
        headDim: 4,
        pastLen: 0,
        scale: 1,
      }),
    /heads \(3\) must be a multiple of kvHeads \(2\)/,
  );
  assert.throws(() => N.crossEntropy(f(10), new Int32Array(2), 2, 5, f(9)), /crossEntropy: buffer 'dlogits'/);
  assert.throws(
    () => N.adamwStep({ param: f(4), grad: f(3), m: f(4), v: f(4), lr: 1, beta1: 0.9, beta2: 0.9, eps: 1e-8, weightDecay: 0, step: 1 }),
    /adamwStep: buffer 'grad'/,
  );
  assert.throws(() => N.sum(f(3), 4), /sum: buffer 'x' has 3 elements but n = 4 needs 4/);
});

test('info reports OpenBLAS and the thread count that setThreads sets', { skip }, () => {
  const before = N.info().threads;
  try {
    N.setThreads(1);
    assert.equal(N.info().threads, 1);
    const info = N.info();
    assert.equal(info.backend, 'native');
    assert.match(info.blas ?? '', /OpenBLAS/);
  } finally {
    N.setThreads(before);
  }
  assert.equal(N.info().threads, before);
});
