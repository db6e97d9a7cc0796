// Elementwise ops on same-shaped tensors (no broadcasting: the model never needs it, and a
// silent broadcast hides shape bugs).
import { kernels } from '../../kernels/index.js';
import { Tensor } from '../../tensor.js';
import { ShapeError, fmt } from '../errors.js';
import { give, take } from '../pool.js';
import { gradOf, newOutput, record } from '../tape.js';

function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(op, `shapes ${fmt(a.shape)} and ${fmt(b.shape)} differ (no broadcasting)`);
  }
}

/** a + b (the residual connection). */
export function add(a: Tensor, b: Tensor): Tensor {
  sameShape('add', a, b);
  const out = new Tensor(newOutput(a.size), a.shape);
  kernels().add(a.data, b.data, out.data, a.size);
  return record('add', out, [a, b], () => {
    const g = out.grad!;
    if (a.requiresGrad) kernels().axpy(1, g, gradOf(a), a.size);
    if (b.requiresGrad) kernels().axpy(1, g, gradOf(b), b.size);
  });
}

/** a - b */
export function sub(a: Tensor, b: Tensor): Tensor {
  sameShape('sub', a, b);
  const out = new Tensor(newOutput(a.size), a.shape);
  kernels().scale(b.data, -1, out.data, a.size);
  kernels().add(a.data, out.data, out.data, a.size);
  return record('sub', out, [a, b], () => {
    const g = out.grad!;
    if (a.requiresGrad) kernels().axpy(1, g, gradOf(a), a.size);
    if (b.requiresGrad) kernels().axpy(-1, g, gradOf(b), b.size);
  });
}

/** a * b elementwise. */
export function mul(a: Tensor, b: Tensor): Tensor {
  sameShape('mul', a, b);
  const out = new Tensor(newOutput(a.size), a.shape);
  kernels().mul(a.data, b.data, out.data, a.size);
  return record('mul', out, [a, b], () => {
    const g = out.grad!;
    const n = a.size;
    const tmp = take(n);
    if (a.requiresGrad) {
      kernels().mul(g, b.data, tmp, n);
      kernels().axpy(1, tmp, gradOf(a), n);
    }
    if (b.requiresGrad) {
      kernels().mul(g, a.data, tmp, n);
      kernels().axpy(1, tmp, gradOf(b), n);
    }
    give(tmp);
  });
}

/** a * s for a constant s. */
export function scale(a: Tensor, s: number): Tensor {
  const out = new Tensor(newOutput(a.size), a.shape);
  kernels().scale(a.data, s, out.data, a.size);
  return record('scale', out, [a], () => {
    kernels().axpy(s, out.grad!, gradOf(a), a.size);
  });
}
