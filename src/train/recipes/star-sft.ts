// `star-sft`: STaR with supervised fine-tuning (Zelikman et al. 2022; the GenRM paper's
// CoT-GenRM STaR-SFT). Per iteration (src/train/star/iterate.ts): the model samples k rationales
// per pair in both orders, the rationales whose verdict is right are kept (optionally only those
// whose own result the checker accepts), and the model is fine-tuned on (CoT prompt, rationale +
// verdict) with the prompt masked, through the shared SFT routine (./sft.ts); the next iteration
// samples from the result.
import { join } from 'node:path';
import { z } from 'zod';
import { iterationSaver, iterationSteps, runStar, StarShape, trainedMetrics, type TrainPhase } from '../star/iterate.js';
import { readRecords, SFT_FILE, SftRecordSchema } from '../star/records.js';
import { loopOf, recipeSchema } from './config.js';
import { MAX_BATCH } from '../config.js';
import { cotAccuracy } from './evalJudge.js';
import { defineRecipe } from './registry.js';
import type { TextExample } from './data.js';
import { runSft, type CotValidation } from './sft.js';

export const StarSftSchema = recipeSchema({
  ...StarShape,
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(MAX_BATCH)
    .default(8)
    .describe('Rationale examples per micro-batch. 8, as each is a few hundred tokens; the memory check sizes it against the machine.'),
  evalCotPairs: z
    .number()
    .int()
    .min(0)
    .max(100_000)
    .default(32)
    .describe('Held-out pairs judged greedily with CoT (both orders) at each evaluation. 32: generation is the slow part.'),
});
export type StarSftConfig = z.infer<typeof StarSftSchema>;

/**
 * An iteration's kept rationales (sft.jsonl) as SFT examples, grouped by source pair (every
 * rationale of a pair on one side of the validation split), validated by CoT verdict error on
 * the held-out pairs: star-sft's training data, and star-dpo's warm start.
 */
export function keptRationales(
  p: TrainPhase,
  maxTokens: number,
): { examples: (TextExample & { pairId: string })[]; group: (ex: TextExample) => string; cotValidation: CotValidation } {
  const file = join(p.dir, SFT_FILE);
  const examples = readRecords(file, SftRecordSchema).map((r) => ({
    prompt: r.prompt,
    target: r.completion,
    source: `${file} record ${r.id}`,
    pairId: r.pairId,
  }));
  const pairIdOf = (ex: TextExample): string => (ex as TextExample & { pairId: string }).pairId;
  const byId = new Map(p.data.train.map((pair) => [pair.id, pair]));
  return {
    examples,
    group: pairIdOf,
    cotValidation: { pairsOf: (held) => [...new Set(held.map(pairIdOf))].flatMap((id) => byId.get(id) ?? []), maxTokens },
  };
}

export const starSft = defineRecipe<StarSftConfig>({
  name: 'star-sft',
  description: 'STaR-SFT: per iteration, sample k rationales per pair (both orders), keep those with the right verdict, SFT on them',
  schema: StarSftSchema,
  async run(c, ctx) {
    return runStar('star-sft', c, ctx, (p) => {
      const d = keptRationales(p, c.maxTokens);
      if (d.examples.length === 0) return { trained: false, finished: true, metrics: {} };
      const examples = d.examples;
      const steps = iterationSteps(examples.length, c);
      const model = p.start.model;
      const r = runSft({
        model,
        tokenizer: p.start.tokenizer,
        examples,
        group: d.group,
        cotValidation: d.cotValidation,
        loop: { ...loopOf(c), steps, seed: p.seed },
        overflow: c.overflow,
        appendEot: true, // sampled rationales learn to stop after their verdict
        outDir: p.modelDir,
        resume: p.resume,
        progress: ctx.progress,
        label: `star-sft ${p.iteration}/${c.iterations}`,
        ...(ctx.stopAfter !== undefined ? { stopAfter: ctx.stopAfter } : {}),
        onLog: (rec) => ctx.onLog?.({ ...rec, iteration: p.iteration }),
        evaluate: () => cotAccuracy(model, p.start.tokenizer, p.data.eval, { maxPairs: c.evalCotPairs, maxTokens: c.maxTokens }),
        saveModel: iterationSaver('star-sft', c, ctx, p),
      });
      if (r.skipped.length)
        ctx.say(`star-sft iteration ${p.iteration}: ${r.skipped.length} kept rationales longer than the context were left out`);
      return { trained: true, finished: r.train.done, metrics: trainedMetrics(r.train, steps, r.examples, p.modelDir) };
    });
  },
});
