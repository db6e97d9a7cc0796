// The autograd layer: a tape over coarse ops, each op's backward beside its forward.
export { Tensor } from '../tensor.js';
export { backward, clearTape, isGradEnabled, noGrad, tapeLength, withFiniteChecks } from './tape.js';
export { NonFiniteError, ShapeError } from './errors.js';
export { checkedStep } from './anomaly.js';
export { clearPool, poolStats, setPoolLimit } from './pool.js';
export { linear, matmul } from './ops/linear.js';
export { add, mul, scale, sub } from './ops/elementwise.js';
export { embedding, gatherRows } from './ops/embedding.js';
export { rmsnorm } from './ops/norm.js';
export { rope, ropeTables, type RopeTables } from './ops/rope.js';
export { causalAttention, type AttentionShape } from './ops/attention.js';
export { gelu, silu, swiglu } from './ops/activations.js';
export { crossEntropy, tokenLogprobs } from './ops/loss.js';
export { logSigmoid, mean, sum, sumRows } from './ops/reduce.js';
