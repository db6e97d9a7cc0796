// Config files for training commands: JSON or YAML (by extension; YAML is a superset of JSON so
// anything else is read as YAML), validated by the same zod schema as the command's flags. Keys
// match the flags' camelCase names; flags given on the command line override the file.
//
// TRL's names are accepted too, through one mapping step (mapTrlKeys, table TRL_KEYS below) run
// before validation: a TRL key becomes genrm's key, or a schedule value resolved against the
// data at run time (num_train_epochs, warmup_ratio), or is dropped where it changes nothing, or is
// refused with the reason genrm cannot honour it. Every mapping applied is reported. A key that
// is neither genrm's nor TRL's is an error that names the nearest known key.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { formatZodIssue } from './config.js';
import { GenrmError } from '../util/errors.js';

/** Reads a config file into a plain object; errors name the file. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read config file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let value: unknown;
  try {
    value = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new Error(`${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'} (${(e as Error).message.split('\n')[0]})`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${path}: expected a mapping of option names to values`);
  return value as Record<string, unknown>;
}

/**
 * Validates `{...file, ...flags}` with `schema` (which should be strict, so unknown keys fail).
 * `source` names where the values came from in errors (the file path, or "flags").
 */
export function resolveConfig<S extends z.ZodType>(
  schema: S,
  fromFile: Record<string, unknown>,
  flags: Record<string, unknown>,
  source: string,
): z.infer<S> {
  const merged: Record<string, unknown> = { ...fromFile };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) merged[k] = v;
  const r = schema.safeParse(merged);
  if (!r.success) throw new GenrmError(`${source}: ${formatZodIssue(r.error.issues[0])}`, 'bad_input');
  return r.data;
}

// ---- TRL names ----------------------------------------------------------------------------------

/**
 * What a TRL key does here. Names from transformers' TrainingArguments and TRL's DPOConfig,
 * RewardConfig and SFTConfig (huggingface/trl trl/trainer/*_config.py).
 *   rename    the genrm key of the same meaning (`to`);
 *   schedule  a count TRL gives in passes or fractions, turned into genrm's update counts once the
 *             data is read (resolveSchedule in train/recipes/schedule.ts);
 *   same      accepted when its value is what genrm does anyway (`ok`), refused otherwise;
 *   ignore    changes speed or bookkeeping only, never the trained weights;
 *   refuse    genrm cannot honour it, for the reason given.
 */
export type TrlRule =
  | { kind: 'rename'; to: string; note?: string }
  | { kind: 'schedule'; to: 'epochs' | 'warmupRatio' }
  | { kind: 'same'; ok: (v: unknown) => boolean; what: string; why: string }
  | { kind: 'ignore'; why: string }
  | { kind: 'refuse'; why: string };

const rename = (to: string, note?: string): TrlRule => ({ kind: 'rename', to, ...(note ? { note } : {}) });
const same = (ok: (v: unknown) => boolean, what: string, why: string): TrlRule => ({ kind: 'same', ok, what, why });
const ignore = (why: string): TrlRule => ({ kind: 'ignore', why });
const refuse = (why: string): TrlRule => ({ kind: 'refuse', why });
const NO_TRUNCATION =
  "genrm never truncates an example (a cut one loses its answer or its question); examples longer than maxLength or the base's context are refused, or dropped and counted with overflow: skip";

/** The documented table of TRL keys genrm knows (README "Interop"). */
export const TRL_KEYS: Readonly<Record<string, TrlRule>> = {
  learning_rate: rename('lr'),
  per_device_train_batch_size: rename('batchSize'),
  gradient_accumulation_steps: rename('gradAccum'),
  max_steps: rename('steps'),
  num_train_epochs: { kind: 'schedule', to: 'epochs' },
  warmup_ratio: { kind: 'schedule', to: 'warmupRatio' },
  warmup_steps: rename('warmupSteps'),
  weight_decay: rename('weightDecay'),
  adam_beta1: rename('beta1'),
  adam_beta2: rename('beta2'),
  max_grad_norm: rename('clipNorm'),
  logging_steps: rename('logEvery'),
  save_steps: rename('checkpointEvery'),
  eval_steps: rename('evalEvery'),
  beta: rename('beta'),
  output_dir: rename('out'),
  max_length: rename('maxLength', 'a cap on prompt + completion tokens; longer examples are refused or skipped (overflow), not truncated'),
  rpo_alpha: rename('nllWeight'),
  precompute_ref_log_probs: rename('precomputeReference'),
  lr_scheduler_type: same((v) => v === 'cosine', '"cosine"', "genrm's schedule is linear warmup then cosine to minLrRatio · lr"),
  loss_type: same(
    (v) => v === 'sigmoid' || v === 'nll',
    '"sigmoid" (DPO) or "nll" (SFT)',
    "genrm's DPO loss is the original sigmoid one and its SFT loss plain NLL",
  ),
  label_smoothing: same((v) => v === 0, '0', 'the DPO loss has no label smoothing (cDPO / robust DPO)'),
  completion_only_loss: same((v) => v === true || v === null, 'true', 'genrm trains the completion only, the prompt masked'),
  packing: same((v) => v === false, 'false', 'genrm pads examples one per row and never packs them'),
  truncation_mode: refuse(NO_TRUNCATION),
  max_prompt_length: refuse(NO_TRUNCATION),
  max_seq_length: refuse(`${NO_TRUNCATION}; TRL renamed it max_length, which genrm reads`),
  center_rewards_coefficient: refuse('the reward loss has no mean-zero term (bt trains -log sigmoid(r_chosen - r_rejected) only)'),
  reference_free: refuse('DPO here always has a frozen reference: the base model'),
  dataset_text_field: refuse(
    "genrm reads the field names TRL's dataset formats use (prompt, chosen, rejected, completion, messages, text); convert other fields with genrm data convert",
  ),
  bf16: same((v) => v === false, 'false', 'genrm trains in float32 on the CPU'),
  fp16: same((v) => v === false, 'false', 'genrm trains in float32 on the CPU'),
  gradient_checkpointing: ignore('memory only'),
  disable_dropout: ignore("genrm's models have no dropout"),
  per_device_eval_batch_size: ignore('evaluation speed only'),
  dataset_num_proc: ignore('data loading speed only'),
  dataloader_num_workers: ignore('data loading speed only'),
  report_to: ignore('genrm logs to metrics.jsonl'),
  logging_dir: ignore('genrm logs to metrics.jsonl in the run folder'),
  run_name: ignore('bookkeeping only'),
};

export interface TrlMapping {
  /** The TRL key as the file spelt it. */
  trl: string;
  value: unknown;
  /** What became of it, in words (e.g. "lr", "steps from epochs at run time", "ignored: memory only"). */
  as: string;
}

export interface MappedConfig {
  /** genrm's keys only, ready for the recipe's schema. */
  config: Record<string, unknown>;
  /** TRL counts resolved against the data at run time (absent keys: not given). */
  schedule: { epochs?: number; warmupRatio?: number };
  /** Each TRL key seen, in file order. */
  mapping: TrlMapping[];
}

/** Levenshtein distance of two short strings. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known key closest to `key` (case and underscores aside), or undefined when none is close. */
export function nearestKey(key: string, known: Iterable<string>): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(norm(key), norm(k));
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(norm(key).length / 3)) ? best : undefined;
}

/**
 * The one mapping step: TRL keys in `input` (file keys and flags, merged) turned into genrm's for
 * a recipe whose schema has `keys`. Throws, naming `source` and the key, on a refused TRL key, a
 * TRL key whose genrm key is also given with another value, a TRL key this recipe has no use for,
 * and a key that is neither genrm's nor TRL's (with the nearest known key).
 */
export function mapTrlKeys(input: Record<string, unknown>, keys: ReadonlySet<string>, recipe: string, source: string): MappedConfig {
  const config: Record<string, unknown> = {};
  const schedule: MappedConfig['schedule'] = {};
  const mapping: TrlMapping[] = [];
  const viaTrl = new Map<string, string>(); // genrm key -> the TRL key that set it
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  const clash = (trl: string, to: string, trlValue: unknown, value: unknown): never =>
    fail(`"${trl}" (TRL's name for ${to}) is ${JSON.stringify(trlValue)} but "${to}" is ${JSON.stringify(value)}; give one`);
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    if (keys.has(k)) {
      const trl = viaTrl.get(k);
      if (trl !== undefined && JSON.stringify(config[k]) !== JSON.stringify(v)) clash(trl, k, config[k], v);
      config[k] = v;
      continue;
    }
    const rule = TRL_KEYS[k];
    if (rule === undefined) {
      const near = nearestKey(k, [...keys, ...Object.keys(TRL_KEYS)]);
      fail(
        `unknown key "${k}"${near ? `; did you mean "${near}"?` : ''} (recipe ${recipe} takes: ${[...keys].sort().join(', ')}; and TRL's names listed in README "Interop")`,
      );
    }
    const set = (to: string): void => {
      if (to in config && JSON.stringify(config[to]) !== JSON.stringify(v)) clash(k, to, v, config[to]);
      config[to] = v;
      viaTrl.set(to, k);
    };
    switch (rule!.kind) {
      case 'rename':
        if (!keys.has(rule!.to))
          fail(
            `TRL's "${k}" is genrm's "${rule!.to}", which recipe ${recipe} does not have${rule!.to === 'maxLength' ? ` (${NO_TRUNCATION.replace('maxLength or ', '')})` : ''}; remove it`,
          );
        set(rule!.to);
        mapping.push({ trl: k, value: v, as: rule!.note ? `${rule!.to} (${rule!.note})` : rule!.to });
        break;
      case 'schedule': {
        if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (rule!.to === 'warmupRatio' && v >= 1))
          fail(`"${k}" must be a number ${rule!.to === 'warmupRatio' ? 'in (0, 1)' : '> 0'}, got ${JSON.stringify(v)}`);
        if (rule!.to === 'epochs' && keys.has('epochs')) {
          set('epochs'); // STaR recipes count passes per iteration themselves
          mapping.push({ trl: k, value: v, as: 'epochs (per STaR iteration)' });
        } else if (rule!.to === 'warmupRatio' && keys.has('epochs')) {
          fail(`TRL's "${k}" needs the run's length, and recipe ${recipe} decides each iteration's at run time; give warmupSteps instead`);
        } else {
          schedule[rule!.to] = v as number;
          mapping.push({
            trl: k,
            value: v,
            as:
              rule!.to === 'epochs'
                ? 'steps, from the number of training examples (at run time)'
                : 'warmupSteps = round(warmup_ratio · steps)',
          });
        }
        break;
      }
      case 'same':
        if (!rule!.ok(v)) fail(`TRL's "${k}" = ${JSON.stringify(v)} cannot be honoured: ${rule!.why}; use ${rule!.what} or remove it`);
        mapping.push({ trl: k, value: v, as: `accepted: ${rule!.why}` });
        break;
      case 'ignore':
        mapping.push({ trl: k, value: v, as: `ignored: ${rule!.why}` });
        break;
      case 'refuse':
        fail(`TRL's "${k}" cannot be honoured: ${rule!.why}; remove it`);
    }
  }
  return { config, schedule, mapping };
}

/** The mapping as one line for the person at the terminal ("" when no TRL key was used). */
export function mappingLine(mapping: readonly TrlMapping[], source: string): string {
  if (mapping.length === 0) return '';
  return `${source}: TRL keys mapped: ${mapping.map((m) => `${m.trl} ${JSON.stringify(m.value)} -> ${m.as}`).join('; ')}`;
}
