// The tape: ops record (output, inputs, backward closure) while gradients are enabled; backward()
// walks it in reverse, then releases every recorded output's buffers to the pool.
//
// Gradient conventions for backward closures:
// - `gradOf(t)` returns t's gradient buffer, allocating it zeroed on first use; kernels then
//   accumulate (+=) into it.
// - `adoptGrad(t, buf)` hands over a buffer holding t's full gradient contribution: it becomes
//   t's gradient when t has none yet (no zero-fill, no copy), else it is added and returned.
// - `gradBeta(t)` is for matmul: it returns a buffer and beta = 0 when the gradient is fresh
//   (overwrite, no zero-fill needed) or beta = 1 when it already holds contributions.
// Only inputs with requiresGrad get gradients; a frozen parameter never gets a buffer.
import { kernels } from '../kernels/index.js';
import { Tensor } from '../tensor.js';
import { NonFiniteError, fmt } from './errors.js';
import { give, take, takeZeroed } from './pool.js';

interface Node {
  op: string;
  out: Tensor;
  inputs: readonly Tensor[];
  backward: () => void;
  /** Saved buffers (e.g. attention probabilities) returned to the pool after backward. */
  aux: Float32Array[];
}

let tape: Node[] = [];
/** Every op output (so gradients of leaves, i.e. parameters, are kept out of the pool). */
const recorded = new WeakSet<Tensor>();
let gradEnabled = true;
let checkFinite = false;

/** Runs fn with gradients disabled: no op is recorded (inference, reference models). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs fn with a finite-check after every op's forward and backward (slow: one pass over each
 * output and gradient). The first op that produces NaN/Inf, or is fed one, throws NonFiniteError.
 */
export function withFiniteChecks<T>(fn: () => T): T {
  const prev = checkFinite;
  checkFinite = true;
  try {
    return fn();
  } finally {
    checkFinite = prev;
  }
}

/** An output buffer for an op (from the pool while recording, else a fresh array). */
export function newOutput(n: number): Float32Array {
  return gradEnabled ? take(n) : new Float32Array(n);
}

function finite(b: Float32Array): boolean {
  return kernels().allFinite(b, b.length);
}

/**
 * Called by every op after its forward: checks values in finite-check mode, and records a tape
 * node when gradients are enabled and some input requires them. Returns `out`.
 */
export function record(op: string, out: Tensor, inputs: readonly Tensor[], backward: () => void, aux: Float32Array[] = []): Tensor {
  out.name = op;
  recorded.add(out);
  if (checkFinite) {
    inputs.forEach((t, i) => {
      if (!finite(t.data)) throw new NonFiniteError(op, 'input', `input ${i} '${t.name}' ${fmt(t.shape)} holds NaN/Inf`);
    });
    if (!finite(out.data))
      throw new NonFiniteError(op, 'forward', `output ${fmt(out.shape)} from inputs ${inputs.map((t) => fmt(t.shape)).join(', ')}`);
  }
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    tape.push({ op, out, inputs, backward, aux });
  } else {
    for (const b of aux) give(b);
  }
  return out;
}

export function gradOf(t: Tensor): Float32Array {
  let g = t.grad;
  if (!g) {
    g = isParam(t) ? new Float32Array(t.size) : takeZeroed(t.size);
    t.grad = g;
  }
  return g;
}

export function adoptGrad(t: Tensor, buf: Float32Array): void {
  if (!t.grad && !isParam(t)) {
    t.grad = buf;
    return;
  }
  kernels().axpy(1, buf, gradOf(t), t.size);
  give(buf);
}

export function gradBeta(t: Tensor): { g: Float32Array; beta: number } {
  if (t.grad) return { g: t.grad, beta: 1 };
  const g = isParam(t) ? new Float32Array(t.size) : take(t.size);
  t.grad = g;
  return { g, beta: 0 };
}

/** Leaves (parameters, inputs) keep plain, unpooled gradient buffers that persist across steps. */
function isParam(t: Tensor): boolean {
  return !recorded.has(t.base ?? t);
}

/**
 * Backpropagates from a one-element loss through the tape, accumulating into the gradients of
 * every tensor with requiresGrad (parameters keep theirs until zeroGrad). Then releases the
 * tape: recorded outputs' data and gradients go back to the pool, except `loss` and `keep`.
 * `gradScale` seeds d(loss) (e.g. 1/microbatches for gradient accumulation).
 */
export function backward(loss: Tensor, opts: { keep?: readonly Tensor[]; gradScale?: number } = {}): void {
  if (loss.size !== 1) throw new Error(`backward: loss must have one element, got shape ${fmt(loss.shape)}`);
  if (!loss.requiresGrad)
    throw new Error(
      'backward: loss does not depend on any tensor with requiresGrad (was it computed under noGrad, or are all parameters frozen?)',
    );
  const seed = take(1);
  seed[0] = opts.gradScale ?? 1;
  loss.grad = seed;
  try {
    for (let i = tape.length - 1; i >= 0; i--) {
      const node = tape[i]!;
      if (!node.out.grad) continue; // nothing flowed back into this op
      node.backward();
      if (checkFinite) {
        node.inputs.forEach((t, j) => {
          const g = t.grad;
          if (t.requiresGrad && g && !finite(g))
            throw new NonFiniteError(node.op, 'backward', `gradient of input ${j} '${t.name}' ${fmt(t.shape)}`);
        });
      }
    }
  } finally {
    releaseTape(new Set([loss, ...(opts.keep ?? [])]));
  }
}

/** Drops the tape without a backward pass (e.g. a forward under grad mode for evaluation). */
export function clearTape(keep: readonly Tensor[] = []): void {
  releaseTape(new Set(keep));
}

function releaseTape(keep: Set<Tensor>): void {
  for (const n of tape) {
    for (const b of n.aux) give(b);
    n.aux.length = 0;
    if (keep.has(n.out)) {
      n.out.grad = null;
      continue;
    }
    n.out.release(give);
  }
  tape = [];
}

/** Number of recorded nodes (tests and memory diagnostics). */
export function tapeLength(): number {
  return tape.length;
}

export { Tensor };
