// Reductions: sum and mean to a scalar, per-row sums (sequence totals), and log-sigmoid for the
// pairwise losses (BT, DPO), whose inputs are a handful of per-pair scalars.
import { kernels } from '../../kernels/index.js';
import { Tensor } from '../../tensor.js';
import { expect2d } from '../errors.js';
import { gradBeta, gradOf, newOutput, record } from '../tape.js';

let onesBuf = new Float32Array(0);
/** A shared read-only buffer of at least n ones (so broadcasts run as axpy/matmul kernels). */
function ones(n: number): Float32Array {
  if (onesBuf.length < n) onesBuf = new Float32Array(Math.max(n, 2 * onesBuf.length)).fill(1);
  return onesBuf;
}

/** Sum of all elements -> scalar. */
export function sum(x: Tensor): Tensor {
  const out = new Tensor(newOutput(1), []);
  out.data[0] = kernels().sum(x.data, x.size);
  return record('sum', out, [x], () => kernels().axpy(out.grad![0]!, ones(x.size), gradOf(x), x.size));
}

/** Mean of all elements -> scalar. */
export function mean(x: Tensor): Tensor {
  const n = x.size;
  const out = new Tensor(newOutput(1), []);
  out.data[0] = kernels().sum(x.data, n) / n;
  return record('mean', out, [x], () => kernels().axpy(out.grad![0]! / n, ones(n), gradOf(x), n));
}

/** x (R, n) -> (R): the sum of each row (e.g. a sequence's token log-probs). */
export function sumRows(x: Tensor): Tensor {
  const [r, n] = expect2d('sumRows', 'input', x);
  const out = new Tensor(newOutput(r), [r]);
  kernels().matmul({ a: x.data, b: ones(n), c: out.data, m: r, n: 1, k: n }); // (R, n) @ (n, 1)
  return record('sumRows', out, [x], () => {
    const { g, beta } = gradBeta(x); // (R, n) = dy (R, 1) @ ones (1, n)
    kernels().matmul({ a: out.grad!, b: ones(n), c: g, m: r, n, k: 1, beta });
  });
}

/**
 * log(sigmoid(x)) elementwise, computed stably as min(x, 0) - log1p(exp(-|x|)). A plain JS loop:
 * its inputs are per-pair scalars (batch-sized), never activations.
 */
export function logSigmoid(x: Tensor): Tensor {
  const out = new Tensor(newOutput(x.size), x.shape);
  const xd = x.data;
  for (let i = 0; i < x.size; i++) {
    const v = xd[i]!;
    out.data[i] = Math.min(v, 0) - Math.log1p(Math.exp(-Math.abs(v)));
  }
  return record('logSigmoid', out, [x], () => {
    const g = out.grad!;
    const dx = gradOf(x);
    for (let i = 0; i < x.size; i++) dx[i] = dx[i]! + g[i]! / (1 + Math.exp(xd[i]!)); // sigmoid(-x)
  });
}
