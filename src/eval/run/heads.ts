// Reward-head judges (checkpoint kinds 'bt' and 'pairrm'), scored in-process and batched through
// the very functions their recipes train and evaluate with (src/train/recipes/bt.ts, pairrm.ts,
// scoreHead.ts), so a checkpoint is judged on exactly the text its head learned to read:
//   bt      r(x, y) = score.weight · h_last(pointwise direct prompt of (x, y)), [1, d];
//           P(chosen) = sigmoid(r(chosen) − r(rejected)) (recordFromScores).
//   pairrm  P(A better) = softmax(score.weight · h_last(direct pair prompt, no verdict))[0], [2, d];
//           judged in both orders, P(chosen) = (p1 + 1 − p2) / 2 (recordFromOrderProbs).
// A sequence longer than the model's context is refused, naming the pair: the head reads the last
// token, so a truncated text would be scored on something else.
import { loadCheckpoint, type CheckpointKind } from '../../engine/checkpoint.js';
import { Llama } from '../../engine/model/index.js';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import type { PreferencePair } from '../../data/pair.js';
import { rewardText } from '../../train/recipes/bt.js';
import { judgePrompt, order } from '../../train/recipes/data.js';
import { encodeForHead, scoreAll } from '../../train/recipes/scoreHead.js';
import { sigmoid } from '../../util/math.js';
import { recordFromOrderProbs, recordFromScores } from '../fromJudge.js';
import type { JudgeRecord } from '../records.js';

export interface HeadModel {
  kind: Exclude<CheckpointKind, 'lm'>;
  model: Llama;
  tokenizer: Tokenizer;
  dir: string;
}

/** Loads a bt/pairrm checkpoint with its score head, frozen (no gradients kept). */
export function loadHeadModel(dir: string): HeadModel {
  const ck = loadCheckpoint(dir);
  if (ck.kind === 'lm') throw new Error(`${dir}: a language-model checkpoint (kind 'lm'); a reward head judge needs kind 'bt' or 'pairrm'`);
  const want = ck.kind === 'bt' ? 1 : 2;
  if (ck.numLabels !== want) throw new Error(`${dir}: a '${ck.kind}' checkpoint with ${ck.numLabels} score labels; expected ${want}`);
  const model = Llama.fromWeights(ck.config, ck.weights, `${dir}/model.safetensors`, { scoreLabels: ck.numLabels });
  model.freeze();
  return { kind: ck.kind, model, tokenizer: ck.tokenizer, dir };
}

function encodeChecked(h: HeadModel, text: string, what: string): Int32Array {
  const ids = encodeForHead(h.tokenizer, text);
  if (ids.length > h.model.config.maxSeqLen)
    throw new Error(
      `${what}: ${ids.length} tokens, more than the ${h.kind} model's context of ${h.model.config.maxSeqLen} (${h.dir}); the head reads the last token, so it is never truncated`,
    );
  return ids;
}

export interface HeadRecordOptions {
  method: string;
  iteration?: number;
  /** Rows per forward pass (eval only, no gradients). 32: a few MB of activations at the base size. */
  chunk?: number;
}

/** One record per pair, in input order. */
export function headRecords(h: HeadModel, pairs: readonly PreferencePair[], o: HeadRecordOptions): JudgeRecord[] {
  const chunk = o.chunk ?? 32;
  const opts = { method: o.method, ...(o.iteration !== undefined ? { iteration: o.iteration } : {}) };
  const pad = h.tokenizer.padId;
  if (h.kind === 'bt') {
    const seqs = pairs.flatMap((p) => [
      encodeChecked(h, rewardText(p, p.chosen), `pair ${p.id} (chosen)`),
      encodeChecked(h, rewardText(p, p.rejected), `pair ${p.id} (rejected)`),
    ]);
    const r = scoreAll(h.model, seqs, pad, chunk); // (2N, 1): chosen, rejected per pair
    return pairs.map((p, i) => recordFromScores(p, { chosen: r[2 * i]![0]!, rejected: r[2 * i + 1]![0]! }, opts));
  }
  const ops = pairs.flatMap((p) => [order(p, true), order(p, false)]);
  const seqs = ops.map((op) =>
    encodeChecked(h, judgePrompt(op, 'direct'), `pair ${op.pair.id} (chosen ${op.chosenFirst ? 'first' : 'second'})`),
  );
  const r = scoreAll(h.model, seqs, pad, chunk); // (2N, 2) logits: [A better, B better]
  const pFirst = (l: Float32Array): number => sigmoid(l[0]! - l[1]!); // softmax over two logits
  return pairs.map((p, i) => recordFromOrderProbs(p, [pFirst(r[2 * i]!), pFirst(r[2 * i + 1]!)], opts));
}
