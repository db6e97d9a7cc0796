// The training loop shared by every recipe (pretrain, bt, pairrm, genrm, rationalize, star-sft,
// star-dpo). A recipe supplies WHAT to train; the loop does HOW, the same way for all:
//
//   const task: TrainTask<LmBatch> = {
//     params: model.params,                        // named parameters; frozen ones are skipped
//     stream: new PackedStream(docs, {...}),       // micro-batches, deterministic, seekable
//     loss: (b) => ({ loss: model.loss(b.ids, b.targets, b.batch, b.seqLen) }),
//     weight: (b) => b.tokens,                     // what the loss averages over (tokens, pairs)
//     tokens: (b) => b.batch * b.seqLen,           // tokens processed (throughput)
//     evaluate: () => ({ evalLoss: ... }),         // optional held-out metrics (no gradients)
//     saveModel: (dir, info) => saveCheckpoint(dir, {...}),  // optional: the model files
//   };
//   const result = train(task, { config, outDir, resume });
//
// The seam, precisely:
// - `loss(batch, ctx)` runs the forward pass on the autograd tape and returns a one-element loss
//   Tensor that is a MEAN over `weight(batch)` units. The loop calls backward on it; nothing else
//   (no optimizer calls, no parameter writes). It must be deterministic given (batch, ctx): any
//   randomness comes from `ctx.rng`, which is seeded by (seed, step, micro-batch), so a resumed
//   run draws the same numbers. Extra scalars in `metrics` are averaged into the log.
// - Gradient accumulation: `gradAccum` micro-batches per update, each loss's gradient scaled by
//   weight_i / sum(weights), so the update equals one over the concatenated batch (token-mean
//   cross-entropy, pair-mean BT or DPO loss) up to float rounding.
// - The loop owns AdamW (global grad-norm clipping folded into its step), the warmup + cosine
//   schedule, NaN/Inf reporting (checkedStep names the op), logging, evaluation, checkpoints
//   and resume (state.ts): bitwise the same weights as an uninterrupted run, same kernels and
//   thread count.
import { join } from 'node:path';
import { backward, checkedStep, noGrad } from '../engine/autograd/index.js';
import { AdamW } from '../engine/optim.js';
import { Prng } from '../engine/prng.js';
import type { Tensor } from '../engine/tensor.js';
import type { BatchStream } from './batches.js';
import type { TrainLoopConfig } from './config.js';
import { appendMetrics, Progress } from './progress.js';
import { lrAt } from './schedule.js';
import { hasTrainerState, METRICS_FILE, readTrainerState, restoreTrainerState, STATE_DIR, swapInCheckpoint, truncateMetrics, writeTrainerState, type TrainerStateJson } from './state.js';

/** What the loop hands a recipe's loss function besides the batch. */
export interface StepContext {
  /** The update being computed (0-based). */
  step: number;
  /** Which micro-batch of the update (0..gradAccum-1). */
  micro: number;
  /** Randomness for this micro-batch only (dropout, sampling): seeded by (seed, step, micro). */
  rng: Prng;
}

export interface LossOutput {
  /** One-element tensor on the tape: the mean loss over the batch's `weight` units. */
  loss: Tensor;
  /** Extra scalars to log (e.g. DPO reward margin, accuracy), averaged like the loss. */
  metrics?: Record<string, number>;
}

export interface TrainTask<B> {
  /** Every parameter by name (model.params); those with requiresGrad are trained and saved. */
  params: ReadonlyMap<string, Tensor>;
  stream: BatchStream<B>;
  loss(batch: B, ctx: StepContext): LossOutput;
  /** Units the loss averages over (tokens with a target, pairs): accumulation weights. Default 1. */
  weight?(batch: B): number;
  /** Tokens processed by the batch (for tokens/s). Default 0 (not reported). */
  tokens?(batch: B): number;
  /** Held-out metrics, computed without gradients; keys are logged as is (e.g. "evalLoss"). */
  evaluate?(step: number): Record<string, number>;
  /** Writes the model checkpoint files into `dir` (a fresh folder); called at each checkpoint. */
  saveModel?(dir: string, info: { step: number; final: boolean }): void;
}

export interface TrainOptions {
  config: TrainLoopConfig;
  /** Run folder (checkpoint + trainer-state + metrics.jsonl). Absent: nothing is written. */
  outDir?: string;
  /** Continue from `<outDir>/trainer-state`. */
  resume?: boolean;
  /** Progress bar on stderr (still only on a TTY). */
  progress?: boolean;
  label?: string;
  /** Called with every metrics record (also written to metrics.jsonl). */
  onLog?: (record: MetricsRecord) => void;
  /** Stop after this many completed updates without a final checkpoint (tests: an interruption). */
  stopAfter?: number;
  /** Recipe state to store in trainer-state (returned as `resumedExtra` on resume). */
  extra?: () => unknown;
}

export interface MetricsRecord {
  step: number;
  loss?: number;
  lr?: number;
  gradNorm?: number;
  tokensPerSec?: number;
  tokens?: number;
  elapsedSec?: number;
  [key: string]: number | undefined;
}

export interface TrainResult {
  /** Updates completed (config.steps unless stopped early). */
  step: number;
  /** Mean loss over the last logging window. */
  lastLoss: number;
  /** Last evaluation's metrics ({} if none ran). */
  lastEval: Record<string, number>;
  tokensSeen: number;
  /** Whether the run started from a saved state. */
  resumed: boolean;
  resumedExtra: unknown;
  elapsedSec: number;
}

/** Loop config fields that must match on resume: they change what the weights become. */
const RESUME_FIXED = ['steps', 'batchSize', 'gradAccum', 'lr', 'minLrRatio', 'warmupSteps', 'weightDecay', 'beta1', 'beta2', 'clipNorm', 'seed'] as const;

function stepSeed(seed: number, step: number, micro: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) ^ Math.imul(step + 1, 0x165667b1) ^ Math.imul(micro + 1, 0x9e3779b1)) >>> 0;
}

export function train<B>(task: TrainTask<B>, opts: TrainOptions): TrainResult {
  const c = opts.config;
  const named = [...task.params].filter(([, p]) => p.requiresGrad);
  const params = named.map(([, p]) => p);
  if (params.length === 0) throw new Error('train: no parameter requires gradients (is the whole model frozen?)');
  const opt = new AdamW(params, { lr: c.lr, beta1: c.beta1, beta2: c.beta2, weightDecay: c.weightDecay, clipNorm: c.clipNorm });
  const schedule = { lr: c.lr, totalSteps: c.steps, warmupSteps: c.warmupSteps, minLrRatio: c.minLrRatio };
  const metricsPath = opts.outDir ? join(opts.outDir, METRICS_FILE) : null;

  let step = 0;
  let tokensSeen = 0;
  let resumedExtra: unknown = null;
  if (opts.outDir && opts.resume) {
    const state = readTrainerState(opts.outDir);
    const where = join(opts.outDir, STATE_DIR);
    for (const k of RESUME_FIXED)
      if (state.json.config[k] !== c[k]) throw new Error(`${where}: the run was started with ${k} = ${JSON.stringify(state.json.config[k])} but resumes with ${JSON.stringify(c[k])}; a resumed run must use the same training config`);
    restoreTrainerState(state, task.params, opt, where);
    task.stream.seek(state.json.data);
    step = state.json.step;
    tokensSeen = state.json.tokensSeen;
    resumedExtra = state.json.extra;
    truncateMetrics(opts.outDir, step);
  } else if (opts.outDir && hasTrainerState(opts.outDir)) {
    throw new Error(`${opts.outDir}: holds a resumable run already; pass --resume to continue it, or choose another output folder`);
  }
  const resumed = step > 0 || (opts.resume ?? false);

  const checkpoint = (final: boolean): void => {
    if (!opts.outDir) return;
    const json: TrainerStateJson = {
      format: 'genrm-trainer-state',
      formatVersion: 1,
      step,
      optimizerStep: opt.stepCount,
      data: task.stream.position(),
      tokensSeen,
      config: { ...c },
      extra: opts.extra ? opts.extra() : null,
    };
    swapInCheckpoint(opts.outDir, (tmp) => {
      task.saveModel?.(tmp, { step, final });
      writeTrainerState(join(tmp, STATE_DIR), task.params, opt, json);
    });
  };

  const log = (record: MetricsRecord): void => {
    if (metricsPath) appendMetrics(metricsPath, record);
    opts.onLog?.(record);
  };

  const runEval = (): Record<string, number> => {
    if (!task.evaluate) return {};
    return noGrad(() => task.evaluate!(step));
  };

  const progress = new Progress(opts.progress ?? false, opts.label);
  progress.start(c.steps, step);
  const t0 = performance.now();
  let win = { loss: 0, n: 0, tokens: 0, t: performance.now(), metrics: {} as Record<string, number> };
  let lastLoss = NaN;
  let lastEval: Record<string, number> = {};
  let lr = lrAt(Math.min(step, c.steps - 1), schedule);
  const end = Math.min(c.steps, opts.stopAfter ?? Infinity);
  try {
    while (step < end) {
      lr = lrAt(step, schedule);
      opt.setLr(lr);
      // Fetch the whole update's micro-batches first: their weights scale each gradient.
      const batches: B[] = [];
      for (let i = 0; i < c.gradAccum; i++) batches.push(task.stream.next());
      const weights = batches.map((b) => (task.weight ? task.weight(b) : 1));
      const total = weights.reduce((a, b) => a + b, 0);
      const stepMetrics: Record<string, number> = {};
      const loss = checkedStep(step, params, () => {
        let sum = 0;
        for (const k of Object.keys(stepMetrics)) delete stepMetrics[k];
        batches.forEach((b, micro) => {
          const w = total > 0 ? weights[micro]! / total : 0;
          if (w === 0) return; // a batch with nothing to learn from (all targets masked)
          const out = task.loss(b, { step, micro, rng: new Prng(stepSeed(c.seed, step, micro)) });
          const v = out.loss.item();
          backward(out.loss, { gradScale: w });
          sum += w * v;
          for (const [k, m] of Object.entries(out.metrics ?? {})) stepMetrics[k] = (stepMetrics[k] ?? 0) + w * m;
        });
        return sum;
      });
      const rep = total > 0 ? opt.step() : { gradNorm: 0, clipScale: 1 };
      opt.zeroGrad();
      step++;
      const tok = task.tokens ? batches.reduce((a, b) => a + task.tokens!(b), 0) : 0;
      tokensSeen += tok;
      win.loss += loss;
      win.n++;
      win.tokens += tok;
      for (const [k, m] of Object.entries(stepMetrics)) win.metrics[k] = (win.metrics[k] ?? 0) + m;

      const doEval = task.evaluate && ((c.evalEvery > 0 && step % c.evalEvery === 0) || step === c.steps);
      if (step % c.logEvery === 0 || step === c.steps || doEval) {
        const now = performance.now();
        const tps = (win.tokens * 1000) / Math.max(1e-9, now - win.t);
        lastLoss = win.loss / win.n;
        const record: MetricsRecord = { step, loss: lastLoss, lr, gradNorm: rep.gradNorm, tokensPerSec: Math.round(tps), tokens: tokensSeen, elapsedSec: Math.round((now - t0) / 10) / 100 };
        for (const [k, m] of Object.entries(win.metrics)) record[k] = m / win.n;
        if (doEval) {
          lastEval = runEval();
          Object.assign(record, lastEval);
        }
        log(record);
        progress.update(step, { loss: lastLoss, tokensPerSec: tps, lr });
        win = { loss: 0, n: 0, tokens: 0, t: performance.now(), metrics: {} };
      }
      if (step < c.steps && c.checkpointEvery > 0 && step % c.checkpointEvery === 0) checkpoint(false);
    }
    if (step === c.steps) checkpoint(true);
  } finally {
    progress.stop();
  }
  if (win.n > 0) lastLoss = win.loss / win.n;
  return { step, lastLoss, lastEval, tokensSeen, resumed, resumedExtra, elapsedSec: (performance.now() - t0) / 1000 };
}

/** Mean of a recipe's loss over held-out batches (weights as in training), without gradients. */
export function meanLoss<B>(task: Pick<TrainTask<B>, 'loss' | 'weight'>, batches: Iterable<B>): number {
  return noGrad(() => {
    let sum = 0;
    let total = 0;
    for (const b of batches) {
      const w = task.weight ? task.weight(b) : 1;
      if (w === 0) continue;
      sum += w * task.loss(b, { step: -1, micro: 0, rng: new Prng(0) }).loss.item();
      total += w;
    }
    return total > 0 ? sum / total : NaN;
  });
}
