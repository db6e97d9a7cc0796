// Causal multi-head self-attention with grouped-query heads, over token-major layouts so that
// the Q/K/V projections' outputs are used as they are (no transposes):
//   q (B*T, heads*headDim), k/v (B*T, kvHeads*headDim) -> out (B*T, heads*headDim).
import { kernels } from '../../kernels/index.js';
import { Tensor } from '../../tensor.js';
import { ShapeError, expect2d, expectLength, fmt } from '../errors.js';
import { give, takeZeroed } from '../pool.js';
import { gradOf, isGradEnabled, newOutput, record } from '../tape.js';

export interface AttentionShape {
  batch: number;
  seqLen: number;
  heads: number;
  kvHeads: number;
  /** (batch, seqLen): 0 hides a key (padding). Optional. */
  keyMask?: Uint8Array;
}

export function causalAttention(q: Tensor, k: Tensor, v: Tensor, s: AttentionShape): Tensor {
  const { batch, seqLen: t, heads, kvHeads } = s;
  const [rows, qw] = expect2d('attention', 'q', q);
  if (rows !== batch * t) throw new ShapeError('attention', `q ${fmt(q.shape)} has ${rows} rows, expected batch ${batch} * seqLen ${t}`);
  if (heads % kvHeads !== 0) throw new ShapeError('attention', `heads ${heads} is not a multiple of kvHeads ${kvHeads}`);
  if (qw % heads !== 0) throw new ShapeError('attention', `q width ${qw} is not divisible by heads ${heads}`);
  const hd = qw / heads;
  for (const [name, x] of [
    ['k', k],
    ['v', v],
  ] as const) {
    if (x.shape.length !== 2 || x.shape[0] !== rows || x.shape[1] !== kvHeads * hd) {
      throw new ShapeError(
        'attention',
        `${name} ${fmt(x.shape)} does not match q ${fmt(q.shape)}: expected [${rows}, ${kvHeads * hd}] (kvHeads ${kvHeads} * headDim ${hd})`,
      );
    }
  }
  if (s.keyMask) expectLength('attention', 'keyMask', s.keyMask.length, batch * t);
  const scale = 1 / Math.sqrt(hd);
  const out = new Tensor(newOutput(q.size), q.shape);
  const needGrad = isGradEnabled() && (q.requiresGrad || k.requiresGrad || v.requiresGrad);
  const probs = needGrad ? newOutput(batch * heads * t * t) : undefined; // (B, heads, T, T)
  const mask = s.keyMask ? { keyMask: s.keyMask } : {};
  kernels().attentionForward({
    q: q.data,
    k: k.data,
    v: v.data,
    out: out.data,
    batch,
    tq: t,
    tk: t,
    heads,
    kvHeads,
    headDim: hd,
    pastLen: 0,
    scale,
    ...(probs ? { probs } : {}),
    ...mask,
  });
  return record(
    'attention',
    out,
    [q, k, v],
    () => {
      const scratch: Float32Array[] = [];
      const g = (x: Tensor): Float32Array => {
        if (x.requiresGrad) return gradOf(x);
        const b = takeZeroed(x.size);
        scratch.push(b);
        return b;
      };
      kernels().attentionBackward({
        dout: out.grad!,
        q: q.data,
        k: k.data,
        v: v.data,
        probs: probs!,
        dq: g(q),
        dk: g(k),
        dv: g(v),
        batch,
        t,
        heads,
        kvHeads,
        headDim: hd,
        scale,
        ...mask,
      });
      for (const b of scratch) give(b);
    },
    probs ? [probs] : [],
  );
}
