// Before the stages: the run folder's settings (a rerun with the same settings resumes; different
// ones are refused, naming the field), the world, and the base model (a given one, the committed
// one if it was pretrained on this world's corpus, else pretrained here).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../data/jsonl.js';
import { CORPUS_FILE, generateWorld, writeWorld } from '../../data/world/generate.js';
import { resolveSpec } from '../../data/world/spec.js';
import { resolvePretrainConfig } from '../../train/pretrain/config.js';
import { pretrain } from '../../train/pretrain/run.js';
import { hasTrainerState } from '../../train/state.js';
import { hasCheckpointMeta, readCheckpointMeta } from '../../engine/checkpoint.js';
import { RunSettingsSchema, type RunSettings, type SizeSettings } from './settings.js';

export const SETTINGS_FILE = 'repro.json';

/** Writes or checks the run folder's settings; true when the folder already held this run (resume). */
export async function claimRunFolder(out: string, want: RunSettings): Promise<boolean> {
  const file = join(out, SETTINGS_FILE);
  if (existsSync(file)) {
    // A run made before a size setting existed (a stage added since) resumes: the new settings
    // are the only difference, and only the new stages read them.
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { settings?: Record<string, unknown> };
    const added = raw.settings && typeof raw.settings === 'object' ? Object.keys(want.settings).filter((k) => !(k in raw.settings!)) : [];
    for (const k of added) raw.settings![k] = (want.settings as Record<string, unknown>)[k];
    const had = RunSettingsSchema.safeParse(raw);
    if (!had.success)
      throw new Error(`${file}: not a genrm repro settings file (${had.error.issues[0]?.message ?? 'invalid'}); use another --out`);
    const a = JSON.stringify(had.data);
    const b = JSON.stringify(want);
    if (a !== b) {
      const diff = (['size', 'seed', 'base', 'settings'] as const).find((k) => JSON.stringify(had.data[k]) !== JSON.stringify(want[k]));
      throw new Error(
        `${out} holds a repro run with different settings (${diff}: ${JSON.stringify(had.data[diff!])} there, ${JSON.stringify(want[diff!])} now); use another --out, or rerun with the same settings to resume`,
      );
    }
    if (added.length) await writeFileAtomic(file, JSON.stringify(want, null, 2) + '\n');
    return true;
  }
  await writeFileAtomic(file, JSON.stringify(want, null, 2) + '\n');
  return false;
}

/** The world's spec for a size: the size presets as they are (micro: a tiny custom world for tests). */
export function worldSpec(size: SizeSettings['world']) {
  if (size === 'micro') return resolveSpec('quick', { pairs: { train: 48, testId: 24, testOod: 24 }, corpus: { bytes: 20_000 } });
  return resolveSpec(size);
}

export async function makeWorld(
  dir: string,
  size: SizeSettings['world'],
): Promise<{ dir: string; corpusSha256: string; pairs: Record<string, number> }> {
  const w = generateWorld(worldSpec(size));
  const m = await writeWorld(dir, w);
  const pairs = Object.fromEntries(Object.entries(w.splits).map(([k, v]) => [k, v.length]));
  return { dir, corpusSha256: m.files[CORPUS_FILE]!.sha256, pairs };
}

/** The repository's committed base checkpoint folder (models/base beside package.json). */
export function committedBase(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'package.json'))) return join(d, 'models', 'base');
    d = dirname(d);
  }
  return resolve('models', 'base');
}

/** The data hash a checkpoint was trained on (genrm.json provenance), or null. */
function trainedOn(dir: string): string | null {
  try {
    return readCheckpointMeta(dir).provenance.dataHash;
  } catch {
    return null;
  }
}

export interface BaseChoice {
  dir: string;
  source: 'given' | 'committed' | 'pretrained';
  /** Pretrained on this world's corpus (else test tasks' worked solutions may be in its pretraining data, or missing). */
  matchesWorld: boolean;
  why: string;
}

export interface BaseOptions {
  given: string | null;
  committed: string;
  worldDir: string;
  corpusSha256: string;
  out: string;
  settings: SizeSettings;
  seed: number;
  command: string;
  progress: boolean;
  say: (line: string) => void;
}

export function chooseBase(o: BaseOptions): BaseChoice {
  const want = `sha256:${o.corpusSha256}`;
  if (o.given) {
    if (!hasCheckpointMeta(o.given)) throw new Error(`--base ${o.given}: not a genrm checkpoint folder (no genrm.json)`);
    const m = trainedOn(o.given) === want;
    return {
      dir: resolve(o.given),
      source: 'given',
      matchesWorld: m,
      why: `--base ${o.given}${m ? ", pretrained on this world's corpus" : ", NOT pretrained on this world's corpus (used as given)"}`,
    };
  }
  if (hasCheckpointMeta(o.committed)) {
    const had = trainedOn(o.committed);
    if (had === want)
      return {
        dir: o.committed,
        source: 'committed',
        matchesWorld: true,
        why: `the committed base ${o.committed}, pretrained on this world's corpus (${want.slice(0, 19)}…)`,
      };
    o.say(
      `base: ${o.committed} was pretrained on ${had ?? 'unknown data'}, not on this world's corpus (${want.slice(0, 19)}…): pretraining a '${o.settings.basePreset}' base instead`,
    );
  } else if (o.settings.world === 'quick') {
    o.say(
      `base: no committed base checkpoint at ${o.committed}: pretraining a '${o.settings.basePreset}' base first (about half an hour; the quick run's 10 minutes assume the committed base, or pass --base DIR)`,
    );
  }
  const out = join(o.out, 'base');
  const cfg = resolvePretrainConfig(
    { ...o.settings.pretrain, preset: o.settings.basePreset, data: o.worldDir, out, seed: o.seed },
    'repro pretrain',
  );
  const r = pretrain(cfg, { command: o.command, resume: hasTrainerState(out), progress: o.progress, say: o.say });
  return {
    dir: resolve(out),
    source: 'pretrained',
    matchesWorld: true,
    why: `pretrained here with the '${o.settings.basePreset}' preset: ${r.steps} steps, held-out loss ${r.evalLoss.toFixed(3)}, ${(r.elapsedSec / 60).toFixed(1)} min`,
  };
}
