// `star-dpo`: the GenRM paper's best method. Per iteration (src/train/star/iterate.ts): the model
// samples k rationales per pair in both orders; DPO (./dpo.ts) with chosen = a rationale ending in
// the right verdict and rejected = one ending in the wrong verdict (same prompt, pairing rule in
// the config), against a frozen reference; the next iteration samples from the result (on-policy).
//
// Reference: 'iteration' (default) = the model at the start of the iteration (the policy DPO
// starts from, as in iterative DPO); 'initial' = the run's base model throughout. Its sequence
// log-likelihoods are precomputed once per iteration (default) and the reference then dropped,
// or, with precomputeReference: false, computed per batch from a frozen copy kept in memory.
import { join } from 'node:path';
import { z } from 'zod';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import { curveEnds, iterationSaver, iterationSteps, runStar, StarShape } from '../star/iterate.js';
import { DPO_FILE, DpoRecordSchema, readRecords, type DpoRecord } from '../star/records.js';
import { train } from '../trainer.js';
import { loopOf, recipeSchema } from './config.js';
import { dpoTask, precomputeReference, type DpoExample } from './dpo.js';
import { cotAccuracy } from './evalJudge.js';
import { loadBase } from './model.js';
import { defineRecipe } from './registry.js';
import { encodePrompt } from '../../backends/embedded/render.js';

export const StarDpoSchema = recipeSchema({
  ...StarShape,
  /** DPO's β: 1.0 (paper, DESIGN.md §1). */
  beta: z.number().positive().default(1.0),
  /** The frozen reference: the model at the start of each iteration (default) or the run's base. */
  reference: z.enum(['iteration', 'initial']).default('iteration'),
  /** Precompute the reference log-likelihoods once per iteration: one forward pass instead of one per batch and epoch, and no reference in memory while training. */
  precomputeReference: z.boolean().default(true),
  /** Peak lr: 1e-4, below SFT's 3e-4: DPO's sequence-level loss gives larger gradients than a token-mean cross-entropy. */
  lr: z.number().positive().default(1e-4),
  /** Preference pairs per micro-batch: 8 (16 rows of rationale each). */
  batchSize: z.number().int().min(1).default(8),
  /** Held-out pairs judged greedily with CoT at each evaluation: 32 (× 2 orders); generation is the slow part. */
  evalCotPairs: z.number().int().min(0).default(32),
});
export type StarDpoConfig = z.infer<typeof StarDpoSchema>;

/** Token ids of the DPO records (completions end with end-of-text, as SFT targets do); over-long ones per `overflow`. */
export function tokenizeDpo(tok: Tokenizer, recs: readonly DpoRecord[], maxSeqLen: number, overflow: 'error' | 'skip', file: string): { examples: DpoExample[]; skipped: number } {
  const examples: DpoExample[] = [];
  let skipped = 0;
  for (const r of recs) {
    const prompt = encodePrompt(tok, r.prompt);
    const chosen = [...tok.encode(r.chosen, { specials: 'parse' }), tok.eotId];
    const rejected = [...tok.encode(r.rejected, { specials: 'parse' }), tok.eotId];
    const n = prompt.length + Math.max(chosen.length, rejected.length);
    if (n - 1 > maxSeqLen) {
      if (overflow === 'error') throw new Error(`${file} record ${r.id}: ${n} tokens (prompt ${prompt.length} + longer completion ${n - prompt.length}), more than the model's context of ${maxSeqLen}; set overflow: skip to drop such pairs (never truncated)`);
      skipped++;
      continue;
    }
    examples.push({ prompt, chosen, rejected });
  }
  return { examples, skipped };
}

export const starDpo = defineRecipe<StarDpoConfig>({
  name: 'star-dpo',
  description: 'STaR-DPO: per iteration, sample k rationales per pair (both orders); DPO with right-verdict rationales over wrong-verdict ones, frozen reference',
  schema: StarDpoSchema,
  async run(c, ctx) {
    return runStar('star-dpo', c, ctx, (p) => {
      const file = join(p.dir, DPO_FILE);
      const tok = p.start.tokenizer;
      const policy = p.start.model;
      const { examples, skipped } = tokenizeDpo(tok, readRecords(file, DpoRecordSchema), policy.config.maxSeqLen, c.overflow, file);
      if (skipped) ctx.say(`star-dpo iteration ${p.iteration}: ${skipped} pairs longer than the context were left out`);
      if (examples.length === 0) return { trained: false, finished: true, metrics: {} };
      // The reference, frozen (no gradients, no optimizer state): a separate copy of its weights.
      let ref: ReturnType<typeof loadBase>['model'] | null = loadBase(c.reference === 'initial' ? c.base : p.startDir).model.freeze();
      if (c.precomputeReference) {
        precomputeReference(ref, examples, tok.padId, c.batchSize);
        ref = null; // not needed any more
      }
      const steps = iterationSteps(examples.length, c);
      const task = {
        ...dpoTask(policy, examples, { beta: c.beta, batchSize: c.batchSize, seed: p.seed, padId: tok.padId, ref }),
        evaluate: () => cotAccuracy(policy, tok, p.data.eval, { maxPairs: c.evalCotPairs, maxTokens: c.maxTokens }),
        saveModel: iterationSaver('star-dpo', c, ctx, p),
      };
      const r = train(task, {
        config: { ...loopOf(c), steps, seed: p.seed },
        outDir: p.modelDir,
        resume: p.resume,
        progress: ctx.progress,
        label: `star-dpo ${p.iteration}/${c.iterations}`,
        ...(ctx.stopAfter !== undefined ? { stopAfter: ctx.stopAfter } : {}),
        onLog: (rec) => ctx.onLog?.({ ...rec, iteration: p.iteration }),
      });
      return { trained: true, finished: r.step === steps, metrics: { steps, examples: examples.length, ...curveEnds(p.modelDir) } };
    });
  },
});
