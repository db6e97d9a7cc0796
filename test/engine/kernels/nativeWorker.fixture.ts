// Runs in a worker_threads Worker (see nativeWorker.test.ts): loads the native kernels in the
// worker's own context, runs a matmul and a causal attention, and posts the results back.
import { parentPort, workerData } from 'node:worker_threads';
import { tryNativeKernels } from '../../../src/engine/kernels/index.js';

const { a, b, m, n, k, q, kv, t, heads, headDim } = workerData as {
  a: Float32Array;
  b: Float32Array;
  m: number;
  n: number;
  k: number;
  q: Float32Array;
  kv: Float32Array;
  t: number;
  heads: number;
  headDim: number;
};
const K = tryNativeKernels();
if (!K) {
  parentPort!.postMessage({ error: 'native kernels did not load in the worker' });
} else {
  const c = new Float32Array(m * n);
  K.matmul({ a, b, c, m, n, k, transB: true });
  const out = new Float32Array(q.length);
  K.attentionForward({ q, k: kv, v: kv, out, batch: 1, tq: t, tk: t, heads, kvHeads: heads, headDim, pastLen: 0, scale: 0.5 });
  parentPort!.postMessage({ c, out, backend: K.info().backend });
}
