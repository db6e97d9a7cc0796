// Shared by the reward-head recipes (bt, pairrm): whole sequences, right-padded one per row, read
// at their LAST token by the `score.weight` head (what HF's LlamaForSequenceClassification does:
// the hidden state at the last non-padding token). Causal attention means that token has seen
// the whole text and no padding.
import type { Llama } from '../../engine/model/index.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import { encodePrompt } from '../../backends/embedded/render.js';

/** Right-padded sequences: ids (B*T) and the row index b*T + len_b - 1 of each last token. */
export interface SeqBatch {
  ids: Int32Array; // (B*T)
  batch: number;
  seqLen: number;
  lastRows: Int32Array; // (B)
}

export function padSequences(seqs: readonly Int32Array[], padId: number): SeqBatch {
  const B = seqs.length;
  let T = 1;
  for (const s of seqs) T = Math.max(T, s.length);
  const ids = new Int32Array(B * T).fill(padId);
  const lastRows = new Int32Array(B);
  seqs.forEach((s, b) => {
    ids.set(s, b * T);
    lastRows[b] = b * T + s.length - 1;
  });
  return { ids, batch: B, seqLen: T, lastRows };
}

/** Encodes a text for a head (the caller checks its length against the context). */
export function encodeForHead(tok: Tokenizer, text: string): Int32Array {
  const ids = encodePrompt(tok, text);
  if (ids.length === 0) throw new Error('encodeForHead: empty text');
  return Int32Array.from(ids);
}

/** The head's outputs at each sequence's last token: (B, numLabels). */
export function headScores(model: Llama, b: SeqBatch): Tensor {
  return model.scoreAt(model.hidden(b.ids, b.batch, b.seqLen), b.lastRows);
}

/** Head outputs for many sequences, in chunks of `chunk` rows (evaluation, no gradients wanted). */
export function scoreAll(model: Llama, seqs: readonly Int32Array[], padId: number, chunk = 16): Float32Array[] {
  const out: Float32Array[] = [];
  for (let s = 0; s < seqs.length; s += chunk) {
    const part = seqs.slice(s, s + chunk);
    const r = headScores(model, padSequences(part, padId)); // (b, L)
    const L = r.shape[1]!;
    for (let i = 0; i < part.length; i++) out.push(r.data.slice(i * L, (i + 1) * L));
  }
  return out;
}

/** Over-long items: an error naming the item and the fix, or (skip) counted by the caller. */
export function overflowError(what: string, n: number, maxSeqLen: number): Error {
  return new Error(
    `${what}: ${n} tokens, more than the model's context of ${maxSeqLen}; shorten the data, use a model with a longer context, or set overflow: skip to drop such pairs (never truncated: the head reads the last token)`,
  );
}
