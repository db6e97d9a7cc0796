// `pairrm`: the PairRM-style baseline. One pass over (x, y1, y2) in the judge
// format's direct layout WITHOUT the verdict (the prompt ends at "Verdict: "), and a binary
// classifier head on its last token: `score.weight` is [2, dModel], label 0 = "A is better",
// label 1 = "B is better" (two logits with softmax cross-entropy, as HF's
// LlamaForSequenceClassification does with num_labels = 2). Every pair is trained in both
// orders, so the head cannot learn a slot preference. Output: checkpoint kind 'pairrm'.
//   P(A better) = softmax(score · h_last)[0]
import { z } from 'zod';
import { crossEntropy } from '../../engine/autograd/index.js';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import { chunked, holdOutGroups, ShuffledStream } from '../batches.js';
import { heldOutValidation, type TrainTask } from '../trainer.js';
import { recipeSchema } from './config.js';
import { MAX_BATCH, MAX_SEED } from '../config.js';
import { bothOrders, describe, judgePrompt, type OrderedPair } from './data.js';
import { prepare, VAL_CTX } from './harness.js';
import { defineRecipe } from './registry.js';
import { argmaxAccuracy } from './sft.js';
import { encodeForHead, headScores, overflowError, padSequences, scoreAll, type SeqBatch } from './scoreHead.js';
import { sigmoid } from '../../util/math.js';

/** Rows of score.weight: two logits (A better, B better). */
export const PAIRRM_LABELS = 2;

export const PairrmSchema = recipeSchema({
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(MAX_BATCH)
    .default(16)
    .describe('(pair, order) items per micro-batch, one row each. 16 rows, as genrm; the memory check sizes it against the machine.'),
  headSeed: z
    .number()
    .int()
    .min(0)
    .max(MAX_SEED)
    .default(1)
    .describe("Seed of the two-logit head's initialisation (normal, std 0.02, as the other Linears). Below 2^32, as every seed."),
});
export type PairrmConfig = z.infer<typeof PairrmSchema>;

interface Item {
  ids: Int32Array;
  /** 0: A is the chosen answer, 1: B is. */
  label: number;
  op: OrderedPair;
}

function encodeItems(
  tok: Tokenizer,
  ops: readonly OrderedPair[],
  maxSeqLen: number,
  overflow: 'error' | 'skip',
): { items: Item[]; skipped: number } {
  const items: Item[] = [];
  let skipped = 0;
  for (const op of ops) {
    const ids = encodeForHead(tok, judgePrompt(op, 'direct'));
    if (ids.length > maxSeqLen) {
      if (overflow === 'error') throw overflowError(describe(op), ids.length, maxSeqLen);
      skipped++;
      continue;
    }
    items.push({ ids, label: op.verdict === 'A' ? 0 : 1, op });
  }
  return { items, skipped };
}

interface PairrmBatch extends SeqBatch {
  labels: Int32Array; // (B)
}

export const pairrm = defineRecipe<PairrmConfig>({
  name: 'pairrm',
  description: 'PairRM-style: one pass over (x, y1, y2) + a binary head on the last token, both orders',
  schema: PairrmSchema,
  async run(c, ctx) {
    const p = prepare('pairrm', c, ctx);
    const { model, tokenizer: tok } = p;
    if (!model.params.has('score.weight')) model.addScoreHead(PAIRRM_LABELS, c.headSeed);
    // The validation slice early stopping watches: whole pairs (both orders) held out of training.
    const split = holdOutGroups(p.data.train, (x) => x.id, c.valPairs, c.seed);
    const { items, skipped } = encodeItems(tok, bothOrders(split.train), model.config.maxSeqLen, c.overflow);
    const valItems = encodeItems(tok, bothOrders(split.val), model.config.maxSeqLen, 'skip').items;
    if (items.length === 0)
      throw new Error(`pairrm: none of the ${p.data.train.length} pairs fits the context of ${model.config.maxSeqLen} tokens`);
    if (skipped) ctx.say(`pairrm: ${skipped} (pair, order) items longer than the context were left out`);
    const evalItems = encodeItems(tok, bothOrders(p.data.eval), model.config.maxSeqLen, 'skip').items;

    const collate = (batch: Item[]): PairrmBatch => ({
      ...padSequences(
        batch.map((b) => b.ids),
        tok.padId,
      ),
      labels: Int32Array.from(batch, (b) => b.label),
    });
    const task: TrainTask<PairrmBatch> = {
      batchShape: { rows: c.batchSize, seqLen: model.config.maxSeqLen },
      params: model.params,
      stream: new ShuffledStream(items, collate, { batchSize: c.batchSize, seed: c.seed, length: (it) => it.ids.length }),
      loss: (b) => {
        const logits = headScores(model, b); // (B, 2)
        return { loss: crossEntropy(logits, b.labels), metrics: { acc: argmaxAccuracy(logits, b.labels) } };
      },
      weight: (b) => b.batch,
      tokens: (b) => b.batch * b.seqLen,
      evaluate: () =>
        evaluatePairrm(
          scoreAll(
            model,
            evalItems.map((e) => e.ids),
            tok.padId,
          ),
          evalItems,
        ),
      saveModel: p.saveModel('pairrm'),
    };
    if (valItems.length)
      task.validate = heldOutValidation(
        (b) => task.loss(b, VAL_CTX),
        (b) => b.batch,
        chunked(valItems, c.batchSize, collate),
      );
    const { r, firstLoss } = p.train(task);
    return p.result(r, firstLoss, { items: items.length, skipped, evalItems: evalItems.length, valItems: valItems.length });
  },
});

/** Accuracy per (pair, order) item and per pair with both orders combined, from head logits. */
function evaluatePairrm(logits: Float32Array[], items: readonly Item[]): Record<string, number> {
  if (items.length === 0) return {};
  let right = 0;
  const perPair = new Map<string, number[]>();
  items.forEach((it, i) => {
    const a = logits[i]![0]!;
    const b = logits[i]![1]!;
    const pA = sigmoid(a - b);
    if ((it.label === 0) === pA > 0.5) right++;
    const list = perPair.get(it.op.pair.id) ?? [];
    list.push(it.op.chosenFirst ? pA : 1 - pA);
    perPair.set(it.op.pair.id, list);
  });
  let pairRight = 0;
  for (const ps of perPair.values()) if (ps.reduce((x, y) => x + y, 0) / ps.length > 0.5) pairRight++;
  return { evalAcc: right / items.length, evalAccPair: pairRight / perPair.size };
}
