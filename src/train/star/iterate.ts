// The STaR loop shared by star-sft and star-dpo (Zelikman et al. 2022; GenRM paper §1 settings):
//
//   for iteration i = 1..N (default 3), on the i-th fresh slice of `train` (a seeded split in N):
//     sample   — the model at the start of the iteration writes k rationales per pair, both
//                orders, through the one STaR sampler (in-process, batched) -> iter-i/samples.jsonl,
//                then sft.jsonl, dpo.jsonl, report.json (src/train/star/datasets.ts)
//     train    — the recipe trains from those files (SFT or DPO) -> iter-i/model/ (checkpoint,
//                trainer-state, metrics.jsonl: the loss curve), with early stopping on a
//                validation slice of the iteration's own dataset (split by source pair)
//   the next iteration starts from iter-i/model (or, when an iteration had nothing to train on,
//   from where it started). The final model's files are copied into the run folder itself.
//
// star-state.json in the run folder says where the run stands (iteration, phase) and holds each
// finished iteration's summary, so a resumed run continues at that iteration and phase: sampling
// resumes pair by pair (samples.jsonl), training from its last trainer checkpoint.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { EmbeddedBackend } from '../../backends/embedded/backend.js';
import type { PreferencePair } from '../../data/pair.js';
import { Prng } from '../../engine/prng.js';
import { linkFileAtomic, writeFileAtomic } from '../../engine/atomic.js';
import { CHECKPOINT_FILES } from '../../engine/checkpoint.js';
import { epochSeed, permutation } from '../batches.js';
import type { RecipeCommon } from '../recipes/config.js';
import { MAX_STEPS } from '../config.js';
import { loadPairData, type PairData } from '../recipes/data.js';
import { loadBase, saveRecipeModel, type BaseModel } from '../recipes/model.js';
import {
  RESOLVED_CONFIG_FILE,
  resolvedConfigJson,
  writeResolvedConfig,
  type RecipeContext,
  type RecipeResult,
} from '../recipes/registry.js';
import { hasTrainerState, latestCheckpoint, METRICS_FILE } from '../state.js';
import type { TrainResult } from '../trainer.js';
import { checkerFor } from './checker.js';
import { requireGrader, StarBuildSchema, StarSamplingSchema, type StarBuildConfig, type StarSamplingConfig } from './config.js';
import { buildStarDatasets, writeStarDatasets, type StarReport } from './datasets.js';
import { SampleProgress } from './progress.js';
import { REPORT_FILE, SAMPLES_FILE } from './records.js';
import { readSamples, sampleStar } from './sampler.js';

const { seed: _s1, ...samplingShape } = StarSamplingSchema.shape;
const { seed: _s2, ...buildShape } = StarBuildSchema.shape;

/** The STaR fields of star-sft and star-dpo (the run's `seed` seeds sampling and pairing too). */
export const StarShape = {
  ...samplingShape,
  ...buildShape,
  iterations: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(3)
    .describe(
      "STaR iterations: sample from the current model, build the datasets, train, repeat; each iteration gets a fresh slice of train of its own. 3, the paper's (Mahan et al. 2024; STaR, Zelikman et al. 2022); at most 1,000.",
    ),
  lr: z
    .number()
    .positive()
    .max(1)
    .default(1e-4)
    .describe(
      "Peak learning rate (star-dpo sets its own). 1e-4, a third of the SFT recipes' 3e-4: SFT on a model's own rationales starts where they are already likely, and on the committed base's kept rationales 3e-4 lowered greedy CoT accuracy (79.5 / 72.5% to 76.0 / 68.5%, ID / OOD) where 1e-4 held it.",
    ),
  epochs: z
    .number()
    .positive()
    .max(10_000)
    .default(2)
    .describe(
      "Most passes over each iteration's dataset: a cap, not a budget, since early stopping ends an iteration as soon as its samples stop teaching. 2 lets a small iteration (a few hundred pairs: under 100 updates a pass) reach that point.",
    ),
  steps: z
    .number()
    .int()
    .min(1)
    .max(MAX_STEPS)
    .default(1000)
    .describe("Most updates per iteration (the epochs decide unless this is smaller). 1000, the other recipes' cap."),
};

export type StarCommon = RecipeCommon &
  Omit<StarSamplingConfig, 'seed'> &
  Omit<StarBuildConfig, 'seed'> & { iterations: number; epochs: number };

export const STATE_FILE = 'star-state.json';
export const ITERATIONS_FILE = 'star-iterations.jsonl';

export interface IterationSummary {
  iteration: number;
  /** The checkpoint the iteration sampled from and trained from. */
  start: string;
  /** The checkpoint it ended with (its own model folder, or `start` if nothing was trained). */
  end: string;
  pairs: number;
  pairsWithRight: number;
  rightShareMean: number;
  sftKept: number;
  dpoPairs: number;
  rationalizedPairs: number;
  rightForWrongReason: number;
  sampleSeconds: number;
  tokensSampled: number;
  /**
   * Training: steps (updates done, warm start included), cap, bestStep, stoppedEarly (0/1),
   * tokens, cpuSec, the best check's val/* metrics, first/last loss and the last record's
   * metrics (DPO rewards, eval).
   */
  train: Record<string, number> | null;
}

interface StarState {
  iteration: number;
  phase: 'sampling' | 'training' | 'done';
  history: IterationSummary[];
  /** Sampling stats of the current iteration (carried from the sampling phase to the summary). */
  sampling: { seconds: number; tokens: number } | null;
}

/** What a recipe's training phase gets and gives. */
export interface TrainPhase {
  iteration: number;
  dir: string;
  /** Where the trainer writes (checkpoint + trainer-state + metrics.jsonl). */
  modelDir: string;
  /** The iteration's starting model, loaded trainable. */
  start: BaseModel;
  startDir: string;
  report: StarReport;
  /** Continue training from modelDir's trainer-state. */
  resume: boolean;
  data: PairData;
  seed: number;
}

export interface TrainOutcome {
  /** false: nothing to train on (the model is left as it started). */
  trained: boolean;
  /** Training finished (false: stopped early by ctx.stopAfter). */
  finished: boolean;
  metrics: Record<string, number>;
}

function readState(out: string): StarState | null {
  const f = join(out, STATE_FILE);
  if (!existsSync(f)) return null;
  return JSON.parse(readFileSync(f, 'utf8')) as StarState;
}

function writeState(out: string, s: StarState): void {
  writeFileAtomic(join(out, STATE_FILE), JSON.stringify(s, null, 2) + '\n');
}

/** The i-th of n seeded slices of the training pairs (1-based). */
export function iterationSlice(pairs: readonly PreferencePair[], i: number, n: number, seed: number): PreferencePair[] {
  const order = permutation(pairs.length, new Prng(epochSeed(seed, 3_000_017)));
  const from = Math.floor(((i - 1) * pairs.length) / n);
  const to = Math.floor((i * pairs.length) / n);
  return Array.from(order.subarray(from, to), (j) => pairs[j]!);
}

/**
 * Puts a model's files into `out` one by one (each atomically: a hard link or copy, then rename),
 * genrm.json last: the current checkpoint's when `from` is a training run folder (state.ts), else
 * the folder's own (the base model).
 */
function copyCheckpointFiles(from: string, out: string): void {
  const dir = latestCheckpoint(from) ?? from;
  for (const f of [RESOLVED_CONFIG_FILE, ...CHECKPOINT_FILES]) {
    const src = join(dir, f);
    if (!existsSync(src)) continue;
    linkFileAtomic(src, join(out, f));
  }
}

export async function runStar(
  recipe: string,
  c: StarCommon,
  ctx: RecipeContext,
  trainPhase: (p: TrainPhase) => TrainOutcome,
): Promise<RecipeResult> {
  const t0 = performance.now();
  const checker = checkerFor(c.data);
  requireGrader(c.filter, checker !== null, c.data); // before the run folder is claimed
  const out = resolve(c.out);
  mkdirSync(out, { recursive: true });
  let state: StarState | null = readState(out);
  if (state && !ctx.resume)
    throw new Error(`${out}: holds a STaR run already (${STATE_FILE}); pass --resume to continue it, or choose another output folder`);
  if (!state) {
    state = { iteration: 1, phase: 'sampling', history: [], sampling: null };
    writeFileAtomic(join(out, RESOLVED_CONFIG_FILE), resolvedConfigJson(recipe, c));
    writeState(out, state);
  }
  const data = loadPairData(c.data, { evalPairs: c.evalPairs, seed: c.seed });
  const sampling: StarSamplingConfig = {
    k: c.k,
    temperature: c.temperature,
    topP: c.topP,
    maxTokens: c.maxTokens,
    stop: c.stop,
    seed: 0,
    chunkPairs: c.chunkPairs,
    rationalize: c.rationalize,
  };
  // Every field of the build schema, from the recipe config: a field added to StarBuildSchema arrives here by itself.
  const build = {
    ...Object.fromEntries(Object.keys(buildShape).map((k) => [k, c[k as keyof StarCommon]])),
    seed: c.seed,
  } as StarBuildConfig;
  ctx.say(
    `${recipe}: ${c.iterations} iterations over ${data.train.length} training pairs (${c.k} rationales per pair and order); checker: ${checker ? 'PrefWorld' : 'none'}`,
  );

  let stopped = false;
  while (state.iteration <= c.iterations && !stopped) {
    const i: number = state.iteration;
    const dir = join(out, `iter-${i}`);
    const modelDir = join(dir, 'model');
    const startDir = i === 1 ? resolve(c.base) : state.history[i - 2]!.end;
    const seed = c.seed + i; // a different stream per iteration, the same on resume

    if (state.phase === 'sampling') {
      const start = loadBase(startDir);
      const lm = new EmbeddedBackend(start.model, start.tokenizer, `embedded:${startDir}`);
      const slice = iterationSlice(data.train, i, c.iterations, c.seed);
      const bar = new SampleProgress(ctx.progress, `${recipe} ${i}/${c.iterations} sample`);
      let stats;
      try {
        stats = await sampleStar(lm, slice, { config: { ...sampling, seed }, outDir: dir, resume: true, checker, onProgress: bar.update });
      } finally {
        bar.stop();
      }
      const d = buildStarDatasets(readSamples(join(dir, SAMPLES_FILE)), { ...build, seed });
      writeStarDatasets(dir, d, { iteration: i, model: startDir, tokensSampled: stats.tokens, sampleSeconds: stats.seconds });
      ctx.say(
        `${recipe} iteration ${i}: ${d.report.pairs} pairs sampled, ${(100 * d.report.pairsWithRight).toFixed(1)}% with a right rationale (mean right share ${(100 * d.report.rightShareMean).toFixed(1)}%); ` +
          `kept ${d.report.sft.kept} rationales, ${d.report.dpo.pairs} DPO pairs` +
          (d.report.graded ? `; ${d.report.sft.rightForWrongReason} kept right for the wrong reason` : '') +
          (c.rationalize ? `; ${d.report.rationalized.pairs} pairs rationalized` : ''),
      );
      state = { ...state, phase: 'training', sampling: { seconds: stats.seconds, tokens: stats.tokens } };
      writeState(out, state);
    }

    const report = JSON.parse(readFileSync(join(dir, REPORT_FILE), 'utf8')) as StarReport;
    const start = loadBase(startDir);
    const o = trainPhase({ iteration: i, dir, modelDir, start, startDir, report, resume: hasTrainerState(modelDir), data, seed });
    if (!o.finished) {
      stopped = true;
      break;
    }
    if (!o.trained) ctx.say(`${recipe} iteration ${i}: nothing to train on; the next iteration starts from the same model`);
    else {
      const m = o.metrics;
      const f = (k: string): string => (typeof m[k] === 'number' ? m[k]!.toFixed(3) : '-');
      const dpo = 'val/rewards/accuracies' in m;
      const held =
        'val/loss' in m
          ? `held-out ${dpo ? 'DPO loss' : 'NLL'} ${f('valStart')} -> ${f('val/loss')} (best at step ${m.bestStep}${m.stoppedEarly ? ', stopped early' : ''})`
          : 'no validation slice';
      const warm = typeof m['sft/steps'] === 'number' ? ` after ${m['sft/steps']} warm-start SFT steps` : '';
      ctx.say(
        `${recipe} iteration ${i}: ${m.steps! - (m['sft/steps'] ?? 0)} of at most ${m.cap} steps on ${m.examples} examples${warm}; ${held}` +
          (dpo ? `, held-out reward accuracy ${f('val/rewards/accuracies')}, margin ${f('val/rewards/margins')}` : ''),
      );
    }
    const summary: IterationSummary = {
      iteration: i,
      start: startDir,
      end: o.trained ? modelDir : startDir,
      pairs: report.pairs,
      pairsWithRight: report.pairsWithRight,
      rightShareMean: report.rightShareMean,
      sftKept: report.sft.kept,
      dpoPairs: report.dpo.pairs,
      rationalizedPairs: report.rationalized.pairs,
      rightForWrongReason: report.sft.rightForWrongReason,
      sampleSeconds: state.sampling?.seconds ?? NaN,
      tokensSampled: state.sampling?.tokens ?? 0,
      train: o.trained ? o.metrics : null,
    };
    writeFileAtomic(join(out, ITERATIONS_FILE), [...state.history, summary].map((s) => JSON.stringify(s) + '\n').join(''));
    state = { iteration: i + 1, phase: 'sampling', history: [...state.history, summary], sampling: null };
    writeState(out, state);
  }

  if (!stopped && state.phase !== 'done') {
    copyCheckpointFiles(state.history[state.history.length - 1]!.end, out);
    state = { ...state, phase: 'done' };
    writeState(out, state);
  }
  const h = state.history;
  const lastTrain = [...h].reverse().find((s) => s.train)?.train ?? {};
  const total = (k: string): number => h.reduce((a, s) => a + (s.train?.[k] ?? 0), 0);
  const val = Object.fromEntries(Object.entries(lastTrain).filter(([k]) => k.startsWith('val/')));
  return {
    recipe,
    out,
    steps: total('steps'),
    bestStep: typeof lastTrain.bestStep === 'number' ? lastTrain.bestStep : null,
    bestVal: val['val/loss'] ?? null,
    val,
    stoppedEarly: h.some((s) => (s.train?.stoppedEarly ?? 0) > 0),
    tokens: total('tokens'),
    cpuSec: total('cpuSec'),
    firstLoss: h.find((s) => s.train)?.train?.firstLoss ?? NaN,
    lastLoss: lastTrain.lastLoss ?? NaN,
    eval: Object.fromEntries(Object.entries(lastTrain).filter(([k]) => k.startsWith('eval'))),
    elapsedSec: (performance.now() - t0) / 1000,
    details: { iterations: h, stopped, phase: state.phase, iteration: state.iteration },
  };
}

/** The trainer's saveModel for an iteration: an 'lm' checkpoint of `model` (default: the iteration's start, trained in place) whose parent is `parent` (default: the iteration's start). */
export function iterationSaver(
  recipe: string,
  c: StarCommon,
  ctx: RecipeContext,
  p: TrainPhase,
  model: BaseModel = p.start,
  parent = p.startDir,
): (dir: string) => void {
  return (dir) => {
    saveRecipeModel(dir, {
      recipe,
      kind: 'lm',
      model: model.model,
      tokenizer: model.tokenizer,
      command: ctx.command,
      config: c,
      seed: c.seed,
      dataHash: p.data.hash,
      parent,
      dtype: c.dtype,
    });
    writeResolvedConfig(dir, recipe, c);
  };
}

/**
 * The ends of an iteration's loss curve from its metrics.jsonl (so a resumed run reports the
 * whole curve's first loss too): firstLoss, lastLoss and the last record's other numbers.
 */
export function curveEnds(modelDir: string): Record<string, number> {
  const f = join(modelDir, METRICS_FILE);
  if (!existsSync(f)) return {};
  const recs = readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, number>);
  const withLoss = recs.filter((r) => typeof r.loss === 'number');
  const out: Record<string, number> = {};
  const firstVal = recs.find((r) => typeof r['val/loss'] === 'number');
  const last = recs[recs.length - 1];
  if (last) for (const [k, v] of Object.entries(last)) if (typeof v === 'number' && k !== 'loss') out[k] = v;
  if (withLoss.length) {
    out.firstLoss = withLoss[0]!.loss!;
    out.lastLoss = withLoss[withLoss.length - 1]!.loss!;
  }
  if (firstVal) out.valStart = firstVal['val/loss']!;
  return out;
}

/**
 * An iteration's training numbers for its summary: updates done (of at most `cap`), the best
 * check (bestStep, its val/* metrics), stoppedEarly (0/1), tokens, CPU seconds, and the ends of
 * the curve (curveEnds). The last record's numbers come first so the best check's win.
 */
export function trainedMetrics(r: TrainResult, cap: number, examples: number, modelDir: string): Record<string, number> {
  return {
    ...curveEnds(modelDir),
    ...r.bestVal,
    steps: r.step,
    cap,
    examples,
    ...(r.bestStep !== null ? { bestStep: r.bestStep } : {}),
    stoppedEarly: r.stoppedEarly ? 1 : 0,
    tokens: r.tokensSeen,
    cpuSec: r.cpuSec,
  };
}

/** Updates for `epochs` passes over n examples, at most `cap` (at least 1). */
export function iterationSteps(n: number, c: { epochs: number; batchSize: number; gradAccum: number; steps: number }): number {
  return Math.max(1, Math.min(c.steps, Math.ceil((c.epochs * n) / (c.batchSize * c.gradAccum))));
}
