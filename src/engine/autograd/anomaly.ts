// Finding where a NaN/Inf first appeared. Checking every op on every step would cost a pass over
// each activation, so a step runs unchecked; only when its loss or a gradient comes out
// non-finite is it replayed with a finite-check after every op's forward and backward.
import { kernels } from '../kernels/index.js';
import type { Tensor } from '../tensor.js';
import { NonFiniteError } from './errors.js';
import { clearTape, withFiniteChecks } from './tape.js';

/**
 * Runs one step's forward and backward (`fn` returns the loss value after calling backward),
 * then checks the loss and the gradients of `params`. When something is not finite, it zeroes
 * those gradients and replays `fn` under finite checks, so the NonFiniteError it throws names the
 * step and the op (and whether in forward or backward) where the first NaN/Inf appeared.
 * `fn` must be deterministic and must not update parameters (the optimizer steps after this).
 */
export function checkedStep(step: number, params: Iterable<Tensor>, fn: () => number): number {
  const list = [...params].filter((p) => p.requiresGrad);
  let loss: number;
  try {
    loss = fn();
  } catch (e) {
    if (e instanceof NonFiniteError) throw e.withStep(step);
    throw e;
  }
  let problem: NonFiniteError | null = null;
  if (!Number.isFinite(loss)) problem = new NonFiniteError('loss', 'loss', `loss is ${loss}`);
  else {
    for (const p of list) {
      if (p.grad && !kernels().allFinite(p.grad, p.size)) {
        problem = new NonFiniteError(p.name, 'gradient', `gradient of parameter '${p.name}' [${p.shape.join(', ')}] is not finite`);
        break;
      }
    }
  }
  if (!problem) return loss;
  for (const p of list) p.grad?.fill(0);
  clearTape();
  try {
    withFiniteChecks(fn);
  } catch (e) {
    if (e instanceof NonFiniteError) throw e.withStep(step);
    throw e;
  } finally {
    clearTape();
  }
  // The replay came out finite (fn is not deterministic?): report what the first run saw.
  throw problem.withStep(step);
}
