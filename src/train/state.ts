// Resumable training runs. A run folder holds complete checkpoints, a pointer to the current
// one, and a published copy of its model at the top, so the folder itself loads as a model:
//
//   <out>/checkpoint-<step>/                 a complete checkpoint (at most one, the current):
//     config.json, model.safetensors, tokenizer.json, genrm.json, ...   the model (recipe writes)
//     trainer-state/state.json               step, optimizer step, data position, loop config
//     trainer-state/params.safetensors       every trainable parameter, F32 (exact, whatever
//                                            precision model.safetensors uses)
//     trainer-state/optimizer.safetensors    AdamW moments: "m.<name>", "v.<name>"
//     trainer-state/best.safetensors         with early stopping: the trainable parameters at
//                                            the best validation check so far (F32), so the
//                                            model kept at the end survives an interruption
//   <out>/latest                             the current checkpoint's folder name, one line
//   <out>/config.json, model.safetensors, ...   the current checkpoint's model files, hard links
//   <out>/metrics.jsonl                      one JSON line per log (appended; a resume cuts it
//                                            back to its checkpoint's step)
//
// Writing a checkpoint: its folder is filled under a hidden temp name (.checkpoint-<step>.tmp-…)
// and renamed into place (complete from then on); `latest` is replaced by rename; the model files
// are linked to the top, genrm.json removed first and linked last (a reader that finds genrm.json
// finds the whole set); then the older checkpoint folder goes. A kill at any point leaves a
// complete checkpoint reachable: the one `latest` names, or a newer one already renamed into
// place. recoverRun, run before every training start, takes the newest complete checkpoint,
// points `latest` at it, publishes it again, and deletes the temp folders and files killed
// writers left (and moves a run written in the earlier layout, <out>/trainer-state beside the
// model, into checkpoint-<step>). Nothing random is saved: data order and per-step randomness
// are pure functions of (seed, epoch/step).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { hiddenTemp, linkFileAtomic, recoverFolderSwap, removeLeftovers, sameFile, writeFileAtomic } from '../engine/atomic.js';
import { CHECKPOINT_META_FILE } from '../engine/checkpoint.js';
import { readSafetensors, writeSafetensors, type NamedTensor } from '../engine/safetensors.js';
import type { Tensor } from '../engine/tensor.js';
import type { AdamW } from '../engine/optim.js';

export const STATE_DIR = 'trainer-state';
export const METRICS_FILE = 'metrics.jsonl';
/** The pointer to the current checkpoint folder. */
export const LATEST_FILE = 'latest';
const CHECKPOINT_RE = /^checkpoint-(\d+)(?:-(\d+))?$/;
/** The file whose presence at the top says "the model here is complete": published last. */
const COMMIT_FILE = CHECKPOINT_META_FILE;
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
export function writeTrainerState(
  dir: string,
  params: ReadonlyMap<string, Tensor>,
  opt: AdamW,
  json: TrainerStateJson,
  best: ReadonlyMap<string, Float32Array> | null = null,
): void {
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
  if (best)
    writeSafetensors(
      join(dir, BEST_FILE),
      [...best].map(([name, data]): [string, NamedTensor] => [name, { shape: params.get(name)!.shape, data }]),
      { dtype: 'F32', metadata: { format: 'genrm-trainer-state' } },
    );
  writeFileSync(join(dir, STATE_JSON), JSON.stringify(json, null, 2) + '\n');
}

/**
 * Whether `outDir` holds a resumable run (a complete checkpoint, in this layout or the earlier
 * one). A run folder an earlier genrm's swap left aside (killed between its renames) is put back
 * first, so the answer is about the run, not about where the kill came.
 */
export function hasTrainerState(outDir: string): boolean {
  if (!existsSync(outDir)) recoverFolderSwap(outDir);
  return latestCheckpoint(outDir) !== null || existsSync(join(outDir, STATE_DIR, STATE_JSON));
}

/** Reads the current checkpoint's trainer-state; errors name the file and what is wrong. */
export function readTrainerState(outDir: string): LoadedTrainerState {
  const ck = latestCheckpoint(outDir);
  const dir = join(ck ?? outDir, STATE_DIR);
  const sPath = join(dir, STATE_JSON);
  if (!existsSync(sPath))
    throw new Error(`${sPath}: missing; there is no resumable checkpoint in ${outDir} (was it written with checkpointEvery > 0?)`);
  let json: TrainerStateJson;
  try {
    json = JSON.parse(readFileSync(sPath, 'utf8')) as TrainerStateJson;
  } catch (e) {
    throw new Error(`${sPath}: not valid JSON (${(e as Error).message})`);
  }
  if (json.format !== 'genrm-trainer-state' || json.formatVersion !== 1)
    throw new Error(`${sPath}: not a genrm trainer state (format "genrm-trainer-state", formatVersion 1 expected)`);
  for (const k of ['step', 'optimizerStep', 'tokensSeen'] as const)
    if (!Number.isInteger(json[k]) || json[k] < 0)
      throw new Error(`${sPath}: field "${k}" must be a non-negative integer, got ${JSON.stringify(json[k])}`);
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
  } else if (json.early?.best != null && json.done !== true)
    throw new Error(
      `${join(dir, BEST_FILE)}: missing, but ${STATE_JSON} records a best validation check at step ${json.early.bestStep}; the checkpoint is incomplete`,
    );
  return { json, params, moments, best };
}

/** Copies a loaded state into live parameters and the optimizer; names the tensor that does not fit. */
export function restoreTrainerState(state: LoadedTrainerState, params: ReadonlyMap<string, Tensor>, opt: AdamW, where: string): void {
  for (const [name, p] of params) {
    if (!p.requiresGrad) continue;
    const data = state.params.get(name);
    if (!data) throw new Error(`${where}: the saved state has no parameter '${name}' (was it saved from another model?)`);
    if (data.length !== p.size)
      throw new Error(`${where}: parameter '${name}' has ${data.length} saved values, the model needs ${p.size} [${p.shape.join(', ')}]`);
    p.data.set(data);
    const s = state.moments.get(name);
    if (s) opt.setState(p, s);
  }
  for (const name of state.params.keys())
    if (!params.get(name)?.requiresGrad)
      throw new Error(`${where}: the saved state has parameter '${name}', which this model does not train`);
  opt.stepCount = state.json.optimizerStep;
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
  const dir = latestCheckpoint(outDir) ?? outDir;
  try {
    return (JSON.parse(readFileSync(join(dir, STATE_DIR, STATE_JSON), 'utf8')) as TrainerStateJson).done === true;
  } catch {
    return false;
  }
}

// ---- the run folder's checkpoints ----------------------------------------------------------------

interface Found {
  name: string;
  step: number;
  /** Order among folders of the same step (checkpoint-<step>-<k>). */
  k: number;
}

/** The complete checkpoint folders in `outDir` (renamed into place, so whole), oldest first. */
function checkpointFolders(outDir: string): Found[] {
  if (!existsSync(outDir)) return [];
  const out: Found[] = [];
  for (const name of readdirSync(outDir)) {
    const m = CHECKPOINT_RE.exec(name);
    if (m && existsSync(join(outDir, name, STATE_DIR, STATE_JSON))) out.push({ name, step: Number(m[1]), k: Number(m[2] ?? 0) });
  }
  return out.sort((a, b) => a.step - b.step || a.k - b.k);
}

function readPointer(outDir: string): string | null {
  try {
    const name = readFileSync(join(outDir, LATEST_FILE), 'utf8').trim();
    return CHECKPOINT_RE.test(name) ? name : null;
  } catch {
    return null;
  }
}

/**
 * The current checkpoint folder of a run (its path), or null when it has none: the newest
 * complete one. `latest` names it too, for people and other tools; a kill between a checkpoint's
 * rename and the pointer's update can leave the pointer one behind (recoverRun fixes it).
 */
export function latestCheckpoint(outDir: string): string | null {
  const newest = checkpointFolders(outDir).at(-1);
  return newest ? join(outDir, newest.name) : null;
}

/** The model files of a checkpoint folder (its top-level files; trainer-state stays inside). */
function modelFiles(ck: string): string[] {
  return readdirSync(ck).filter((n) => n !== STATE_DIR && statSync(join(ck, n)).isFile());
}

/** Links the checkpoint's model files to the top of the run folder; genrm.json goes first and comes back last. */
function publish(outDir: string, ck: string): void {
  const files = modelFiles(ck);
  if (files.every((f) => sameFile(join(ck, f), join(outDir, f)))) return;
  if (existsSync(join(outDir, COMMIT_FILE))) unlinkSync(join(outDir, COMMIT_FILE));
  for (const f of files) if (f !== COMMIT_FILE) linkFileAtomic(join(ck, f), join(outDir, f));
  if (files.includes(COMMIT_FILE)) linkFileAtomic(join(ck, COMMIT_FILE), join(outDir, COMMIT_FILE));
}

/** Files a run folder holds besides its checkpoints (recipes write config.resolved.json; STaR its own files beside). */
const RUN_FILES = new Set([LATEST_FILE, METRICS_FILE, COMMIT_FILE, STATE_DIR]);

/**
 * Brings a run folder to a consistent state before training starts (see the top of this file):
 * undoes a legacy swap killed between its renames, deletes temp folders and files of processes
 * no longer running, moves a run of the earlier layout into checkpoint-<step>, points `latest` at
 * the newest complete checkpoint, publishes it, and deletes older checkpoint folders. Returns
 * what it did, for the log.
 */
export function recoverRun(outDir: string): { removed: string[]; migrated: boolean; current: string | null } {
  recoverFolderSwap(outDir);
  if (!existsSync(outDir)) return { removed: [], migrated: false, current: null };
  const removed = removeLeftovers(outDir);
  let migrated = false;
  const legacy = join(outDir, STATE_DIR, STATE_JSON);
  if (existsSync(legacy)) {
    // The earlier layout: trainer-state/ beside the model files. Link both into a checkpoint
    // folder, unless one of that step is there already (a migration killed before its cleanup).
    const json = JSON.parse(readFileSync(legacy, 'utf8')) as TrainerStateJson;
    const newest = checkpointFolders(outDir).at(-1);
    if (!newest || newest.step < json.step) {
      writeCheckpointFolder(outDir, json.step, (tmp) => {
        for (const f of modelFiles(outDir)) if (f !== METRICS_FILE && f !== LATEST_FILE) linkFileAtomic(join(outDir, f), join(tmp, f));
        mkdirSync(join(tmp, STATE_DIR));
        for (const f of readdirSync(join(outDir, STATE_DIR))) linkFileAtomic(join(outDir, STATE_DIR, f), join(tmp, STATE_DIR, f));
      });
      migrated = true;
    }
    removeFolder(outDir, STATE_DIR);
  }
  const current = latestCheckpoint(outDir);
  if (current === null) return { removed, migrated, current };
  const name = basename(current);
  if (readPointer(outDir) !== name) writeFileAtomic(join(outDir, LATEST_FILE), name + '\n');
  publish(outDir, current);
  for (const f of checkpointFolders(outDir)) if (f.name !== name) removeFolder(outDir, f.name);
  return { removed, migrated, current };
}

/** Fills a new checkpoint folder under a hidden temp name and renames it into place; returns its name. */
function writeCheckpointFolder(outDir: string, step: number, fill: (tmp: string) => void): string {
  const taken = new Set(readdirSync(outDir));
  let name = `checkpoint-${step}`;
  for (let k = 1; taken.has(name); k++) name = `checkpoint-${step}-${k}`; // the same step again (never the current one's folder)
  const tmp = hiddenTemp(outDir, name);
  mkdirSync(tmp);
  try {
    fill(tmp);
    renameSync(tmp, join(outDir, name));
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return name;
}

/**
 * Writes a checkpoint of step `step` into the run folder (see the top of this file): `fill(tmp)`
 * writes the model files and trainer-state into a fresh folder; then it becomes current.
 */
export function writeRunCheckpoint(outDir: string, step: number, fill: (tmp: string) => void): void {
  mkdirSync(outDir, { recursive: true });
  const present = readdirSync(outDir);
  if (present.length > 0 && !present.some((f) => RUN_FILES.has(f) || CHECKPOINT_RE.test(f)))
    throw new Error(
      `${outDir}: refusing to write a training run into a folder that is not a genrm run or checkpoint (it holds ${present.slice(0, 3).join(', ')}${present.length > 3 ? ', ...' : ''})`,
    );
  const before = checkpointFolders(outDir);
  const name = writeCheckpointFolder(outDir, step, fill);
  writeFileAtomic(join(outDir, LATEST_FILE), name + '\n');
  publish(outDir, join(outDir, name));
  for (const f of before) removeFolder(outDir, f.name);
}

/** Deletes a folder of the run: renamed to a hidden temp name first, so a kill mid-delete leaves a leftover, never a half checkpoint under a real name. */
function removeFolder(outDir: string, name: string): void {
  const aside = hiddenTemp(outDir, name).replace(/\.tmp-(?=[^.]*$)/, '.old-');
  renameSync(join(outDir, name), aside);
  rmSync(aside, { recursive: true, force: true });
}
