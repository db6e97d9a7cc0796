// Bad input: shape mismatches name the op and the shapes; a NaN is traced to the step and op
// where it first appears.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NonFiniteError,
  Tensor,
  add,
  backward,
  causalAttention,
  checkedStep,
  linear,
  rmsnorm,
  scale,
  sum,
} from '../../../src/engine/autograd/index.js';
import { Llama } from '../../../src/engine/model/index.js';
import { AdamW } from '../../../src/engine/optim.js';
import { tiny } from '../helpers.js';

const t = (shape: number[]): Tensor => Tensor.zeros(shape, { requiresGrad: true });

test('shape mismatches throw errors naming the op and the shapes', () => {
  assert.throws(() => linear(t([3, 4]), t([5, 3])), /^ShapeError: linear: input \[3, 4\] does not match weight \[5, 3\]/);
  assert.throws(() => add(t([2, 3]), t([3, 2])), /add: shapes \[2, 3\] and \[3, 2\] differ/);
  assert.throws(() => rmsnorm(t([2, 3]), t([4]), 1e-5), /rmsnorm: weight has shape \[4\], expected \[3\]/);
  assert.throws(
    () => causalAttention(t([6, 8]), t([6, 8]), t([6, 2]), { batch: 2, seqLen: 3, heads: 2, kvHeads: 2 }),
    /attention: v \[6, 2\] does not match q \[6, 8\]/,
  );
  const m = new Llama(tiny);
  assert.throws(() => m.hidden(new Int32Array(5), 2, 3), /model\.forward: ids has length 5, expected batch 2 \* seqLen 3/);
  assert.throws(() => m.hidden(new Int32Array([0, 99]), 1, 2), /embedding: .*token id 99 at row 1 is outside \[0, 13\)/);
});

test('a NaN injected into a weight is reported with the step and the op that first saw it', () => {
  const m = new Llama(tiny, { seed: 1 });
  const ids = new Int32Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const step = (): number => {
    const loss = m.loss(ids, ids, 2, 4);
    const v = loss.item();
    backward(loss);
    return v;
  };
  assert.ok(Number.isFinite(checkedStep(1, m.params.values(), step)), 'clean step passes');
  m.params.get('model.layers.1.self_attn.o_proj.weight')!.data[5] = NaN;
  let err: unknown;
  try {
    checkedStep(7, m.params.values(), step);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof NonFiniteError, String(err));
  assert.equal(err.step, 7);
  assert.equal(err.op, 'linear');
  assert.match(
    err.message,
    /^step 7: non-finite value \(NaN or Inf\) in input of linear: input 1 'model\.layers\.1\.self_attn\.o_proj\.weight' \[16, 16\]/,
  );
  // The optimizer refuses to apply a non-finite gradient rather than corrupting the weights.
  const opt = new AdamW(m.parameters(), { lr: 1e-3 });
  step();
  assert.throws(() => opt.step(), /gradient norm is NaN/);
});

test('a non-finite value that first appears in a backward pass is named as such', () => {
  // Forward: y = x * w = 1e20 * 1e-20 = 1, loss = 1e30 * y (finite). Backward: dw = 1e30 * x = 1e50,
  // beyond fp32's range, so the first non-finite value is the weight gradient inside linear's backward.
  const x = new Tensor(new Float32Array([1e20]), [1, 1], { requiresGrad: true, name: 'x' });
  const w = new Tensor(new Float32Array([1e-20]), [1, 1], { requiresGrad: true, name: 'w' });
  let err: unknown;
  try {
    checkedStep(3, [x, w], () => {
      const loss = sum(scale(linear(x, w), 1e30));
      const v = loss.item();
      backward(loss);
      return v;
    });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof NonFiniteError, String(err));
  assert.equal(err.phase, 'backward');
  assert.equal(err.op, 'linear');
  assert.match(err.message, /^step 3: .*backward of linear: gradient of input 1 'w' \[1, 1\]/);
});
