// Every autograd op's backward against central finite differences of its forward.
// Each check: loss = sum(op(inputs) * R) for a fixed random R, gradients from backward() vs
// (f(x+eps) - f(x-eps)) / 2eps computed under noGrad, eps = 1e-2 in fp32, accepted when
// |fd - analytic| <= 1e-3 + 1e-2 |fd| (see helpers.ts). Inputs are tiny so every element is checked.
import { test } from 'node:test';
import {
  Tensor,
  add,
  backward,
  causalAttention,
  crossEntropy,
  embedding,
  gatherRows,
  gelu,
  linear,
  logSigmoid,
  matmul,
  mean,
  mul,
  noGrad,
  rmsnorm,
  rope,
  ropeTables,
  scale,
  silu,
  sub,
  sum,
  sumRows,
  swiglu,
  tokenLogprobs,
} from '../../../src/engine/autograd/index.js';
import { Prng } from '../../../src/engine/prng.js';
import { checkGrad, dotLoss, randArray } from '../helpers.js';

const rng = new Prng(42);
function leaf(shape: number[], s = 1): Tensor {
  return new Tensor(
    randArray(
      rng,
      shape.reduce((a, b) => a * b, 1),
      s,
    ),
    shape,
    { requiresGrad: true, name: 'x' },
  );
}

/** Checks d(sum(f(inputs) * R))/d(input) for every input against finite differences. */
function gradCheck(name: string, inputs: Tensor[], f: (...xs: Tensor[]) => Tensor, tol: { rtol?: number; atol?: number } = {}): void {
  const probe = noGrad(() => f(...inputs));
  const r = randArray(rng, probe.size);
  const rt = new Tensor(r, probe.shape);
  const out = f(...inputs);
  backward(sum(mul(out, rt)));
  const scalar = (): number => noGrad(() => dotLoss(f(...inputs).data, r));
  inputs.forEach((x, i) => checkGrad(`${name} input ${i}`, x.data, scalar, x.grad!, tol));
}

test('linear and matmul (all transpose combinations)', () => {
  gradCheck('linear', [leaf([3, 4]), leaf([5, 4])], (x, w) => linear(x!, w!));
  for (const transA of [false, true])
    for (const transB of [false, true]) {
      const a = leaf(transA ? [4, 3] : [3, 4]);
      const b = leaf(transB ? [2, 4] : [4, 2]);
      gradCheck(`matmul tA=${transA} tB=${transB}`, [a, b], (x, y) => matmul(x!, y!, { transA, transB }));
    }
});

test('add, sub, mul, scale', () => {
  gradCheck('add', [leaf([2, 3]), leaf([2, 3])], (a, b) => add(a!, b!));
  gradCheck('sub', [leaf([2, 3]), leaf([2, 3])], (a, b) => sub(a!, b!));
  gradCheck('mul', [leaf([2, 3]), leaf([2, 3])], (a, b) => mul(a!, b!));
  gradCheck('scale', [leaf([5])], (a) => scale(a!, -1.7));
  // The same tensor used twice accumulates both contributions.
  gradCheck('mul(x, x)', [leaf([4])], (a) => mul(a!, a!));
});

test('embedding and gatherRows (repeated ids accumulate)', () => {
  const ids = new Int32Array([2, 0, 2, 1]);
  gradCheck('embedding', [leaf([3, 4])], (t) => embedding(t!, ids));
  gradCheck('gatherRows', [leaf([5, 2])], (x) => gatherRows(x!, new Int32Array([4, 4, 1])));
});

test('rmsnorm', () => {
  gradCheck('rmsnorm', [leaf([3, 6]), leaf([6])], (x, w) => rmsnorm(x!, w!, 1e-5));
});

test('rope (GQA-sized rows, arbitrary positions)', () => {
  const tables = ropeTables(16, 4, 10000);
  gradCheck('rope', [leaf([3, 8])], (x) => rope(x!, new Int32Array([0, 5, 15]), tables, 2));
});

test('causal attention with grouped-query heads and a key mask', () => {
  const batch = 2,
    t = 3,
    heads = 4,
    kvHeads = 2,
    hd = 2;
  const keyMask = new Uint8Array([1, 1, 1, 0, 1, 1]);
  gradCheck('attention', [leaf([batch * t, heads * hd]), leaf([batch * t, kvHeads * hd]), leaf([batch * t, kvHeads * hd])], (q, k, v) =>
    causalAttention(q!, k!, v!, { batch, seqLen: t, heads, kvHeads, keyMask }),
  );
});

test('swiglu, silu, gelu', () => {
  gradCheck('swiglu', [leaf([2, 5], 2), leaf([2, 5])], (g, u) => swiglu(g!, u!));
  gradCheck('silu', [leaf([7], 2)], (x) => silu(x!));
  gradCheck('gelu', [leaf([7], 2)], (x) => gelu(x!));
});

test('crossEntropy (ignore mask) and tokenLogprobs', () => {
  const targets = new Int32Array([3, -1, 0, 4]);
  gradCheck('crossEntropy', [leaf([4, 5], 2)], (l) => scale(crossEntropy(l!, targets), 1.5));
  gradCheck('tokenLogprobs', [leaf([4, 5], 2)], (l) => tokenLogprobs(l!, targets));
});

test('sum, mean, sumRows, logSigmoid', () => {
  gradCheck('sum', [leaf([2, 3])], (x) => sum(x!));
  gradCheck('mean', [leaf([2, 3])], (x) => mean(x!));
  gradCheck('sumRows', [leaf([3, 4])], (x) => sumRows(x!));
  gradCheck('logSigmoid', [leaf([6], 3)], (x) => logSigmoid(x!));
});
