// `genrm pretrain`'s config: a preset (tiny for tests, base for the real experiments) with any
// field overridable from a config file or a flag. One strict zod schema for both: an unknown key
// is an error that names it.
import { z } from 'zod';
import { formatZodIssue, TrainLoopSchema, type TrainLoopConfig } from '../config.js';
import type { ModelConfig } from '../../engine/model/index.js';
import { GenrmError } from '../../util/errors.js';

export const PRESETS = ['tiny', 'base'] as const;
export type PresetName = (typeof PRESETS)[number];

// The model's bounds are past what this CPU engine can train in a day (the base preset is d 256 x
// 4 layers at context 384): they stop a slipped exponent at parse time; memory.ts checks the rest.
const ModelShape = z.object({
  /** Context length: the longest CoT judge example (prompt + rationale + verdict) must fit. At most 32,768: attention is quadratic in it. */
  seqLen: z.number().int().min(8).max(32_768),
  /** Width; at most 16,384 (a 70B model's is 8,192). */
  dModel: z.number().int().min(8).max(16_384),
  /** Layers; at most 256. */
  nLayers: z.number().int().min(1).max(256),
  /** Attention heads; at most 256. */
  nHeads: z.number().int().min(1).max(256),
  /** MLP width; at most 65,536. */
  ffnHidden: z.number().int().min(8).max(65_536),
});

const PretrainOnly = z.object({
  ...ModelShape.shape,
  /** BPE merges learned on the corpus (0 = byte-level: bytes + specials only; digits never merge). At most 1,000,000: real models' vocabularies are 32-256 K. */
  merges: z.number().int().min(0).max(1_000_000),
  /** Share of corpus documents held out for the eval loss. */
  heldOutFrac: z.number().min(0).max(0.5),
  /** Held-out tasks per (family, difficulty) in the final worked-solution report (0: none). At most 100,000: more than a world holds. */
  evalTasks: z.number().int().min(0).max(100_000),
  /** The same at every evaluation during training (0: only the held-out loss then). */
  evalTasksPeriodic: z.number().int().min(0).max(100_000),
  /** Sampled zero-shot CoT judgments per task in the final report (T 1, top-p 0.95; 0: greedy only): the verdict and check-agreement rates a STaR sampler will see. At most 1,024. */
  evalSamples: z.number().int().min(0).max(1024),
  /** Precision of model.safetensors (trainer-state keeps F32 for exact resume). */
  dtype: z.enum(['F32', 'F16']),
});

/** Everything, resolved (no field optional). */
export const PretrainConfigSchema = TrainLoopSchema.extend({
  ...PretrainOnly.shape,
  preset: z.enum(PRESETS),
  /** A PrefWorld folder (genrm world generate) or its corpus.jsonl. */
  data: z.string().min(1),
  /** The run / checkpoint folder. */
  out: z.string().min(1),
}).strict();
export type PretrainConfig = z.infer<typeof PretrainConfigSchema>;

type PresetValues = Omit<PretrainConfig, 'preset' | 'data' | 'out'>;

export const PRESET_VALUES: Record<PresetName, PresetValues> = {
  // Seconds on 2 cores: for tests and smoke runs, not for judging.
  tiny: {
    seqLen: 128, dModel: 32, nLayers: 2, nHeads: 2, ffnHidden: 64, merges: 0, heldOutFrac: 0.05, evalTasks: 2, evalTasksPeriodic: 0, evalSamples: 0, dtype: 'F32',
    steps: 40, batchSize: 4, gradAccum: 1, lr: 3e-3, minLrRatio: 0.1, warmupSteps: 5, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, clipNorm: 1,
    evalEvery: 20, checkpointEvery: 20, logEvery: 5, seed: 1,
  },
  // The base model for the real experiments: the smallest size and step count that learned the
  // worked solutions on the 2-core machine (~40 min; how it was sized: models/base/README.md).
  base: {
    seqLen: 384, dModel: 256, nLayers: 4, nHeads: 4, ffnHidden: 688, merges: 256, heldOutFrac: 0.01, evalTasks: 20, evalTasksPeriodic: 3, evalSamples: 4, dtype: 'F16',
    steps: 3000, batchSize: 8, gradAccum: 1, lr: 2e-3, minLrRatio: 0.1, warmupSteps: 100, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, clipNorm: 1,
    evalEvery: 1000, checkpointEvery: 250, logEvery: 10, seed: 1,
  },
};

/**
 * Preset values overlaid with the user's (a config file's keys and flags, camelCase), validated
 * by the strict schema: an unknown key or a bad value is an error naming it.
 */
export function resolvePretrainConfig(input: Record<string, unknown>, source = 'pretrain config'): PretrainConfig {
  const preset = input.preset ?? 'base';
  if (!PRESETS.includes(preset as PresetName)) throw new GenrmError(`${source}: field "preset": expected one of ${PRESETS.join(', ')}, got ${JSON.stringify(preset)}`, 'bad_input');
  const merged: Record<string, unknown> = { ...PRESET_VALUES[preset as PresetName], preset };
  for (const [k, v] of Object.entries(input)) if (v !== undefined) merged[k] = v;
  const r = PretrainConfigSchema.safeParse(merged);
  if (!r.success) throw new GenrmError(`${source}: ${formatZodIssue(r.error.issues[0])}`, 'bad_input');
  const c = r.data;
  if (c.dModel % c.nHeads !== 0 || (c.dModel / c.nHeads) % 2 !== 0) throw new GenrmError(`${source}: dModel ${c.dModel} must split into nHeads ${c.nHeads} heads of even width`, 'bad_input');
  return c;
}

export function loopConfig(c: PretrainConfig): TrainLoopConfig {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(TrainLoopSchema.shape)) out[k] = c[k as keyof PretrainConfig];
  return out as TrainLoopConfig;
}

export function modelConfig(c: PretrainConfig, vocabSize: number): ModelConfig {
  return {
    vocabSize,
    dModel: c.dModel,
    nLayers: c.nLayers,
    nHeads: c.nHeads,
    nKvHeads: c.nHeads, // plain multi-head attention: at this size GQA saves little
    ffnHidden: c.ffnHidden,
    maxSeqLen: c.seqLen,
    ropeTheta: 10000, // Llama's base; contexts here are short
    normEps: 1e-5,
    tieEmbeddings: true, // halves the checkpoint at this vocabulary and width
  };
}
