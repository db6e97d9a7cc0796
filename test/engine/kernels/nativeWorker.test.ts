// The native addon loads and runs inside worker_threads (the server runs models in a worker):
// two Workers at once each load it, run a matmul and an attention, and match the JS reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { jsKernels as J } from '../../../src/engine/kernels/reference.js';
import { loadNative } from '../../../src/engine/kernels/native.js';
import { Prng } from '../../../src/engine/prng.js';
import { assertClose, randArray } from '../helpers.js';

const load = loadNative();
const skip = load.ok ? false : `native addon not available: ${load.reason}`;
if (skip) console.log(`# worker-native: skipped (${skip})`);

// Compiled (npm test), the fixture is a .js file beside this one. Under `tsx --test` it is .ts,
// and a Worker does not inherit tsx's loader, so a small bootstrap imports it through tsx's API.
const underTsx = import.meta.url.endsWith('.ts');
const fixture = new URL(`./nativeWorker.fixture${underTsx ? '.ts' : '.js'}`, import.meta.url);
const bootstrap = `import('tsx/esm/api').then((api) => api.tsImport(${JSON.stringify(fixture.href)}, ${JSON.stringify(import.meta.url)}));`;

interface Reply {
  c?: Float32Array;
  out?: Float32Array;
  backend?: string;
  error?: string;
}

function runWorker(data: object): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const w = underTsx ? new Worker(bootstrap, { eval: true, workerData: data }) : new Worker(fixture, { workerData: data });
    w.once('message', (msg: Reply) => {
      resolve(msg);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

test('native kernels run in two concurrent worker threads and match the JS reference', { skip }, async () => {
  const rng = new Prng(5);
  const m = 9,
    n = 13,
    k = 31,
    t = 6,
    heads = 2,
    headDim = 4;
  const a = randArray(rng, m * k),
    b = randArray(rng, n * k);
  const q = randArray(rng, t * heads * headDim),
    kv = randArray(rng, t * heads * headDim);
  const wantC = new Float32Array(m * n);
  J.matmul({ a, b, c: wantC, m, n, k, transB: true });
  const wantOut = new Float32Array(q.length);
  J.attentionForward({ q, k: kv, v: kv, out: wantOut, batch: 1, tq: t, tk: t, heads, kvHeads: heads, headDim, pastLen: 0, scale: 0.5 });

  const data = { a, b, m, n, k, q, kv, t, heads, headDim };
  const replies = await Promise.all([runWorker(data), runWorker(data)]);
  for (const r of replies) {
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.backend, 'native');
    assertClose('matmul in worker', r.c!, wantC, 1e-4, 1e-4);
    assertClose('attention in worker', r.out!, wantOut, 1e-4, 1e-4);
  }
});
