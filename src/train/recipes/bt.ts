// `bt`: the Bradley–Terry reward model baseline. The base model plus a scalar head
// (`score.weight` [1, dModel]) read at the last token of (prompt, answer); trained with
//   loss = −log σ(r(x, y_chosen) − r(x, y_rejected))      (mean over the pairs of the update)
// The (prompt, answer) text is the judge format's pointwise direct prompt ("Verify / Question /
// Answer / Verdict: "): its last token is where a verifier would write its verdict, so the head
// reads the state the base model already uses to sum up an answer. Output: checkpoint kind 'bt'.
import { z } from 'zod';
import { pointPrompt } from '../../data/judgeFormat.js';
import type { PreferencePair } from '../../data/pair.js';
import { logSigmoid, mean, scale, sub } from '../../engine/autograd/index.js';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import { chunked, holdOutGroups, ShuffledStream } from '../batches.js';
import { heldOutValidation, type TrainTask } from '../trainer.js';
import { recipeSchema } from './config.js';
import { MAX_BATCH, MAX_SEED } from '../config.js';
import { prepare, VAL_CTX } from './harness.js';
import { defineRecipe } from './registry.js';
import { encodeForHead, overflowError, padSequences, scoreAll, type SeqBatch } from './scoreHead.js';

export const BtSchema = recipeSchema({
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(MAX_BATCH)
    .default(8)
    .describe(
      'Pairs per micro-batch, each two sequences (chosen, rejected). 8 pairs = 16 rows, as the other recipes; the memory check sizes it against the machine.',
    ),
  headSeed: z
    .number()
    .int()
    .min(0)
    .max(MAX_SEED)
    .default(1)
    .describe("Seed of the reward head's initialisation (normal, std 0.02, as the other Linears). Below 2^32, as every seed."),
});
export type BtConfig = z.infer<typeof BtSchema>;

/** The text the reward is read from. */
export function rewardText(p: PreferencePair, answer: string): string {
  return pointPrompt({ question: p.prompt, answer }, 'direct');
}

interface BtItem {
  chosen: Int32Array;
  rejected: Int32Array;
}

/** Encodes pairs as (chosen, rejected) sequences; over-long pairs follow the overflow policy. */
function encodePairs(
  tok: Tokenizer,
  pairs: readonly PreferencePair[],
  maxSeqLen: number,
  overflow: 'error' | 'skip',
): { items: BtItem[]; skipped: number } {
  const items: BtItem[] = [];
  let skipped = 0;
  for (const p of pairs) {
    const chosen = encodeForHead(tok, rewardText(p, p.chosen));
    const rejected = encodeForHead(tok, rewardText(p, p.rejected));
    const n = Math.max(chosen.length, rejected.length);
    if (n > maxSeqLen) {
      if (overflow === 'error') throw overflowError(`pair ${p.id}`, n, maxSeqLen);
      skipped++;
      continue;
    }
    items.push({ chosen, rejected });
  }
  return { items, skipped };
}

/** One micro-batch: rows 0..B-1 the chosen answers, rows B..2B-1 the rejected ones. */
interface BtBatch extends SeqBatch {
  pairs: number;
}

export const bt = defineRecipe<BtConfig>({
  name: 'bt',
  description: 'Bradley-Terry reward model: scalar head on the last token, -log sigmoid(r_chosen - r_rejected)',
  schema: BtSchema,
  async run(c, ctx) {
    const p = prepare('bt', c, ctx);
    const { model, tokenizer: tok } = p;
    if (!model.params.has('score.weight')) model.addScoreHead(1, c.headSeed);
    // The validation slice early stopping watches: whole pairs held out of training.
    const split = holdOutGroups(p.data.train, (x) => x.id, c.valPairs, c.seed);
    const { items, skipped } = encodePairs(tok, split.train, model.config.maxSeqLen, c.overflow);
    const valItems = encodePairs(tok, split.val, model.config.maxSeqLen, 'skip').items;
    if (items.length === 0)
      throw new Error(`bt: none of the ${p.data.train.length} pairs fits the context of ${model.config.maxSeqLen} tokens`);
    if (skipped) ctx.say(`bt: ${skipped} pairs longer than the context were left out`);
    const evalSeqs = encodePairs(tok, p.data.eval, model.config.maxSeqLen, 'skip').items;

    const collate = (batch: BtItem[]): BtBatch => ({
      ...padSequences([...batch.map((b) => b.chosen), ...batch.map((b) => b.rejected)], tok.padId),
      pairs: batch.length,
    });
    const task: TrainTask<BtBatch> = {
      batchShape: { rows: 2 * c.batchSize, seqLen: model.config.maxSeqLen }, // chosen and rejected rows
      params: model.params,
      stream: new ShuffledStream(items, collate, {
        batchSize: c.batchSize,
        seed: c.seed,
        length: (it) => Math.max(it.chosen.length, it.rejected.length),
      }),
      loss: (b) => {
        const B = b.pairs;
        const hidden = model.hidden(b.ids, b.batch, b.seqLen); // (2B*T, d)
        const rc = model.scoreAt(hidden, b.lastRows.subarray(0, B)); // (B, 1)
        const rr = model.scoreAt(hidden, b.lastRows.subarray(B)); // (B, 1)
        const margin = sub(rc, rr);
        let right = 0;
        let m = 0;
        for (let i = 0; i < B; i++) {
          m += margin.data[i]!;
          if (margin.data[i]! > 0) right++;
        }
        return { loss: scale(mean(logSigmoid(margin)), -1), metrics: { acc: right / B, margin: m / B } };
      },
      weight: (b) => b.pairs,
      tokens: (b) => b.batch * b.seqLen,
      evaluate: () => {
        if (evalSeqs.length === 0) return {};
        const rc = scoreAll(
          model,
          evalSeqs.map((e) => e.chosen),
          tok.padId,
        );
        const rr = scoreAll(
          model,
          evalSeqs.map((e) => e.rejected),
          tok.padId,
        );
        let right = 0;
        let m = 0;
        rc.forEach((r, i) => {
          const d = r[0]! - rr[i]![0]!;
          m += d;
          if (d > 0) right++;
        });
        return { evalAcc: right / rc.length, evalMargin: m / rc.length };
      },
      saveModel: p.saveModel('bt'),
    };
    if (valItems.length)
      task.validate = heldOutValidation(
        (b) => task.loss(b, VAL_CTX),
        (b) => b.pairs,
        chunked(valItems, c.batchSize, collate),
      );
    const { r, firstLoss } = p.train(task);
    return p.result(r, firstLoss, { pairs: items.length, skipped, evalPairs: evalSeqs.length, valPairs: valItems.length });
  },
});
