// Row gathers: token embeddings, and picking hidden states at given positions (reward heads).
import { kernels } from '../../kernels/index.js';
import { Tensor } from '../../tensor.js';
import { expect2d } from '../errors.js';
import { gradOf, newOutput, record } from '../tape.js';

/** table (V, d), ids (N) -> (N, d). An id outside [0, V) throws (from the kernel, naming it). */
export function embedding(table: Tensor, ids: Int32Array): Tensor {
  return gather('embedding', table, ids);
}

/** x (N, d), rows (R) of indices into N -> (R, d); gradients scatter-add back. */
export function gatherRows(x: Tensor, rows: Int32Array): Tensor {
  return gather('gatherRows', x, rows);
}

function gather(op: string, table: Tensor, ids: Int32Array): Tensor {
  const [v, d] = expect2d(op, 'table', table);
  const n = ids.length;
  const out = new Tensor(newOutput(n * d), [n, d]);
  try {
    kernels().embeddingForward(table.data, ids, out.data, n, d, v);
  } catch (e) {
    throw new Error(`${op}: ${(e as Error).message}`);
  }
  return record(op, out, [table], () => {
    kernels().embeddingBackward(out.grad!, ids, gradOf(table), n, d);
  });
}
