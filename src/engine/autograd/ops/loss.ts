// Losses over vocabulary logits: fused softmax cross-entropy with an ignore mask, and per-token
// log-probabilities of given tokens (DPO sequence log-likelihoods, sample log-probs).
import { kernels } from '../../kernels/index.js';
import { Tensor } from '../../tensor.js';
import { ShapeError, expect2d, expectLength } from '../errors.js';
import { take } from '../pool.js';
import { adoptGrad, gradOf, isGradEnabled, newOutput, record } from '../tape.js';

function checkTargets(op: string, targets: Int32Array, rows: number, vocab: number): void {
  expectLength(op, 'targets', targets.length, rows);
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t >= vocab) throw new ShapeError(op, `target ${t} at row ${r} is outside [0, ${vocab}) (use a negative target to ignore a row)`);
  }
}

/**
 * Mean cross-entropy over rows whose target >= 0 (negative = ignored). logits (N, V), targets
 * (N) -> scalar. The gradient is computed in the same pass as the loss (fused kernel), so the
 * backward pass only scales it.
 */
export function crossEntropy(logits: Tensor, targets: Int32Array): Tensor {
  const [rows, vocab] = expect2d('crossEntropy', 'logits', logits);
  checkTargets('crossEntropy', targets, rows, vocab);
  const wantGrad = isGradEnabled() && logits.requiresGrad;
  const dl = wantGrad ? take(rows * vocab) : undefined; // (N, V) d(loss)/d(logits)
  const { loss } = kernels().crossEntropy(logits.data, targets, rows, vocab, dl, 1);
  const out = new Tensor(newOutput(1), []);
  out.data[0] = loss;
  return record('crossEntropy', out, [logits], () => {
    const g = out.grad![0]!;
    if (g !== 1) kernels().scale(dl!, g, dl!, rows * vocab);
    adoptGrad(logits, dl!);
  });
}

/** log softmax(logits[r])[targets[r]] per row; ignored rows (target < 0) give 0. (N, V) -> (N). */
export function tokenLogprobs(logits: Tensor, targets: Int32Array): Tensor {
  const [rows, vocab] = expect2d('tokenLogprobs', 'logits', logits);
  checkTargets('tokenLogprobs', targets, rows, vocab);
  const out = new Tensor(newOutput(rows), [rows]);
  kernels().logprobsGather(logits.data, targets, out.data, rows, vocab);
  return record('tokenLogprobs', out, [logits], () => {
    kernels().logprobsGatherBackward(logits.data, targets, out.grad!, gradOf(logits), rows, vocab);
  });
}
