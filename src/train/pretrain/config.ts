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
  seqLen: z
    .number()
    .int()
    .min(8)
    .max(32_768)
    .describe(
      "Context length in tokens: the longest CoT judge example (prompt + rationale + verdict) must fit; base's 384 holds PrefWorld's longest (215 tokens) with room. At most 32,768, as attention is quadratic in it.",
    ),
  dModel: z
    .number()
    .int()
    .min(8)
    .max(16_384)
    .describe(
      "Model width; it must split into nHeads heads of even width (RoPE rotates pairs). base d 256 × 4 layers: the smallest size that learned the worked solutions in about 40 minutes on 2 cores (models/base/README.md). At most 16,384 (a 70B model's is 8,192).",
    ),
  nLayers: z.number().int().min(1).max(256).describe('Transformer layers (base: 4, sized with dModel). At most 256.'),
  nHeads: z
    .number()
    .int()
    .min(1)
    .max(256)
    .describe('Attention heads (plain multi-head attention: at these sizes grouped-query attention saves little). At most 256.'),
  ffnHidden: z
    .number()
    .int()
    .min(8)
    .max(65_536)
    .describe("The SwiGLU MLP's hidden width (about 8/3 × dModel, as Llama's). At most 65,536."),
});

const PretrainOnly = z.object({
  ...ModelShape.shape,
  merges: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .describe(
      "BPE merges learned on the corpus; 0 is byte-level (bytes + specials only); digits never merge, so numbers stay digit by digit. base's 256 carry 1.82 corpus bytes per token and reached 1.05 held-out nats/byte against byte-level's 1.67 at equal steps (models/base/README.md). At most 1,000,000: real vocabularies are 32–256 K.",
    ),
  heldOutFrac: z
    .number()
    .min(0)
    .max(0.5)
    .describe("Share of the corpus's documents held out for the eval loss; at most a half, so most of the corpus trains."),
  evalTasks: z
    .number()
    .int()
    .min(0)
    .max(100_000)
    .describe(
      'Held-out tasks per (family, difficulty) in the final worked-solution report (worked-report.txt); 0: none. At most 100,000, more than a world holds.',
    ),
  evalTasksPeriodic: z
    .number()
    .int()
    .min(0)
    .max(100_000)
    .describe(
      'Held-out tasks per (family, difficulty) checked at every evaluation during training; 0: only the held-out loss then, since the check generates and costs time.',
    ),
  evalSamples: z
    .number()
    .int()
    .min(0)
    .max(1024)
    .describe(
      'Sampled zero-shot CoT judgments per task in the final report (temperature 1, top-p 0.95; 0: greedy only): the verdict and check-agreement rates a STaR sampler will see. At most 1,024.',
    ),
  dtype: z
    .enum(['F32', 'F16'])
    .describe('Precision of the saved model.safetensors; trainer-state keeps F32, so a resume is exact either way.'),
});

// The loop's fields whose values the presets choose, described with the presets' reasons.
const L = TrainLoopSchema.shape;
const PresetLoop = {
  steps: L.steps.describe(
    'Optimizer updates in the run. base 3000 of 8 × 384 tokens, about two epochs of the corpus: at step 1000 of a longer run worked solutions were 11% right, at 2000 52% (models/base/README.md); tiny 40, seconds for tests. At most 10,000,000 (MAX_STEPS).',
  ),
  batchSize: L.batchSize.describe(
    'Sequences of seqLen tokens per micro-batch (corpus documents packed into full rows); the memory check refuses a batch the machine cannot hold. base 8, sized with steps (models/base/README.md); tiny 4.',
  ),
  lr: L.lr.describe(
    'Peak learning rate of pretraining from scratch (base 2e-3, tiny 3e-3); the fine-tuning recipes take 3e-4 and less, so as not to undo what this teaches. At most 1.',
  ),
  warmupSteps: L.warmupSteps.describe(
    'Updates over which lr rises linearly to its peak: a few percent of the run (base 100 of 3000, tiny 5 of 40), so the first AdamW steps are stable.',
  ),
  evalEvery: L.evalEvery.describe(
    'Updates between held-out evaluations (the held-out loss and evalTasksPeriodic worked solutions; 0: only at the end). base 1000: three points on the run, as each check generates; tiny 20.',
  ),
  checkpointEvery: L.checkpointEvery.describe(
    'Updates between resumable checkpoints (0: only at the end). base 250: an interruption loses at most about 4 minutes; tiny 20.',
  ),
  logEvery: L.logEvery.describe('Updates between lines of metrics.jsonl (base 10, tiny 5): small files that still show the loss curve.'),
};

/** Everything, resolved (no field optional). */
export const PretrainConfigSchema = TrainLoopSchema.extend({
  ...PresetLoop,
  ...PretrainOnly.shape,
  preset: z
    .enum(PRESETS)
    .describe(
      "The model and schedule every other option defaults to: 'tiny' trains in seconds (tests, smoke runs); 'base' is the committed base model's (models/base/README.md says how it was sized).",
    ),
  data: z.string().min(1).describe('A PrefWorld folder (genrm world generate) or its corpus.jsonl. Required.'),
  out: z
    .string()
    .min(1)
    .describe(
      'The run folder: the checkpoint, trainer-state/, metrics.jsonl and the worked-solution report; the folder itself loads as the model. Required.',
    ),
}).strict();
export type PretrainConfig = z.infer<typeof PretrainConfigSchema>;

type PresetValues = Omit<PretrainConfig, 'preset' | 'data' | 'out'>;

export const PRESET_VALUES: Record<PresetName, PresetValues> = {
  // Seconds on 2 cores: for tests and smoke runs, not for judging.
  tiny: {
    seqLen: 128,
    dModel: 32,
    nLayers: 2,
    nHeads: 2,
    ffnHidden: 64,
    merges: 0,
    heldOutFrac: 0.05,
    evalTasks: 2,
    evalTasksPeriodic: 0,
    evalSamples: 0,
    dtype: 'F32',
    steps: 40,
    batchSize: 4,
    gradAccum: 1,
    lr: 3e-3,
    minLrRatio: 0.1,
    warmupSteps: 5,
    weightDecay: 0.1,
    beta1: 0.9,
    beta2: 0.95,
    clipNorm: 1,
    evalEvery: 20,
    checkpointEvery: 20,
    logEvery: 5,
    seed: 1,
  },
  // The base model for the real experiments: the smallest size and step count that learned the
  // worked solutions on the 2-core machine (~40 min; how it was sized: models/base/README.md).
  base: {
    seqLen: 384,
    dModel: 256,
    nLayers: 4,
    nHeads: 4,
    ffnHidden: 688,
    merges: 256,
    heldOutFrac: 0.01,
    evalTasks: 20,
    evalTasksPeriodic: 3,
    evalSamples: 4,
    dtype: 'F16',
    steps: 3000,
    batchSize: 8,
    gradAccum: 1,
    lr: 2e-3,
    minLrRatio: 0.1,
    warmupSteps: 100,
    weightDecay: 0.1,
    beta1: 0.9,
    beta2: 0.95,
    clipNorm: 1,
    evalEvery: 1000,
    checkpointEvery: 250,
    logEvery: 10,
    seed: 1,
  },
};

/**
 * Preset values overlaid with the user's (a config file's keys and flags, camelCase), validated
 * by the strict schema: an unknown key or a bad value is an error naming it.
 */
export function resolvePretrainConfig(input: Record<string, unknown>, source = 'pretrain config'): PretrainConfig {
  const preset = input.preset ?? 'base';
  if (!PRESETS.includes(preset as PresetName))
    throw new GenrmError(`${source}: field "preset": expected one of ${PRESETS.join(', ')}, got ${JSON.stringify(preset)}`, 'bad_input');
  const merged: Record<string, unknown> = { ...PRESET_VALUES[preset as PresetName], preset };
  for (const [k, v] of Object.entries(input)) if (v !== undefined) merged[k] = v;
  const r = PretrainConfigSchema.safeParse(merged);
  if (!r.success) throw new GenrmError(`${source}: ${formatZodIssue(r.error.issues[0])}`, 'bad_input');
  const c = r.data;
  if (c.dModel % c.nHeads !== 0 || (c.dModel / c.nHeads) % 2 !== 0)
    throw new GenrmError(`${source}: dModel ${c.dModel} must split into nHeads ${c.nHeads} heads of even width`, 'bad_input');
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
