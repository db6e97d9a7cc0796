// How much memory a training step needs, checked against the machine before the first batch is
// built, so a config typo (batchSize 1e9, or 1e4 at a long context) is an error naming the field
// and the gigabytes, not an allocation that grows until the machine swaps or the kernel kills
// the process.
//
// The estimate is an upper bound of the autograd tape's activations for one micro-batch of
// `rows` sequences of `seqLen` tokens (every intermediate the backward pass keeps, per layer and
// token: 2 RMSNorm inputs and outputs, q/k/v before and after RoPE, the attention output and
// probabilities (heads × seqLen per token), the o-projection, SwiGLU's gate, up, activation and
// product, the down projection, the residuals; then the logits, their log-softmax and gradient),
// twice (the backward pass holds a gradient beside each activation at its peak), plus the
// weights' four copies (value, gradient, AdamW's two moments). test/train/memory.test.ts checks it
// against what a step allocates.
import type { Tensor } from '../engine/tensor.js';

export interface ModelDims {
  vocab: number;
  d: number;
  layers: number;
  /** Attention heads (queries). */
  heads: number;
  /** Width of k and v (kv heads × head dim). */
  kv: number;
  ffn: number;
  params: number;
}

/** The dims of a Llama from its named parameters (HF names); null when they are not a Llama's. */
export function dimsOf(params: ReadonlyMap<string, Pick<Tensor, 'shape' | 'size'>>): ModelDims | null {
  const embed = params.get('model.embed_tokens.weight');
  const q = params.get('model.layers.0.self_attn.q_proj.weight');
  const k = params.get('model.layers.0.self_attn.k_proj.weight');
  const gate = params.get('model.layers.0.mlp.gate_proj.weight');
  if (!embed || !q || !k || !gate) return null;
  let layers = 0;
  while (params.has(`model.layers.${layers}.self_attn.q_proj.weight`)) layers++;
  const d = embed.shape[1]!;
  let size = 0;
  for (const p of params.values()) size += p.size;
  // Heads are not in the shapes; one head per 64 of width is the usual and, for the probabilities' term, a generous guess for genrm's small models.
  return {
    vocab: embed.shape[0]!,
    d,
    layers,
    heads: Math.max(1, Math.ceil(q.shape[0]! / 64)),
    kv: k.shape[0]!,
    ffn: gate.shape[0]!,
    params: size,
  };
}

/** Upper bound of the bytes one training step of `rows` × `seqLen` tokens holds at its peak (see above). */
export function stepBytes(m: ModelDims, rows: number, seqLen: number): number {
  const tokens = rows * seqLen;
  const perLayer = 4 * m.d + 2 + 2 * (m.d + m.kv) + m.kv + 3 * m.d + m.heads * seqLen * 2 + 4 * m.ffn + 2 * m.d;
  const activations = tokens * (m.layers * perLayer + 3 * m.vocab + 2 * m.d);
  return 4 * (2 * activations + 4 * m.params);
}

const GB = 2 ** 30;

/**
 * Throws naming `field` when a step of `rows` × `seqLen` tokens would need more than `available`
 * bytes (default: what the machine has free now, process.availableMemory). `where` says whose
 * config it is.
 */
export function checkStepMemory(
  params: ReadonlyMap<string, Pick<Tensor, 'shape' | 'size'>>,
  rows: number,
  seqLen: number,
  o: { field: string; where: string; available?: number },
): void {
  const dims = dimsOf(params);
  if (!dims) return;
  const need = stepBytes(dims, rows, seqLen);
  const available = o.available ?? process.availableMemory();
  if (need <= available) return;
  const fixed = stepBytes(dims, 0, seqLen);
  const perRow = (need - fixed) / rows;
  const fits = Math.floor((available - fixed) / perRow);
  throw new RangeError(
    `${o.where}: a training step of ${rows} sequences × ${seqLen} tokens needs about ${(need / GB).toFixed(1)} GB, and this machine has ${(available / GB).toFixed(1)} GB free; ` +
      (fits >= 1
        ? `lower "${o.field}" so a micro-batch holds at most ${fits} sequences, and raise gradAccum to keep the effective batch`
        : `the model alone does not fit`),
  );
}
