// Errors the autograd layer throws: shape mismatches naming the op and the shapes, and
// non-finite values naming the op (and, when a training loop knows it, the step).
import { GenrmError } from '../../util/errors.js';
import type { Tensor } from '../tensor.js';

export class ShapeError extends GenrmError {
  constructor(
    readonly op: string,
    detail: string,
  ) {
    super(`${op}: ${detail}`, 'runtime');
    this.name = 'ShapeError';
  }
}

export function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Throws unless t has exactly `want` as its shape. */
export function expectShape(op: string, what: string, t: Tensor, want: readonly number[]): void {
  if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
    throw new ShapeError(op, `${what} has shape ${fmt(t.shape)}, expected ${fmt(want)}`);
  }
}

/** Throws unless t is 2-D; returns (rows, cols). */
export function expect2d(op: string, what: string, t: Tensor): [number, number] {
  if (t.shape.length !== 2) throw new ShapeError(op, `${what} has shape ${fmt(t.shape)}, expected 2 dims (rows, cols)`);
  return [t.shape[0]!, t.shape[1]!];
}

export function expectLength(op: string, what: string, got: number, want: number): void {
  if (got !== want) throw new ShapeError(op, `${what} has length ${got}, expected ${want}`);
}

export class NonFiniteError extends GenrmError {
  /** The training step, when known (set by checkedStep). */
  step: number | undefined;
  constructor(
    readonly op: string,
    readonly phase: 'forward' | 'backward' | 'input' | 'loss' | 'gradient',
    readonly detail: string,
  ) {
    super(`non-finite value (NaN or Inf) in ${phase} of ${op}: ${detail}`, 'runtime');
    this.name = 'NonFiniteError';
  }
  withStep(step: number): this {
    this.step = step;
    this.message = `step ${step}: ${this.message}`;
    return this;
  }
}
