// The native row and element kernels at the sizes where they split into blocks on genrm's pool
// (RMSNorm, SwiGLU, the softmax family; pool.h forBlocks/forRowBlocks): the same results as the JS
// reference, and bit for bit the same on one thread or two. Skipped, with the reason printed, when
// the addon is not built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels as J } from '../../../src/engine/kernels/reference.js';
import { Prng } from '../../../src/engine/prng.js';
import { assertClose, nativeUnderTest, randArray } from '../helpers.js';

const { N, skip } = nativeUnderTest('kernels-native-pool');

const copy = (a: Float32Array): Float32Array => new Float32Array(a);

test(
  'RMSNorm, SwiGLU and the softmax family at batch sizes that run on the pool: as the reference, and bit for bit the same on 1 or 2 threads',
  { skip },
  () => {
    // 300 x 256 rows, 300 x 688 activations and 300 x 518 logits are past the kernels' thresholds
    // (64k, 32k, 64k elements), with a last block shorter than the rest; dw and the cross-entropy
    // total sum over blocks in a fixed order.
    const rng = new Prng(16);
    const rows = 300,
      dim = 256,
      ffn = 688,
      eps = 1e-5;
    const x = randArray(rng, rows * dim, 2),
      w = randArray(rng, dim),
      dout = randArray(rng, rows * dim);
    const bx = randArray(rng, rows * dim),
      bw = randArray(rng, dim);
    const g = randArray(rng, rows * ffn, 3),
      u = randArray(rng, rows * ffn),
      d = randArray(rng, rows * ffn);
    const bg = randArray(rng, rows * ffn),
      bu = randArray(rng, rows * ffn);
    const vocab = 518,
      logits = randArray(rng, rows * vocab, 4),
      bl = randArray(rng, rows * vocab),
      dlp = randArray(rng, rows);
    const targets = Int32Array.from({ length: rows }, (_, r) => (r % 7 === 3 ? -1 : (r * 37) % vocab));
    const run = (K: typeof J) => {
      const out = new Float32Array(rows * dim),
        inv = new Float32Array(rows),
        dx = copy(bx),
        dw = copy(bw);
      K.rmsnormForward(x, w, out, inv, rows, dim, eps);
      K.rmsnormBackward(dout, x, w, inv, dx, dw, rows, dim);
      const act = new Float32Array(rows * ffn),
        dg = copy(bg),
        du = copy(bu);
      K.swigluForward(g, u, act, rows * ffn);
      K.swigluBackward(d, g, u, dg, du, rows * ffn);
      // (rows, vocab) logits past the softmax kernels' threshold (64k), some targets ignored.
      const lsm = new Float32Array(rows * vocab),
        lp = new Float32Array(rows),
        dlg = copy(bl),
        dce = new Float32Array(rows * vocab);
      K.logSoftmax(logits, lsm, rows, vocab);
      K.logprobsGather(logits, targets, lp, rows, vocab);
      K.logprobsGatherBackward(logits, targets, dlp, dlg, rows, vocab);
      const ce = K.crossEntropy(logits, targets, rows, vocab, dce, 0.5);
      return { arrays: { out, inv, dx, dw, act, dg, du, lsm, lp, dlg, dce, loss: Float32Array.of(ce.loss, ce.count) }, loss: ce.loss };
    };
    const ref = run(J);
    const before = N.info().threads;
    try {
      N.setThreads(2);
      const two = run(N);
      N.setThreads(1);
      const one = run(N);
      for (const [name, got] of Object.entries(two.arrays) as [keyof typeof ref.arrays, Float32Array][]) {
        assertClose(name, got, ref.arrays[name]);
        assert.deepEqual(got, one.arrays[name], `${name}: 2 threads and 1 thread differ`);
      }
      assert.equal(two.loss, one.loss, 'cross-entropy loss (a double): 2 threads and 1 thread differ');
    } finally {
      N.setThreads(before);
    }
  },
);

test(
  'matmul split into blocks on the pool (rows of C, or columns when C is wide): as the reference in every transpose, with alpha, beta and leading dims, and bit for bit the same on 1 or 2 threads',
  { skip },
  () => {
    // 2 * m * n * k past the 2e6 flops from which matmul shares blocks out (native/blas.cc); 1000
    // rows make 2-8 blocks of rows with a shorter last one, 90 x 1100 blocks of columns.
    const rng = new Prng(17);
    for (const [m, n, k] of [
      [1000, 70, 40],
      [90, 1100, 30],
    ] as const) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const lda = (transA ? m : k) + 3,
            ldb = (transB ? k : n) + 2,
            ldc = n + 5;
          const a = randArray(rng, (transA ? k : m) * lda),
            b = randArray(rng, (transB ? n : k) * ldb),
            c0 = randArray(rng, m * ldc);
          const args = { a, b, m, n, k, transA, transB, alpha: 0.75, beta: 0.5, lda, ldb, ldc };
          const cj = copy(c0);
          J.matmul({ ...args, c: cj });
          const before = N.info().threads;
          const c2 = copy(c0),
            c1 = copy(c0);
          try {
            N.setThreads(2);
            N.matmul({ ...args, c: c2 });
            N.setThreads(1);
            N.matmul({ ...args, c: c1 });
          } finally {
            N.setThreads(before);
          }
          const what = `matmul ${m}x${n}x${k} tA=${transA} tB=${transB}`;
          assertClose(what, c2, cj, 1e-4, 1e-4);
          assert.deepEqual(c2, c1, `${what}: 2 threads and 1 thread differ`);
        }
      }
    }
  },
);
