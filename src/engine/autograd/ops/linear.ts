// Matrix products. Linear weights are stored [out, in] (Hugging Face layout) and used through
// matmul's transB flag, never transposed by copy.
import { kernels } from '../../kernels/index.js';
import { Tensor } from '../../tensor.js';
import { ShapeError, expect2d, fmt } from '../errors.js';
import { gradBeta, newOutput, record } from '../tape.js';

/** y = x @ W^T: x (N, in), W (out, in) -> (N, out). */
export function linear(x: Tensor, w: Tensor): Tensor {
  const [n, din] = expect2d('linear', 'input', x);
  const [dout, win] = expect2d('linear', 'weight', w);
  if (win !== din)
    throw new ShapeError(
      'linear',
      `input ${fmt(x.shape)} does not match weight ${fmt(w.shape)} ([out, in]: in must equal the input's last dim)`,
    );
  const y = new Tensor(newOutput(n * dout), [n, dout]);
  kernels().matmul({ a: x.data, b: w.data, c: y.data, m: n, n: dout, k: din, transB: true });
  return record('linear', y, [x, w], () => {
    const dy = y.grad!; // (N, out)
    if (x.requiresGrad) {
      const { g, beta } = gradBeta(x); // dx (N, in) = dy @ W
      kernels().matmul({ a: dy, b: w.data, c: g, m: n, n: din, k: dout, beta });
    }
    if (w.requiresGrad) {
      const { g, beta } = gradBeta(w); // dW (out, in) = dy^T @ x
      kernels().matmul({ a: dy, b: x.data, c: g, m: dout, n: din, k: n, transA: true, beta });
    }
  });
}

/** C = op(A) @ op(B) for 2-D tensors, with optional transposes (no copies). */
export function matmul(a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const [ar, ac] = expect2d('matmul', 'A', a);
  const [br, bc] = expect2d('matmul', 'B', b);
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [k2, n] = transB ? [bc, br] : [br, bc];
  if (k !== k2)
    throw new ShapeError(
      'matmul',
      `A ${fmt(a.shape)}${transA ? '^T' : ''} @ B ${fmt(b.shape)}${transB ? '^T' : ''}: inner dims ${k} and ${k2} differ`,
    );
  const c = new Tensor(newOutput(m * n), [m, n]);
  kernels().matmul({ a: a.data, b: b.data, c: c.data, m, n, k, transA, transB });
  return record('matmul', c, [a, b], () => {
    const dc = c.grad!; // (m, n)
    if (a.requiresGrad) {
      const { g, beta } = gradBeta(a);
      // dop(A) = dC @ op(B)^T (m, k); A stored transposed gets (dC @ op(B)^T)^T = op(B) @ dC^T.
      if (!transA) kernels().matmul({ a: dc, b: b.data, c: g, m, n: k, k: n, transB: !transB, beta });
      else kernels().matmul({ a: b.data, b: dc, c: g, m: k, n: m, k: n, transA: transB, transB: true, beta });
    }
    if (b.requiresGrad) {
      const { g, beta } = gradBeta(b);
      // dop(B) = op(A)^T @ dC (k, n); B stored transposed gets dC^T @ op(A) (n, k).
      if (!transB) kernels().matmul({ a: a.data, b: dc, c: g, m: k, n, k: m, transA: !transA, beta });
      else kernels().matmul({ a: dc, b: a.data, c: g, m: n, n: k, k: m, transA: true, transB: transA, beta });
    }
  });
}
