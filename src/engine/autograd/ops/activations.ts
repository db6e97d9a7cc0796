// Activations: SwiGLU (the Llama MLP's gate), SiLU, GELU (tanh approximation).
import { kernels } from '../../kernels/index.js';
import { Tensor } from '../../tensor.js';
import { ShapeError, fmt } from '../errors.js';
import { give, takeZeroed } from '../pool.js';
import { gradOf, newOutput, record } from '../tape.js';

/** silu(gate) * up; same shapes. */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  if (gate.size !== up.size || gate.shape.length !== up.shape.length)
    throw new ShapeError('swiglu', `gate ${fmt(gate.shape)} and up ${fmt(up.shape)} differ`);
  const n = gate.size;
  const out = new Tensor(newOutput(n), gate.shape);
  kernels().swigluForward(gate.data, up.data, out.data, n);
  return record('swiglu', out, [gate, up], () => {
    const dg = gate.requiresGrad ? gradOf(gate) : takeZeroed(n);
    const du = up.requiresGrad ? gradOf(up) : takeZeroed(n);
    kernels().swigluBackward(out.grad!, gate.data, up.data, dg, du, n);
    if (!gate.requiresGrad) give(dg);
    if (!up.requiresGrad) give(du);
  });
}

export function silu(x: Tensor): Tensor {
  const out = new Tensor(newOutput(x.size), x.shape);
  kernels().siluForward(x.data, out.data, x.size);
  return record('silu', out, [x], () => kernels().siluBackward(out.grad!, x.data, gradOf(x), x.size));
}

export function gelu(x: Tensor): Tensor {
  const out = new Tensor(newOutput(x.size), x.shape);
  kernels().geluForward(x.data, out.data, x.size);
  return record('gelu', out, [x], () => kernels().geluBackward(out.grad!, x.data, gradOf(x), x.size));
}
