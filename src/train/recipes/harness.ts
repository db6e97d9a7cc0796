// What every recipe does around its own loss: load the base model and the pairs, say what was
// loaded, make the `saveModel` callback that writes the checkpoint (kind, head, provenance) and
// config.resolved.json into each checkpoint folder, run the shared loop (bt, pairrm: their own
// loss, the same loop options), and turn the loop's result into a report.
import type { CheckpointKind } from '../../engine/checkpoint.js';
import { Prng } from '../../engine/prng.js';
import { train, type StepContext, type TrainResult, type TrainTask } from '../trainer.js';
import { earlyStopOf, loopOf, type RecipeCommon } from './config.js';
import { loadPairData, type PairData } from './data.js';
import { loadBase, saveRecipeModel, type BaseModel } from './model.js';
import { writeResolvedConfig, type RecipeContext, type RecipeResult } from './registry.js';

export interface Prepared extends BaseModel {
  data: PairData;
  /** The trainer's saveModel for this run: checkpoint files + config.resolved.json. */
  saveModel(kind: CheckpointKind): (dir: string) => void;
  /**
   * Runs the shared loop on a task in this run's folder (resume, progress, stopAfter and log
   * callbacks from the context); firstLoss is the first training loss logged (NaN if none).
   */
  train<B>(task: TrainTask<B>): { r: TrainResult; firstLoss: number };
  /** The run's report from the loop's result. */
  result(r: TrainResult, firstLoss: number, details: Record<string, unknown>): RecipeResult;
}

/** The step context of a validation forward pass (nothing random is drawn). */
export const VAL_CTX: StepContext = { step: -1, micro: 0, rng: new Prng(0) };

/** A recipe's report from the loop's result. */
export function resultOf(recipe: string, out: string, r: TrainResult, firstLoss: number, details: Record<string, unknown>): RecipeResult {
  const bestVal = r.bestVal['val/loss'];
  return {
    recipe,
    out,
    steps: r.step,
    bestStep: r.bestStep,
    bestVal: bestVal ?? null,
    val: r.bestVal,
    stoppedEarly: r.stoppedEarly,
    tokens: r.tokensSeen,
    cpuSec: r.cpuSec,
    firstLoss,
    lastLoss: r.lastLoss,
    eval: r.lastEval,
    elapsedSec: r.elapsedSec,
    details,
  };
}

/** The pairs: ctx.pairs when runRecipe read them (a file in another preference format: ./trlData.ts), else c.data as PreferencePair JSONL or a PrefWorld folder. */
export function prepare(recipe: string, c: RecipeCommon, ctx: RecipeContext): Prepared {
  const base = loadBase(c.base);
  const data = ctx.pairs ?? loadPairData(c.data, { evalPairs: c.evalPairs, seed: c.seed });
  const nParams = base.model.parameters().reduce((a, p) => a + p.size, 0);
  ctx.say(
    `${recipe}: base ${c.base} (${(nParams / 1e6).toFixed(2)}M parameters, context ${base.model.config.maxSeqLen}); ${data.train.length} training pairs from ${data.trainFile}${data.ties ? ` (${data.ties} ties left out)` : ''}; eval: ${data.evalSource}`,
  );
  return {
    ...base,
    data,
    saveModel: (kind) => (dir) => {
      saveRecipeModel(dir, {
        recipe,
        kind,
        model: base.model,
        tokenizer: base.tokenizer,
        command: ctx.command,
        config: c,
        seed: c.seed,
        dataHash: data.hash,
        parent: base.dir,
        dtype: c.dtype,
      });
      writeResolvedConfig(dir, recipe, c);
    },
    train: (task) => {
      let firstLoss = NaN;
      const r = train(task, {
        config: loopOf(c),
        ...(task.validate && earlyStopOf(c) ? { earlyStop: earlyStopOf(c)! } : {}),
        outDir: c.out,
        resume: ctx.resume,
        progress: ctx.progress,
        label: recipe,
        ...(ctx.stopAfter !== undefined ? { stopAfter: ctx.stopAfter } : {}),
        onLog: (rec) => {
          if (Number.isNaN(firstLoss) && rec.loss !== undefined) firstLoss = rec.loss;
          ctx.onLog?.(rec);
        },
      });
      return { r, firstLoss };
    },
    result: (r, firstLoss, details) => resultOf(recipe, c.out, r, firstLoss, details),
  };
}
