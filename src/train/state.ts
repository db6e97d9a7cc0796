// Resumable training checkpoints. A run's output folder is a loadable model checkpoint (the four
// files of DESIGN.md §5, written by the recipe) with the run's own files inside it:
//
//   <out>/config.json, model.safetensors, tokenizer.json, genrm.json    the model (recipe writes)
//   <out>/metrics.jsonl                                                  one JSON line per log
//   <out>/trainer-state/state.json          step, optimizer step, data position, loop config
//   <out>/trainer-state/params.safetensors  every trainable parameter, F32 (exact, whatever
//                                           precision model.safetensors uses)
//   <out>/trainer-state/optimizer.safetensors   AdamW moments: "m.<name>", "v.<name>"
//   <out>/trainer-state/best.safetensors    with early stopping: the trainable parameters at the
//                                           best validation check so far (F32), so the model
//                                           kept at the end survives an interruption
//
// The whole folder is built beside <out> and swapped in by rename, so <out> always holds one
// consistent checkpoint: weights, moments and data position from the same step. Nothing random
// is saved: data order and per-step randomness are pure functions of (seed, epoch/step).
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { swapFolderAtomic, writeFileAtomic } from '../engine/atomic.js';
import { readSafetensors, writeSafetensors, type NamedTensor } from '../engine/safetensors.js';
import type { Tensor } from '../engine/tensor.js';
import type { AdamW } from '../engine/optim.js';

export const STATE_DIR = 'trainer-state';
export const METRICS_FILE = 'metrics.jsonl';
const STATE_JSON = 'state.json';
const PARAMS_FILE = 'params.safetensors';
const OPTIM_FILE = 'optimizer.safetensors';
const BEST_FILE = 'best.safetensors';

/** Early stopping's progress (TrainerStateJson.early): what a resumed run continues from. */
export interface EarlyStopState {
  /** The best value of the watched validation metric so far (lower is better); null before any check. */
  best: number | null;
  /** The update at which it was reached (0: the starting model); best.safetensors holds its weights. */
  bestStep: number;
  /** All metrics of that check (val/loss, ...). */
  bestMetrics: Record<string, number>;
  /** Checks since the last improvement. */
  bad: number;
  /** Patience ran out: the run is over before its step cap. */
  stopped: boolean;
}

export interface TrainerStateJson {
  format: 'genrm-trainer-state';
  formatVersion: 1;
  /** Updates completed. */
  step: number;
  /** AdamW's bias-correction counter (equals step unless steps were skipped). */
  optimizerStep: number;
  /** The data stream's position (opaque to the trainer). */
  data: unknown;
  /** Tokens processed so far (for tokens/s and the metrics). */
  tokensSeen: number;
  /** The loop config the run was started with (resume checks it). */
  config: Record<string, unknown>;
  /** Whatever the recipe wants back on resume (JSON). */
  extra: unknown;
  /** Early stopping's state (absent or null: the run does not stop early). */
  early?: EarlyStopState | null;
  /** The run is over (step cap reached or stopped early): a resume trains no further. A finished
   * run with early stopping holds the best check's weights in params.safetensors (the model it
   * leaves) beside the last update's moments, and no best.safetensors. */
  done?: boolean;
  /** CPU seconds (user + system, all threads) spent up to this checkpoint, over every resume. */
  cpuSec?: number;
  /** The last held-out evaluation (reported again when a finished run is resumed). */
  lastEval?: Record<string, number>;
}

export interface LoadedTrainerState {
  json: TrainerStateJson;
  params: Map<string, Float32Array>;
  moments: Map<string, { m: Float32Array; v: Float32Array }>;
  /** The best check's weights (best.safetensors), when the run keeps them. */
  best: Map<string, Float32Array> | null;
}

/**
 * Writes the trainer state of `params` / `opt` into `dir` (a fresh folder); `best` (trainable
 * parameters by name) goes to best.safetensors.
 */
export function writeTrainerState(dir: string, params: ReadonlyMap<string, Tensor>, opt: AdamW, json: TrainerStateJson, best: ReadonlyMap<string, Float32Array> | null = null): void {
  mkdirSync(dir, { recursive: true });
  const weights: Array<[string, NamedTensor]> = [];
  const moments: Array<[string, NamedTensor]> = [];
  for (const [name, p] of params) {
    if (!p.requiresGrad) continue;
    weights.push([name, { shape: p.shape, data: p.data }]);
    const s = opt.getState(p);
    if (s) moments.push([`m.${name}`, { shape: p.shape, data: s.m }], [`v.${name}`, { shape: p.shape, data: s.v }]);
  }
  writeSafetensors(join(dir, PARAMS_FILE), weights, { dtype: 'F32', metadata: { format: 'genrm-trainer-state' } });
  writeSafetensors(join(dir, OPTIM_FILE), moments, { dtype: 'F32', metadata: { format: 'genrm-trainer-state' } });
  if (best) writeSafetensors(join(dir, BEST_FILE), [...best].map(([name, data]): [string, NamedTensor] => [name, { shape: params.get(name)!.shape, data }]), { dtype: 'F32', metadata: { format: 'genrm-trainer-state' } });
  writeFileSync(join(dir, STATE_JSON), JSON.stringify(json, null, 2) + '\n');
}

export function hasTrainerState(outDir: string): boolean {
  return existsSync(join(outDir, STATE_DIR, STATE_JSON));
}

/** Reads `<outDir>/trainer-state`; errors name the file and what is wrong. */
export function readTrainerState(outDir: string): LoadedTrainerState {
  const dir = join(outDir, STATE_DIR);
  const sPath = join(dir, STATE_JSON);
  if (!existsSync(sPath)) throw new Error(`${sPath}: missing; there is no resumable checkpoint in ${outDir} (was it written with checkpointEvery > 0, or by an older run?)`);
  let json: TrainerStateJson;
  try {
    json = JSON.parse(readFileSync(sPath, 'utf8')) as TrainerStateJson;
  } catch (e) {
    throw new Error(`${sPath}: not valid JSON (${(e as Error).message})`);
  }
  if (json.format !== 'genrm-trainer-state' || json.formatVersion !== 1) throw new Error(`${sPath}: not a genrm trainer state (format "genrm-trainer-state", formatVersion 1 expected)`);
  for (const k of ['step', 'optimizerStep', 'tokensSeen'] as const)
    if (!Number.isInteger(json[k]) || json[k] < 0) throw new Error(`${sPath}: field "${k}" must be a non-negative integer, got ${JSON.stringify(json[k])}`);
  const params = new Map<string, Float32Array>();
  for (const [name, t] of readSafetensors(join(dir, PARAMS_FILE)).tensors) params.set(name, t.data);
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  const raw = readSafetensors(join(dir, OPTIM_FILE)).tensors;
  for (const [key, t] of raw) {
    if (!key.startsWith('m.')) continue;
    const name = key.slice(2);
    const v = raw.get(`v.${name}`);
    if (!v) throw new Error(`${join(dir, OPTIM_FILE)}: has "${key}" but no "v.${name}"`);
    moments.set(name, { m: t.data, v: v.data });
  }
  let best: Map<string, Float32Array> | null = null;
  if (existsSync(join(dir, BEST_FILE))) {
    best = new Map();
    for (const [name, t] of readSafetensors(join(dir, BEST_FILE)).tensors) best.set(name, t.data);
  } else if (json.early?.best != null && json.done !== true) throw new Error(`${join(dir, BEST_FILE)}: missing, but ${STATE_JSON} records a best validation check at step ${json.early.bestStep}; the checkpoint is incomplete`);
  return { json, params, moments, best };
}

/** Copies a loaded state into live parameters and the optimizer; names the tensor that does not fit. */
export function restoreTrainerState(state: LoadedTrainerState, params: ReadonlyMap<string, Tensor>, opt: AdamW, where: string): void {
  for (const [name, p] of params) {
    if (!p.requiresGrad) continue;
    const data = state.params.get(name);
    if (!data) throw new Error(`${where}: the saved state has no parameter '${name}' (was it saved from another model?)`);
    if (data.length !== p.size) throw new Error(`${where}: parameter '${name}' has ${data.length} saved values, the model needs ${p.size} [${p.shape.join(', ')}]`);
    p.data.set(data);
    const s = state.moments.get(name);
    if (s) opt.setState(p, s);
  }
  for (const name of state.params.keys()) if (!params.get(name)?.requiresGrad) throw new Error(`${where}: the saved state has parameter '${name}', which this model does not train`);
  opt.stepCount = state.json.optimizerStep;
}

/**
 * Replaces `outDir` with a new checkpoint folder atomically: `fill(tmp)` writes the model files
 * and trainer state into a temp folder beside it; the current metrics file is copied in; then
 * the old folder is moved aside and the new one renamed into place.
 */
export function swapInCheckpoint(outDir: string, fill: (tmp: string) => void): void {
  const metrics = join(resolve(outDir), METRICS_FILE);
  const ours = ['genrm.json', STATE_DIR, METRICS_FILE];
  swapFolderAtomic(
    outDir,
    (tmp) => {
      fill(tmp);
      if (existsSync(metrics)) copyFileSync(metrics, join(tmp, METRICS_FILE));
    },
    { replaceable: (present) => present.some((f) => ours.includes(f)), refusal: `${outDir}: refusing to replace a folder that is not a genrm run or checkpoint` },
  );
}

/** Keeps only metrics lines up to `step` (a resumed run rewrites the lines after its checkpoint). */
export function truncateMetrics(outDir: string, step: number): void {
  const path = join(outDir, METRICS_FILE);
  if (!existsSync(path)) return;
  const keep = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => {
      if (!line.trim()) return false;
      try {
        return (JSON.parse(line) as { step?: number }).step! <= step;
      } catch {
        return false; // a line cut off by the interruption
      }
    });
  // Atomic: an interruption here must not lose the lines before the checkpoint.
  writeFileAtomic(path, keep.map((l) => l + '\n').join(''));
}

/** Whether `<outDir>` holds a finished run (its trainer state says done): resuming it trains nothing. */
export function trainerDone(outDir: string): boolean {
  if (!hasTrainerState(outDir)) return false;
  try {
    return (JSON.parse(readFileSync(join(outDir, STATE_DIR, STATE_JSON), 'utf8')) as TrainerStateJson).done === true;
  } catch {
    return false;
  }
}
