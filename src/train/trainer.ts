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
//   and resume (state.ts: checkpoint-<step> folders, a kill at any point leaves one complete):
//   bitwise the same weights as an uninterrupted run, same kernels and thread count.
// - Early stopping (optional: `task.validate` + `opts.earlyStop`): every `every` updates (and at
//   the start and the step cap) the loop runs the validation and watches one metric (lower is
//   better). An improvement by more than `minDelta` keeps a copy of the weights; `patience`
//   checks without one end the run. Either way the run ends with the best check's weights in the
//   model (and in the final checkpoint): the model a run leaves is its best one. The lr schedule
//   keeps `steps` (the cap) as its horizon, so the first N updates never depend on when it stops.
import { join } from 'node:path';
import { backward, checkedStep, noGrad } from '../engine/autograd/index.js';
import { AdamW } from '../engine/optim.js';
import { Prng } from '../engine/prng.js';
import type { Tensor } from '../engine/tensor.js';
import type { BatchStream } from './batches.js';
import { TrainLoopSchema, type TrainLoopConfig } from './config.js';
import { appendMetrics, Progress } from './progress.js';
import { checkStepMemory } from './memory.js';
import { lrAt } from './schedule.js';
import {
  hasTrainerState,
  latestCheckpoint,
  METRICS_FILE,
  readTrainerState,
  recoverRun,
  restoreTrainerState,
  STATE_DIR,
  truncateMetrics,
  writeRunCheckpoint,
  writeTrainerState,
  type EarlyStopState,
  type TrainerStateJson,
} from './state.js';

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
  /** The validation early stopping watches (used only with TrainOptions.earlyStop). */
  validate?: Validation;
  /** Writes the model checkpoint files into `dir` (a fresh folder); called at each checkpoint. */
  saveModel?(dir: string, info: { step: number; final: boolean }): void;
  /**
   * The largest micro-batch the stream makes (`rows` sequences of at most `seqLen` tokens; `field`
   * is the config field that sets rows, default "batchSize"): its memory is checked against the
   * machine before the first batch is fetched (memory.ts).
   */
  batchShape?: { rows: number; seqLen: number; field?: string };
}

/** A cheap held-out metric for early stopping, computed without gradients. */
export interface Validation {
  /** The key of run()'s result that is watched; lower is better (e.g. "val/loss"). */
  metric: string;
  /** Metrics on the validation slice; every key is logged, `metric` must be among them. */
  run(): Record<string, number>;
}

/** When to check the validation and when to stop. */
export interface EarlyStopping {
  /** Updates between checks. */
  every: number;
  /** Checks without an improvement before the run stops. */
  patience: number;
  /** An improvement is a metric below the best so far by more than this. */
  minDelta: number;
}

export interface TrainOptions {
  config: TrainLoopConfig;
  /** Run folder (checkpoint-<step>/ with trainer-state, the model published at the top, metrics.jsonl; state.ts). Absent: nothing is written. */
  outDir?: string;
  /** Continue from the run folder's current checkpoint. */
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
  /** Early stopping on `task.validate` (absent: train exactly config.steps, keep the last weights). */
  earlyStop?: EarlyStopping;
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
  /** Updates completed (config.steps unless stopped early or interrupted). */
  step: number;
  /** The run is over: the step cap was reached or early stopping ended it (false: stopAfter). */
  done: boolean;
  /** Early stopping ended the run before the step cap. */
  stoppedEarly: boolean;
  /** The update whose weights the model holds at the end (null: no early stopping). */
  bestStep: number | null;
  /** Validation metrics of that check (empty without early stopping). */
  bestVal: Record<string, number>;
  /** CPU seconds (user + system, all threads) of the whole run, resumes included. */
  cpuSec: number;
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
const RESUME_FIXED = [
  'steps',
  'batchSize',
  'gradAccum',
  'lr',
  'minLrRatio',
  'warmupSteps',
  'weightDecay',
  'beta1',
  'beta2',
  'clipNorm',
  'seed',
] as const;

const copyWeights = (named: ReadonlyArray<[string, Tensor]>): Map<string, Float32Array> =>
  new Map(named.map(([n, p]) => [n, Float32Array.from(p.data)]));

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
  let cpuBefore = 0;
  let done = false;
  let lastEval: Record<string, number> = {};
  const es = task.validate && opts.earlyStop ? { ...opts.earlyStop, v: task.validate } : null;
  let early: EarlyStopState = { best: null, bestStep: 0, bestMetrics: {}, bad: 0, stopped: false };
  let bestWeights: Map<string, Float32Array> | null = null;
  // Whatever a kill left (temp folders, a checkpoint the pointer does not name yet) is settled first.
  if (opts.outDir) recoverRun(opts.outDir);
  if (opts.outDir && opts.resume) {
    const state = readTrainerState(opts.outDir);
    const where = join(latestCheckpoint(opts.outDir) ?? opts.outDir, STATE_DIR);
    for (const k of RESUME_FIXED)
      if (state.json.config[k] !== c[k])
        throw new Error(
          `${where}: the run was started with ${k} = ${JSON.stringify(state.json.config[k])} but resumes with ${JSON.stringify(c[k])}; a resumed run must use the same training config`,
        );
    restoreTrainerState(state, task.params, opt, where);
    task.stream.seek(state.json.data);
    step = state.json.step;
    tokensSeen = state.json.tokensSeen;
    resumedExtra = state.json.extra;
    cpuBefore = state.json.cpuSec ?? 0;
    done = state.json.done === true;
    lastEval = state.json.lastEval ?? {};
    if (es && state.json.early) {
      early = state.json.early;
      bestWeights = state.best;
    }
    truncateMetrics(opts.outDir, step);
  } else if (opts.outDir && hasTrainerState(opts.outDir)) {
    throw new Error(`${opts.outDir}: holds a resumable run already; pass --resume to continue it, or choose another output folder`);
  } else if (opts.outDir) {
    truncateMetrics(opts.outDir, -1); // lines of a run killed before its first checkpoint
  }
  const resumed = step > 0 || (opts.resume ?? false);
  const cpu0 = process.cpuUsage();
  const cpuSec = (): number => {
    const u = process.cpuUsage(cpu0);
    return cpuBefore + (u.user + u.system) / 1e6;
  };

  const checkpoint = (final: boolean): void => {
    if (!opts.outDir) return;
    const json: TrainerStateJson = {
      format: 'genrm-trainer-state',
      formatVersion: 1,
      step,
      optimizerStep: opt.stepCount,
      data: task.stream.position(),
      tokensSeen,
      config: Object.fromEntries(Object.keys(TrainLoopSchema.shape).map((k) => [k, c[k as keyof TrainLoopConfig]])),
      extra: opts.extra ? opts.extra() : null,
      early: es ? early : null,
      done: final,
      cpuSec: cpuSec(),
      lastEval,
    };
    writeRunCheckpoint(opts.outDir, step, (tmp) => {
      task.saveModel?.(tmp, { step, final });
      writeTrainerState(join(tmp, STATE_DIR), task.params, opt, json, final ? null : bestWeights);
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

  /** One validation check at the current step: keeps the weights on an improvement, counts patience. */
  const check = (): Record<string, number> => {
    const m = noGrad(() => es!.v.run());
    const v = m[es!.v.metric];
    if (v === undefined || !Number.isFinite(v))
      throw new Error(`train: the validation metric "${es!.v.metric}" is ${v} at step ${step} (validation gave ${JSON.stringify(m)})`);
    if (early.best === null || v < early.best - es!.minDelta) {
      early = { best: v, bestStep: step, bestMetrics: m, bad: 0, stopped: false };
      bestWeights = copyWeights(named);
    } else {
      early = { ...early, bad: early.bad + 1 };
      if (early.bad >= es!.patience) early.stopped = true;
    }
    return { ...m, bestStep: early.bestStep };
  };

  if (task.batchShape && !done)
    checkStepMemory(task.params, task.batchShape.rows, task.batchShape.seqLen, {
      field: task.batchShape.field ?? 'batchSize',
      where: opts.label ?? 'train',
    });
  const progress = new Progress(opts.progress ?? false, opts.label);
  progress.start(c.steps, step);
  const t0 = performance.now();
  let win = { loss: 0, n: 0, tokens: 0, t: performance.now(), metrics: {} as Record<string, number> };
  let lastLoss = NaN;
  let lr = lrAt(Math.min(step, c.steps - 1), schedule);
  const end = Math.min(c.steps, opts.stopAfter ?? Infinity);
  try {
    // The starting model is the first candidate: a run that never improves on it keeps it.
    if (es && !done && early.best === null) log({ step, ...check() });
    while (!done && !early.stopped && step < end) {
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

      const doVal = es !== null && (step % es.every === 0 || step === c.steps);
      // With early stopping the last evaluation runs on the kept (best) weights, after the loop.
      const doEval = task.evaluate && ((c.evalEvery > 0 && step % c.evalEvery === 0) || (step === c.steps && !es));
      if (step % c.logEvery === 0 || step === c.steps || doEval || doVal) {
        const now = performance.now();
        const tps = (win.tokens * 1000) / Math.max(1e-9, now - win.t);
        lastLoss = win.loss / win.n;
        const record: MetricsRecord = {
          step,
          loss: lastLoss,
          lr,
          gradNorm: rep.gradNorm,
          tokensPerSec: Math.round(tps),
          tokens: tokensSeen,
          elapsedSec: Math.round((now - t0) / 10) / 100,
        };
        for (const [k, m] of Object.entries(win.metrics)) record[k] = m / win.n;
        if (doVal) Object.assign(record, check());
        if (doEval) {
          lastEval = runEval();
          Object.assign(record, lastEval);
        }
        log(record);
        progress.update(step, { loss: lastLoss, tokensPerSec: tps, lr });
        win = { loss: 0, n: 0, tokens: 0, t: performance.now(), metrics: {} };
      }
      if (step < c.steps && !early.stopped && c.checkpointEvery > 0 && step % c.checkpointEvery === 0) checkpoint(false);
    }
    if (!done && (step === c.steps || early.stopped)) {
      done = true;
      if (es && bestWeights) {
        // The run's model is its best check's: put those weights back before the last eval and save.
        for (const [n, p] of named) p.data.set(bestWeights.get(n)!);
        if (task.evaluate) {
          lastEval = runEval();
          log({ step, bestStep: early.bestStep, ...lastEval });
        }
      }
      checkpoint(true);
    }
  } finally {
    progress.stop();
  }
  if (win.n > 0) lastLoss = win.loss / win.n;
  return {
    step,
    done,
    stoppedEarly: early.stopped,
    bestStep: es ? early.bestStep : null,
    bestVal: es ? early.bestMetrics : {},
    cpuSec: cpuSec(),
    lastLoss,
    lastEval,
    tokensSeen,
    resumed,
    resumedExtra,
    elapsedSec: (performance.now() - t0) / 1000,
  };
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

/**
 * A validation over fixed held-out batches: the weighted mean of `loss` and its metrics, keyed
 * "val/loss", "val/<metric>"; early stopping watches "val/loss". `loss` is the recipe's own
 * objective without training-only terms (replay, NLL anchors), so checks compare like with like.
 */
export function heldOutValidation<B>(loss: (b: B) => LossOutput, weight: (b: B) => number, batches: readonly B[]): Validation {
  return {
    metric: 'val/loss',
    run: () => {
      const sum: Record<string, number> = {};
      let total = 0;
      for (const b of batches) {
        const w = weight(b);
        if (w === 0) continue;
        const out = loss(b);
        sum['val/loss'] = (sum['val/loss'] ?? 0) + w * out.loss.item();
        for (const [k, v] of Object.entries(out.metrics ?? {})) sum[`val/${k}`] = (sum[`val/${k}`] ?? 0) + w * v;
        total += w;
      }
      return Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, v / total]));
    },
  };
}
