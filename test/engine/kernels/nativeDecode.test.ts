// The native kernels' decode paths against the JS reference: the decode-sized A @ B^T on genrm's
// worker pool (native/small_gemm.cc, native/pool.h), the pool under two JS threads at once, and
// attention over a shared prompt prefix. Skipped, with the reason printed, when the addon is not built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels as J } from '../../../src/engine/kernels/reference.js';
import type { Kernels } from '../../../src/engine/kernels/types.js';
import { Prng } from '../../../src/engine/prng.js';
import { assertClose, nativeUnderTest, randArray } from '../helpers.js';
import { fromHalfBits, halfToFloat, toHalfBits } from '../../../src/engine/kernels/half.js';

const RTOL = 1e-4;
const MM_ATOL = 1e-4;

const { N, skip } = nativeUnderTest('kernels-native-decode');

const copy = (a: Float32Array): Float32Array => new Float32Array(a);

test(
  'decode-sized A @ B^T on the worker pool: tile, chunk and k edges equal the reference; a row does not depend on the rows beside it',
  { skip },
  () => {
    const rng = new Prng(21);
    // Up to 8 rows (the path's default limit): big enough to be split over the pool (m*n*k >= 65536,
    // several 24-column chunks), with every row remainder (m % 4), column remainder (chunk % 3, and
    // the 6-wide blocks of m <= 2) and k % 8. Above the limit sgemm takes the product.
    for (const [m, n, k] of [
      [1, 256, 256],
      [2, 100, 257],
      [3, 77, 300],
      [5, 50, 200],
      [7, 688, 37],
      [8, 518, 256],
      [64, 256, 256],
      [129, 30, 64],
    ] as const) {
      const a = randArray(rng, m * k),
        b = randArray(rng, n * k);
      const ldc = n + 3;
      const c0 = randArray(rng, m * ldc);
      const cj = copy(c0),
        cn = copy(c0);
      J.matmul({ a, b, c: cj, m, n, k, transB: true, alpha: 0.75, beta: 0.5, ldc });
      N.matmul({ a, b, c: cn, m, n, k, transB: true, alpha: 0.75, beta: 0.5, ldc });
      assertClose(`matmul ${m}x${n}x${k} tB`, cn, cj, 1e-3, RTOL);
      // Each row alone gives bitwise the row it gave in the batch (one dot product per element, one
      // summation order), within the path's rows.
      for (const r of m <= 8 ? [0, m - 1, m >> 1] : []) {
        const one = new Float32Array(n);
        N.matmul({ a: a.subarray(r * k, (r + 1) * k), b, c: one, m: 1, n, k, transB: true });
        const full = new Float32Array(m * n);
        N.matmul({ a, b, c: full, m, n, k, transB: true });
        assert.deepEqual(one, full.subarray(r * n, (r + 1) * n), `row ${r} of ${m}x${n}x${k}`);
      }
    }
    // Many calls back to back (workers spinning between jobs, then sleeping and woken): all right.
    const a = randArray(rng, 8 * 256),
      b = randArray(rng, 256 * 256);
    const want = new Float32Array(8 * 256);
    J.matmul({ a, b, c: want, m: 8, n: 256, k: 256, transB: true });
    for (let i = 0; i < 200; i++) {
      const c = new Float32Array(8 * 256);
      N.matmul({ a, b, c, m: 8, n: 256, k: 256, transB: true });
      if (i % 50 === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2); // let the workers fall asleep
      assertClose(`call ${i}`, c, want, 1e-3, RTOL);
    }
  },
);

/** 300 products of one shape; how many came out different from the first (run on two JS threads at once). */
function repeatedProducts(K: Pick<Kernels, 'matmul'>): number {
  const a = new Float32Array(8 * 256).map((_, i) => Math.sin(i)),
    b = new Float32Array(200 * 256).map((_, i) => Math.cos(i));
  const ref = new Float32Array(8 * 200);
  K.matmul({ a, b, c: ref, m: 8, n: 200, k: 256, transB: true });
  let bad = 0;
  for (let i = 0; i < 300; i++) {
    const c = new Float32Array(8 * 200);
    K.matmul({ a, b, c, m: 8, n: 200, k: 256, transB: true });
    if (c.some((x, j) => x !== ref[j])) bad++;
  }
  return bad;
}

test('the worker pool under two JS threads at once: the busy pool runs the other caller inline, both right', { skip }, async () => {
  const { Worker } = await import('node:worker_threads');
  const url = new URL('../../../src/engine/kernels/index.js', import.meta.url).href;
  const code = `
    const { tryNativeKernels } = await import(${JSON.stringify(url)});
    const { parentPort } = await import('node:worker_threads');
    const K = tryNativeKernels();
    parentPort.postMessage('ready');
    parentPort.postMessage((${repeatedProducts.toString()})(K));`;
  const w = new Worker(code, { eval: true });
  const next = (): Promise<unknown> => new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject)));
  assert.equal(await next(), 'ready');
  const theirs = next();
  const mine = repeatedProducts(N); // while the worker runs the same loop
  assert.equal(mine, 0, 'main thread: results changed under a concurrent caller');
  assert.equal(await theirs, 0, 'worker thread: results changed under a concurrent caller');
  await w.terminate();
});

test('attention forward with a shared prefix: equals the flattened K/V, native and reference; misuse is a RangeError', { skip }, () => {
  for (const [batch, tq, P, own, heads, kvHeads, headDim] of [
    [4, 1, 5, 3, 4, 2, 8],
    [3, 2, 7, 4, 2, 2, 5],
    [2, 1, 1, 0, 2, 1, 4],
  ] as const) {
    const rng = new Prng(40 + P);
    const ldk = kvHeads * headDim;
    const tk = P + own + tq; // this call appends tq keys after P prefix and `own` earlier own keys
    const pastLen = P + own;
    const promptRows = 2,
      pStride = (P + 2) * ldk; // padded prefix rows
    const rows = Int32Array.from({ length: batch }, (_, b) => (b * 7) % promptRows);
    const pk = randArray(rng, promptRows * pStride),
      pv = randArray(rng, pk.length);
    const ownCap = own + tq + 1,
      kvBatchStride = ownCap * ldk,
      kvOffset = 3;
    const k = randArray(rng, kvOffset + batch * kvBatchStride),
      v = randArray(rng, k.length);
    const q = randArray(rng, batch * tq * heads * headDim);
    const keyMask = new Uint8Array(batch * tk).map((_, i) => (i % tk === 0 && i % 3 === 0 ? 0 : 1));
    // The same keys laid out flat: row b = its prefix row's P columns, then its own.
    const fk = new Float32Array(batch * tk * ldk),
      fv = new Float32Array(fk.length);
    for (let b = 0; b < batch; b++) {
      fk.set(pk.subarray(rows[b]! * pStride, rows[b]! * pStride + P * ldk), b * tk * ldk);
      fv.set(pv.subarray(rows[b]! * pStride, rows[b]! * pStride + P * ldk), b * tk * ldk);
      fk.set(k.subarray(kvOffset + b * kvBatchStride, kvOffset + b * kvBatchStride + (own + tq) * ldk), (b * tk + P) * ldk);
      fv.set(v.subarray(kvOffset + b * kvBatchStride, kvOffset + b * kvBatchStride + (own + tq) * ldk), (b * tk + P) * ldk);
    }
    const common = { q, batch, tq, tk, heads, kvHeads, headDim, pastLen, scale: 0.3, keyMask };
    const want = new Float32Array(q.length);
    J.attentionForward({ ...common, k: fk, v: fv, out: want });
    const prefix = { k: pk, v: pv, len: P, batchStride: pStride, rows };
    for (const [name, K] of [
      ['reference', J],
      ['native', N],
    ] as const) {
      const out = new Float32Array(q.length);
      K.attentionForward({ ...common, k, v, out, kvOffset, kvBatchStride, prefix });
      assertClose(`${name} prefix ${P} own ${own} tq ${tq}`, out, want, MM_ATOL, RTOL);
    }
    // Half-precision K/V (a f16 cache): the same as the float32 kernel over the halves' values.
    const h = (x: Float32Array): Uint16Array => Uint16Array.from(x, toHalfBits);
    const wantHalf = new Float32Array(q.length);
    J.attentionForward({ ...common, k: halfToFloat(h(fk)), v: halfToFloat(h(fv)), out: wantHalf });
    const halfPrefix = { ...prefix, k: h(pk), v: h(pv) };
    for (const [name, K] of [
      ['reference', J],
      ['native', N],
    ] as const) {
      const out = new Float32Array(q.length);
      K.attentionForward({ ...common, k: h(k), v: h(v), out, kvOffset, kvBatchStride, prefix: halfPrefix });
      assertClose(`${name} half K/V, prefix ${P} own ${own} tq ${tq}`, out, wantHalf, MM_ATOL, RTOL);
    }
    const out = new Float32Array(q.length);
    assert.throws(
      () => N.attentionForward({ ...common, k: h(k), v, out, kvOffset, kvBatchStride, prefix: halfPrefix }),
      /all Float32Array or all Uint16Array/,
    );
    assert.throws(
      () => N.attentionForward({ ...common, k, v, out, kvOffset, kvBatchStride, prefix, probs: new Float32Array(batch * heads * tq * tk) }),
      /shared prefix is for decoding only/,
    );
    assert.throws(
      () => N.attentionForward({ ...common, k, v, out, kvOffset, kvBatchStride, prefix: { ...prefix, rows: rows.map(() => 5) } }),
      /prefix\.k/,
    );
  }
});

test(
  'attention decode: rows that share a prefix row run together and each gets what it gets alone, bit for bit (float and half K/V)',
  { skip },
  () => {
    // 11 rows: ten read prefix row 0 (tasks of at most 8 rows share it), the last row 1; a prefix of
    // 70 keys spans three of the kernel's blocks of 32. headDim 8 takes the AVX2 path, 5 the scalar one.
    for (const headDim of [8, 5]) {
      const rng = new Prng(60 + headDim);
      const batch = 11,
        tq = 1,
        P = 70,
        own = 5,
        heads = 4,
        kvHeads = 2,
        ldk = kvHeads * headDim;
      const tk = P + own + tq,
        pastLen = P + own;
      const rows = Int32Array.from({ length: batch }, (_, b) => (b < 10 ? 0 : 1));
      const pStride = P * ldk;
      const pk = randArray(rng, 2 * pStride),
        pv = randArray(rng, pk.length);
      const kvBatchStride = (own + tq) * ldk;
      const k = randArray(rng, batch * kvBatchStride),
        v = randArray(rng, k.length);
      const q = randArray(rng, batch * tq * heads * headDim);
      const keyMask = new Uint8Array(batch * tk).map((_, i) => (i % tk === 3 && i % 2 === 0 ? 0 : 1));
      const h = (x: Float32Array): Uint16Array => Uint16Array.from(x, toHalfBits);
      for (const half of [false, true]) {
        const K_ = half ? h(k) : k,
          V_ = half ? h(v) : v,
          PK = half ? h(pk) : pk,
          PV = half ? h(pv) : pv;
        const common = { batch, tq, tk, heads, kvHeads, headDim, pastLen, scale: 0.3 };
        const all = new Float32Array(q.length);
        N.attentionForward({
          ...common,
          q,
          k: K_,
          v: V_,
          out: all,
          kvOffset: 0,
          kvBatchStride,
          keyMask,
          prefix: { k: PK, v: PV, len: P, batchStride: pStride, rows },
        });
        const ref = new Float32Array(q.length);
        const f = (x: Float32Array | Uint16Array): Float32Array => (x instanceof Uint16Array ? halfToFloat(x) : x);
        J.attentionForward({
          ...common,
          q,
          k: f(K_),
          v: f(V_),
          out: ref,
          kvOffset: 0,
          kvBatchStride,
          keyMask,
          prefix: { k: f(PK), v: f(PV), len: P, batchStride: pStride, rows },
        });
        assertClose(`headDim ${headDim}${half ? ' half' : ''}: batched vs reference`, all, ref, MM_ATOL, RTOL);
        const width = heads * headDim;
        for (let b = 0; b < batch; b++) {
          const one = new Float32Array(width);
          N.attentionForward({
            ...common,
            batch: 1,
            q: q.subarray(b * width, (b + 1) * width),
            k: K_,
            v: V_,
            out: one,
            kvOffset: b * kvBatchStride,
            kvBatchStride,
            keyMask: keyMask.subarray(b * tk, (b + 1) * tk),
            prefix: { k: PK, v: PV, len: P, batchStride: pStride, rows: rows.subarray(b, b + 1) },
          });
          assert.deepEqual(
            one,
            all.subarray(b * width, (b + 1) * width),
            `headDim ${headDim}${half ? ' half' : ''}: row ${b} alone differs from row ${b} in the batch`,
          );
        }
      }
    }
  },
);

test(
  'half precision: copyRows converts float32 to half bits as the JS reference does (ties to even, subnormals, overflow, NaN) and back exactly',
  { skip },
  () => {
    const specials = [
      0,
      -0,
      1,
      -1,
      65504,
      65519.99,
      65520,
      1e9,
      -1e9,
      Infinity,
      -Infinity,
      Number.NaN,
      2 ** -24,
      2 ** -25,
      3 * 2 ** -25,
      2 ** -26,
      5.960464477539063e-8,
      6.1e-5,
      6.103515625e-5,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      0.1,
      1 / 3,
      3.14159,
    ];
    const rng = new Prng(77);
    const xs = Float32Array.from([
      ...specials,
      ...Array.from({ length: 2000 }, () => (rng.uniform() - 0.5) * 2 ** Math.floor(rng.uniform() * 40 - 28)),
    ]);
    const native = new Uint16Array(xs.length);
    N.copyRows(xs, native, 1, xs.length, xs.length, 0, xs.length);
    assert.deepEqual(native, Uint16Array.from(xs, toHalfBits));
    assert.deepEqual(
      [
        toHalfBits(1),
        toHalfBits(65504),
        toHalfBits(65520),
        toHalfBits(2 ** -24),
        toHalfBits(2 ** -25),
        toHalfBits(3 * 2 ** -25),
        toHalfBits(-0),
        toHalfBits(Number.NaN),
      ],
      [0x3c00, 0x7bff, 0x7c00, 1, 0, 2, 0x8000, 0x7e00],
    );
    // Every half bit pattern back to float32: native equals fromHalfBits, and (NaN aside) converting again is the identity.
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const back = new Float32Array(all.length);
    N.copyRows(all, back, 256, 256, 256, 0, 256);
    const ref = halfToFloat(all);
    for (let i = 0; i < all.length; i++) {
      // NaN payloads are the hardware's to keep; a NaN must stay NaN.
      if (Number.isNaN(ref[i]!)) assert.ok(Number.isNaN(back[i]!), `half 0x${i.toString(16)} is NaN`);
      else {
        assert.ok(Object.is(back[i], ref[i]), `half 0x${i.toString(16)}: ${back[i]} vs ${ref[i]}`);
        assert.equal(toHalfBits(back[i]!), i, `half 0x${i.toString(16)} round trip`);
      }
    }
  },
);

test(
  'packed weights: matmulPacked equals the reference A @ W^T at panel, row-block and k edges; a row does not depend on the rows beside it; a packed weight is a snapshot',
  { skip },
  () => {
    const rng = new Prng(33);
    // n % 16 (the last panel padded), m % 6 (row blocks of 6 and every remainder), rows past one
    // 96-row chunk, k not a multiple of anything, and products small enough to stay on one thread.
    for (const [m, n, k] of [
      [1, 16, 8],
      [5, 518, 256],
      [9, 256, 256],
      [13, 33, 7],
      [64, 688, 256],
      [64, 256, 688],
      [100, 40, 65],
      [200, 17, 3],
    ] as const) {
      const a = randArray(rng, m * k),
        w = randArray(rng, n * k);
      const want = new Float32Array(m * n);
      J.matmul({ a, b: w, c: want, m, n, k, transB: true });
      const pw = N.packWeight(w, n, k);
      const got = new Float32Array(m * n).fill(Number.NaN); // every element must be written
      N.matmulPacked(a, pw, got, m);
      assertClose(`matmulPacked ${m}x${n}x${k}`, got, want, MM_ATOL, RTOL);
      for (const r of [0, m - 1, m >> 1]) {
        const one = new Float32Array(n);
        N.matmulPacked(a.subarray(r * k, (r + 1) * k), pw, one, 1);
        assert.deepEqual(one, got.subarray(r * n, (r + 1) * n), `row ${r} of ${m}x${n}x${k}`);
      }
    }
    const w = randArray(rng, 20 * 8),
      a = randArray(rng, 3 * 8);
    const pw = N.packWeight(w, 20, 8);
    const before = new Float32Array(3 * 20);
    N.matmulPacked(a, pw, before, 3);
    w.fill(0);
    const after = new Float32Array(3 * 20);
    N.matmulPacked(a, pw, after, 3);
    assert.deepEqual(after, before, 'changing W after packing does not change the packed copy');
    assert.throws(() => N.matmulPacked(a, J.packWeight(w, 20, 8), after, 3), /packed by the js kernels/);
    assert.ok(pw.data instanceof Float32Array, 'random float weights are not halves: float panels');
    // Weights that are all exactly halves (an F16 checkpoint) pack to half bits, and give bit for bit
    // the products of float panels: compared column by column against a copy with one inexact weight
    // in column 0 (which makes it pack as floats), every other column must match exactly.
    for (const [m, n, k] of [
      [3, 40, 24],
      [70, 518, 256],
      [9, 17, 5],
    ] as const) {
      const wh = Float32Array.from(randArray(rng, n * k), (x) => fromHalfBits(toHalfBits(x)));
      const ah = randArray(rng, m * k);
      const ph = N.packWeight(wh, n, k);
      assert.ok(ph.data instanceof Uint16Array, `${n}x${k}: half panels`);
      const wf = wh.slice();
      wf[0] = wh[0]! + 1e-4; // not a half
      const pf = N.packWeight(wf, n, k);
      assert.ok(pf.data instanceof Float32Array);
      const ch = new Float32Array(m * n),
        cf = new Float32Array(m * n);
      N.matmulPacked(ah, ph, ch, m);
      N.matmulPacked(ah, pf, cf, m);
      for (let r = 0; r < m; r++) for (let j = 1; j < n; j++) assert.equal(ch[r * n + j], cf[r * n + j], `${m}x${n}x${k} (${r}, ${j})`);
      const want = new Float32Array(m * n);
      J.matmul({ a: ah, b: wh, c: want, m, n, k, transB: true });
      assertClose(`half panels ${m}x${n}x${k}`, ch, want, MM_ATOL, RTOL);
    }
    assert.throws(() => N.matmulPacked(a, pw, new Float32Array(10), 3), /buffer 'c' has 10 elements/);
  },
);
