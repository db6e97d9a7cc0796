// `star-dpo`: the GenRM paper's best method. Per iteration (src/train/star/iterate.ts): the model
// samples k rationales per pair in both orders; DPO (./dpo.ts) with chosen = a rationale ending in
// the right verdict and rejected = one ending in the wrong verdict (same prompt, pairing rule in
// the config), against a frozen reference; the next iteration samples from the result (on-policy).
//
// Warm start ('sft', default): SFT on the iteration's kept rationales first (iter-i/sft/), and DPO
// starts from that model. Early stopping watches the held-out DPO loss of whole source pairs.
// Reference: 'iteration' (default) = the model DPO starts from in the iteration (after the warm
// start, if any; as in iterative DPO); 'initial' = the run's base model throughout. Its sequence
// log-likelihoods are precomputed once per iteration (default) and the reference then dropped,
// or, with precomputeReference: false, computed per batch from a frozen copy kept in memory.
import { join } from 'node:path';
import { z } from 'zod';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import { iterationSaver, iterationSteps, runStar, StarShape, trainedMetrics, type TrainPhase } from '../star/iterate.js';
import { DPO_FILE, DpoRecordSchema, readRecords, type DpoRecord } from '../star/records.js';
import { holdOutGroups } from '../batches.js';
import { hasTrainerState, trainerDone } from '../state.js';
import { train, type TrainResult, type TrainTask } from '../trainer.js';
import { earlyStopOf, loopOf, recipeSchema } from './config.js';
import { MAX_BATCH } from '../config.js';
import { dpoTask, dpoValidation, fitDpo, precomputeReference, type DpoBatch, type DpoExample } from './dpo.js';
import { cotAccuracy } from './evalJudge.js';
import { loadBase, type BaseModel } from './model.js';
import { defineRecipe, type RecipeContext } from './registry.js';
import { withReplay } from './replay.js';
import { runSft } from './sft.js';
import { keptRationales } from './star-sft.js';
import { encodePrompt } from '../../backends/embedded/render.js';

export const StarDpoSchema = recipeSchema({
  ...StarShape,
  beta: z
    .number()
    .positive()
    .max(100)
    .default(0.1)
    .describe(
      "DPO's β: how strongly the policy is held to the reference (higher stays closer; Rafailov et al. 2023, arXiv 2305.18290). 0.1, the DPO paper's and TRL's default: at β 1 on the committed base's own samples, gradient norms were 9–41 against the clip of 1.0 and the held-out DPO loss jumped from log 2 to 1.26 in 10 updates.",
    ),
  reference: z
    .enum(['iteration', 'initial'])
    .default('iteration')
    .describe(
      "The frozen DPO reference: 'iteration' is the model DPO starts from in each iteration (after the warm start, if any), as in iterative preference optimisation (Pang et al. 2024), where each round's reference is the model it starts from; 'initial' is the run's base throughout.",
    ),
  precomputeReference: z
    .boolean()
    .default(true)
    .describe(
      "Compute the reference log-likelihoods once per iteration (TRL's precompute_ref_log_probs). On: one forward pass instead of one per batch and epoch, and no reference model in memory while training.",
    ),
  lr: z
    .number()
    .positive()
    .max(1)
    .default(3e-5)
    .describe(
      "Peak learning rate of DPO. 3e-5, a tenth of SFT's: at 1e-4 the held-out chosen log-likelihood fell from −4.5 to −11 within 60 updates (likelihood collapse, chosen and rejected falling together), at 3e-5 to −5.6; 3e-5 is the largest tried that does not collapse.",
    ),
  warmStart: z
    .enum(['none', 'sft'])
    .default('sft')
    .describe(
      "Before DPO in each iteration, 'sft' fine-tunes on that iteration's kept rationales (sft.jsonl, into iter-i/sft/, early-stopped on CoT verdict error as star-sft); DPO then starts from it and, with reference 'iteration', uses it as the reference. 'sft': the DPO paper (Rafailov et al. 2023, §4) fits the reference to the preferred completions by SFT when the preference data was not sampled from an SFT model, as here in iteration 1.",
    ),
  warmLr: z
    .number()
    .positive()
    .max(1)
    .default(1e-4)
    .describe("Peak learning rate of the warm start's SFT. 1e-4, star-sft's own: 3e-4 lowers CoT accuracy on a model's own rationales."),
  nllWeight: z
    .number()
    .min(0)
    .max(100)
    .default(1)
    .describe(
      "RPO's weight α on the chosen rationale's per-token NLL, added to the DPO loss (Pang et al. 2024, arXiv 2404.19733; TRL's rpo_alpha); 0 is plain DPO. 1, the paper's: it kept the held-out chosen NLL from rising as far (0.078 → 0.089 per token, against 0.097 without).",
    ),
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(MAX_BATCH)
    .default(8)
    .describe(
      'Preference pairs per micro-batch, each a chosen and a rejected rationale. 8 (16 rows); the memory check sizes it against the machine.',
    ),
  evalCotPairs: z
    .number()
    .int()
    .min(0)
    .max(100_000)
    .default(32)
    .describe('Held-out pairs judged greedily with CoT (both orders) at each evaluation. 32: generation is the slow part.'),
});
export type StarDpoConfig = z.infer<typeof StarDpoSchema>;

/** Token ids of the DPO records (completions end with end-of-text, as SFT targets do); over-long ones per `overflow`. */
export function tokenizeDpo(
  tok: Tokenizer,
  recs: readonly DpoRecord[],
  maxSeqLen: number,
  overflow: 'error' | 'skip',
  file: string,
): { examples: DpoExample[]; skipped: number; pairIds: string[] } {
  const completion = (s: string): number[] => [...tok.encode(s, { specials: 'parse' }), tok.eotId];
  const all = recs.map((r): DpoExample => ({
    prompt: encodePrompt(tok, r.prompt),
    chosen: completion(r.chosen),
    rejected: completion(r.rejected),
  }));
  const { kept, skipped } = fitDpo(all, maxSeqLen, overflow, (i) => `${file} record ${recs[i]!.id}`, `the model's context of ${maxSeqLen}`);
  return { examples: kept.map((i) => all[i]!), skipped, pairIds: kept.map((i) => recs[i]!.pairId) };
}

export const starDpo = defineRecipe<StarDpoConfig>({
  name: 'star-dpo',
  description:
    'STaR-DPO: per iteration, sample k rationales per pair (both orders); DPO with right-verdict rationales over wrong-verdict ones, frozen reference',
  schema: StarDpoSchema,
  async run(c, ctx) {
    return runStar('star-dpo', c, ctx, (p) => {
      const file = join(p.dir, DPO_FILE);
      const tok = p.start.tokenizer;
      const recs = readRecords(file, DpoRecordSchema);
      const { examples, skipped, pairIds } = tokenizeDpo(tok, recs, p.start.model.config.maxSeqLen, c.overflow, file);
      if (skipped) ctx.say(`star-dpo iteration ${p.iteration}: ${skipped} pairs longer than the context were left out`);
      if (examples.length === 0) return { trained: false, finished: true, metrics: {} };

      // Optional warm start: SFT on the iteration's kept rationales, then DPO from there.
      const warm = c.warmStart === 'sft' ? warmStart(c, ctx, p) : null;
      if (warm && !warm.finished) return { trained: false, finished: false, metrics: {} };
      const from = warm?.model ?? p.start;
      const fromDir = warm?.model ? join(p.dir, WARM_DIR) : p.startDir;
      const policy = from.model;

      // The validation slice: whole source pairs (both orders, every DPO pair of theirs) held out.
      const all = examples.map((e, i) => ({ e, pairId: pairIds[i]! }));
      const split = earlyStopOf(c) ? holdOutGroups(all, (x) => x.pairId, c.valPairs, p.seed) : { train: all, val: [] };
      const trainEx = split.train.map((x) => x.e);
      const valEx = split.val.map((x) => x.e);
      // The reference, frozen (no gradients, no optimizer state): a separate copy of its weights.
      let ref: ReturnType<typeof loadBase>['model'] | null = loadBase(c.reference === 'initial' ? c.base : fromDir).model.freeze();
      if (c.precomputeReference) {
        precomputeReference(ref, [...trainEx, ...valEx], tok.padId, c.batchSize);
        ref = null; // not needed any more
      }
      const steps = iterationSteps(trainEx.length, c);
      const loop = { ...loopOf(c), steps, seed: p.seed };
      const opts = { beta: c.beta, batchSize: c.batchSize, padId: tok.padId, ref };
      const task: TrainTask<DpoBatch> = {
        ...dpoTask(policy, trainEx, { ...opts, seed: p.seed, nllWeight: c.nllWeight }),
        evaluate: () => cotAccuracy(policy, tok, p.data.eval, { maxPairs: c.evalCotPairs, maxTokens: c.maxTokens }),
        saveModel: iterationSaver('star-dpo', c, ctx, p, from, fromDir),
        ...(valEx.length ? { validate: dpoValidation(policy, valEx, opts) } : {}),
      };
      const early = earlyStopOf(c);
      const run =
        c.replay > 0
          ? withReplay(task, policy, {
              spec: loop.replay,
              tokenizer: tok,
              batchSize: c.batchSize,
              microBatches: steps * c.gradAccum,
              seed: p.seed,
            })
          : task;
      const r = train<unknown>(run as TrainTask<unknown>, {
        config: loop,
        outDir: p.modelDir,
        resume: p.resume,
        progress: ctx.progress,
        label: `star-dpo ${p.iteration}/${c.iterations}`,
        ...(ctx.stopAfter !== undefined ? { stopAfter: ctx.stopAfter } : {}),
        ...(early && valEx.length ? { earlyStop: early } : {}),
        onLog: (rec) => ctx.onLog?.({ ...rec, iteration: p.iteration }),
      });
      const m = trainedMetrics(r, steps, trainEx.length, p.modelDir);
      if (warm?.result) {
        const w = warm.result;
        Object.assign(m, {
          steps: m.steps! + w.step,
          tokens: m.tokens! + w.tokensSeen,
          cpuSec: m.cpuSec! + w.cpuSec,
          'sft/steps': w.step,
          'sft/examples': warm.examples,
          ...(w.bestStep !== null ? { 'sft/bestStep': w.bestStep } : {}),
          ...(w.bestVal['val/cotError'] !== undefined ? { 'sft/val/cotError': w.bestVal['val/cotError'] } : {}),
        });
      }
      return { trained: true, finished: r.done, metrics: m };
    });
  },
});

/** Where an iteration's warm start trains (a run folder of its own, resumable like the DPO one). */
export const WARM_DIR = 'sft';

/**
 * The warm start of an iteration: SFT on its sft.jsonl into iter-i/sft/ (resumed if interrupted,
 * skipped if already done), then that checkpoint loaded as DPO's starting model. No kept
 * rationale: no warm start (model null). `result` is the SFT's loop result when it ran here.
 */
function warmStart(
  c: StarDpoConfig,
  ctx: RecipeContext,
  p: TrainPhase,
): { finished: boolean; model: BaseModel | null; result: TrainResult | null; examples: number } {
  const dir = join(p.dir, WARM_DIR);
  const { examples, group, cotValidation } = keptRationales(p, c.maxTokens);
  if (examples.length === 0) return { finished: true, model: null, result: null, examples: 0 };
  let result: TrainResult | null = null;
  if (!trainerDone(dir)) {
    const steps = iterationSteps(examples.length, c);
    const r = runSft({
      model: p.start.model,
      tokenizer: p.start.tokenizer,
      examples,
      group,
      cotValidation,
      loop: { ...loopOf(c), steps, seed: p.seed, lr: c.warmLr },
      overflow: c.overflow,
      appendEot: true,
      outDir: dir,
      resume: hasTrainerState(dir),
      progress: ctx.progress,
      label: `star-dpo ${p.iteration}/${c.iterations} warm start`,
      ...(ctx.stopAfter !== undefined ? { stopAfter: ctx.stopAfter } : {}),
      onLog: (rec) => ctx.onLog?.({ ...rec, iteration: p.iteration, warmStart: 1 }),
      saveModel: iterationSaver('star-dpo', c, ctx, p),
    });
    if (!r.train.done) return { finished: false, model: null, result: null, examples: r.examples };
    result = r.train;
    ctx.say(
      `star-dpo iteration ${p.iteration}: warm start ${r.train.step} SFT steps on ${r.examples} kept rationales` +
        (r.train.bestStep !== null
          ? `, held-out CoT error best ${r.train.bestVal['val/cotError']?.toFixed(3)} at step ${r.train.bestStep}`
          : ''),
    );
  }
  return { finished: true, model: loadBase(dir), result, examples: examples.length };
}
