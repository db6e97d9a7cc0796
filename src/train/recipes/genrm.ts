// `genrm`: the paper's direct GenRM. SFT of the answer indicator only, −log p(I | x, y1, y2),
// on every training pair in both orders (chosen as A → [[A]], chosen as B → [[B]]). The prompt
// (question, A, B, "Verdict: ") is masked; the one trained token is the verdict. Output: an 'lm'
// checkpoint that the judge reads directly (P([[A]]) vs P([[B]])).
import { z } from 'zod';
import { bothOrders, directExample } from './data.js';
import { directAccuracy } from './evalJudge.js';
import { loopOf, recipeSchema } from './config.js';
import { MAX_BATCH } from '../config.js';
import { prepare } from './harness.js';
import { defineRecipe } from './registry.js';
import { runSft } from './sft.js';

export const GenrmSchema = recipeSchema({
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(MAX_BATCH)
    .default(16)
    .describe(
      'Judge examples (pair, order) per micro-batch. 16: short direct prompts make this cheap; the memory check sizes it against the machine.',
    ),
});
export type GenrmConfig = z.infer<typeof GenrmSchema>;

export const genrm = defineRecipe<GenrmConfig>({
  name: 'genrm',
  description: 'direct GenRM: SFT of the verdict token only, -log p(I | x, y1, y2), both orders',
  schema: GenrmSchema,
  async run(c, ctx) {
    const p = prepare('genrm', c, ctx);
    const examples = bothOrders(p.data.train).map(directExample);
    const r = runSft({
      model: p.model,
      tokenizer: p.tokenizer,
      examples,
      loop: loopOf(c),
      overflow: c.overflow,
      outDir: c.out,
      resume: ctx.resume,
      progress: ctx.progress,
      label: 'genrm',
      ...(ctx.stopAfter !== undefined ? { stopAfter: ctx.stopAfter } : {}),
      ...(ctx.onLog ? { onLog: ctx.onLog } : {}),
      evaluate: () => directAccuracy(p.model, p.tokenizer, p.data.eval),
      saveModel: p.saveModel('lm'),
    });
    if (r.skipped.length) ctx.say(`genrm: ${r.skipped.length} examples longer than the context were left out (first: ${r.skipped[0]})`);
    return p.result(r.train, r.firstLoss, {
      examples: r.examples,
      skipped: r.skipped.length,
      targetTokens: r.targetTokens,
      valExamples: r.valExamples,
    });
  },
});
