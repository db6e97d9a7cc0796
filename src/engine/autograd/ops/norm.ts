// RMSNorm over the last dim: y = x / sqrt(mean(x^2) + eps) * w.
import { kernels } from '../../kernels/index.js';
import { Tensor } from '../../tensor.js';
import { expect2d, expectShape } from '../errors.js';
import { give, takeZeroed } from '../pool.js';
import { gradOf, newOutput, record } from '../tape.js';

/** x (N, d), w (d) -> (N, d). */
export function rmsnorm(x: Tensor, w: Tensor, eps: number): Tensor {
  const [rows, dim] = expect2d('rmsnorm', 'input', x);
  expectShape('rmsnorm', 'weight', w, [dim]);
  const out = new Tensor(newOutput(x.size), x.shape);
  const invRms = newOutput(rows); // (N) saved for backward
  kernels().rmsnormForward(x.data, w.data, out.data, invRms, rows, dim, eps);
  return record(
    'rmsnorm',
    out,
    [x, w],
    () => {
      // The kernel accumulates into both; a frozen side gets a scratch buffer that is dropped.
      const dx = x.requiresGrad ? gradOf(x) : takeZeroed(x.size);
      const dw = w.requiresGrad ? gradOf(w) : takeZeroed(dim);
      kernels().rmsnormBackward(out.grad!, x.data, w.data, invRms, dx, dw, rows, dim);
      if (!x.requiresGrad) give(dx);
      if (!w.requiresGrad) give(dw);
    },
    [invRms],
  );
}
