// The checkpoint folder (docs/ARCHITECTURE.md, Contracts), in Hugging Face Llama layout so other tools can load it:
//
//   config.json        HF LlamaConfig keys (LlamaForCausalLM; LlamaForSequenceClassification for
//                      a reward head), plus the bos/eos/pad token ids of the tokenizer
//   model.safetensors  HF tensor names, Linear weights as [out, in]
//   tokenizer.json     HF tokenizers format (src/engine/tokenizer/)
//   genrm.json         what genrm needs beyond HF: the kind (lm, bt, pairrm) and how it was made
//
// Weights travel as a plain Map<name, {shape, data}> (the model's `params` map fits as is). A
// whole folder is written to a temp folder beside it and renamed into place, so a reader sees
// the old checkpoint or the new one, never a mix. Loading checks every file against the others
// and names the file, tensor or field at fault.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recoverFolderSwap, swapFolderAtomic } from './atomic.js';
import { configFields, toHfModelConfig } from './hf/config.js';
import type { ModelConfig } from './model/config.js';
import { validateConfig } from './model/params.js';
import { encodeSafetensors, readSafetensors, type NamedTensor, type ReadTensor } from './safetensors.js';
import { loadTokenizer, toTokenizerJson, type Tokenizer } from './tokenizer/index.js';

export type CheckpointKind = 'lm' | 'bt' | 'pairrm';
export const CHECKPOINT_KINDS: readonly CheckpointKind[] = ['lm', 'bt', 'pairrm'];
export type NamedWeights = Map<string, NamedTensor>;

/** How a checkpoint was made: enough to make it again. */
export interface Provenance {
  /** The command line that produced it (e.g. "genrm pretrain --preset base --seed 1"). */
  command: string;
  /** The resolved training config. */
  config: unknown;
  seed: number | null;
  /** Hash of the training data (null when there was none, e.g. a fresh init). */
  dataHash: string | null;
  /** Checkpoint this one was trained from, if any. */
  parent: string | null;
  /** ISO time; filled in at save when absent. */
  createdAt?: string;
  /** genrm's version; filled in at save when absent. */
  genrmVersion?: string;
}

export interface GenrmJson {
  format: 'genrm-checkpoint';
  formatVersion: 1;
  kind: CheckpointKind;
  /** Rows of score.weight (reward kinds only). */
  numLabels?: number;
  provenance: Required<Provenance>;
}

export interface SaveCheckpointOptions {
  config: ModelConfig;
  kind: CheckpointKind;
  weights: ReadonlyMap<string, NamedTensor>;
  tokenizer: Tokenizer;
  provenance: Provenance;
  /** Stored precision; default F32. F16 halves the size (the committed base checkpoint must be ≤ 10 MB). */
  dtype?: 'F32' | 'F16';
  /** Rows of score.weight for bt/pairrm; default 1 (one scalar reward or logit). */
  numLabels?: number;
}

export interface Checkpoint {
  dir: string;
  config: ModelConfig;
  kind: CheckpointKind;
  numLabels: number;
  weights: Map<string, ReadTensor>;
  tokenizer: Tokenizer;
  genrm: GenrmJson;
}

const FILES = { config: 'config.json', weights: 'model.safetensors', tokenizer: 'tokenizer.json', genrm: 'genrm.json' } as const;
/** The files of a checkpoint folder, genrm.json (the one that says "this is a genrm checkpoint") last. */
export const CHECKPOINT_FILES: readonly string[] = [FILES.config, FILES.weights, FILES.tokenizer, FILES.genrm];
/** genrm.json: its presence makes a folder a genrm checkpoint; readCheckpointMeta reads it. */
export const CHECKPOINT_META_FILE = FILES.genrm;

/** Whether a folder is a genrm checkpoint (has genrm.json), without reading or checking it. */
export function hasCheckpointMeta(dir: string): boolean {
  return existsSync(join(dir, FILES.genrm));
}

/** Every tensor a checkpoint of this shape and kind holds, in file order, with [out, in] Linear shapes. */
export function expectedTensors(
  config: ModelConfig,
  opts: { kind: CheckpointKind; numLabels?: number },
): Array<{ name: string; shape: number[] }> {
  const hd = validateConfig(config);
  const d = config.dModel;
  const q = config.nHeads * hd;
  const kv = config.nKvHeads * hd;
  const f = config.ffnHidden;
  const out = [{ name: 'model.embed_tokens.weight', shape: [config.vocabSize, d] }];
  for (let i = 0; i < config.nLayers; i++) {
    const p = `model.layers.${i}.`;
    out.push(
      { name: `${p}self_attn.q_proj.weight`, shape: [q, d] },
      { name: `${p}self_attn.k_proj.weight`, shape: [kv, d] },
      { name: `${p}self_attn.v_proj.weight`, shape: [kv, d] },
      { name: `${p}self_attn.o_proj.weight`, shape: [d, q] },
      { name: `${p}mlp.gate_proj.weight`, shape: [f, d] },
      { name: `${p}mlp.up_proj.weight`, shape: [f, d] },
      { name: `${p}mlp.down_proj.weight`, shape: [d, f] },
      { name: `${p}input_layernorm.weight`, shape: [d] },
      { name: `${p}post_attention_layernorm.weight`, shape: [d] },
    );
  }
  out.push({ name: 'model.norm.weight', shape: [d] });
  // Reward kinds keep the LM head too: they start from a base LM and the engine's model keeps it.
  if (!config.tieEmbeddings) out.push({ name: 'lm_head.weight', shape: [config.vocabSize, d] });
  if (opts.kind !== 'lm') out.push({ name: 'score.weight', shape: [opts.numLabels ?? 1, d] });
  return out;
}

/**
 * config.json for a model: the HF Llama writer's keys (./hf/config.ts), with the reward kinds'
 * architecture, the tokenizer's special ids and HF's id2label for the score head.
 */
export function toHfConfig(
  config: ModelConfig,
  opts: { kind: CheckpointKind; numLabels?: number; tokenizer: Tokenizer; dtype?: 'F32' | 'F16' },
): Record<string, unknown> {
  const reward = opts.kind !== 'lm';
  const out: Record<string, unknown> = {
    ...toHfModelConfig(config, { dtype: opts.dtype === 'F16' ? 'float16' : 'float32' }),
    architectures: [reward ? 'LlamaForSequenceClassification' : 'LlamaForCausalLM'],
    bos_token_id: opts.tokenizer.eotId,
    eos_token_id: opts.tokenizer.eotId,
    pad_token_id: opts.tokenizer.padId,
  };
  // HF sizes the score head from id2label.
  if (reward) out.id2label = Object.fromEntries(Array.from({ length: opts.numLabels ?? 1 }, (_, i) => [String(i), `LABEL_${i}`]));
  return out;
}

/** The engine's ModelConfig from a config.json object; HF's defaults where a key is optional. */
export function fromHfConfig(
  json: unknown,
  file: string = FILES.config,
): { config: ModelConfig; architecture: string; numLabels: number; tokenIds: { bos: unknown; eos: unknown; pad: unknown } } {
  const { j, fail, int } = configFields(json, file);
  const pos = (k: string, dflt: number): number => {
    const v = j[k] ?? dflt;
    if (typeof v !== 'number' || !(v > 0)) return fail(`"${k}" must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  };
  if (j.model_type !== 'llama') fail(`"model_type" must be "llama", got ${JSON.stringify(j.model_type)}`);
  const arch =
    Array.isArray(j.architectures) && typeof j.architectures[0] === 'string'
      ? j.architectures[0]
      : fail('"architectures" must be a list naming the model class');
  // Refuse what would silently make a different model than the engine computes.
  if ((j.hidden_act ?? 'silu') !== 'silu')
    fail(`"hidden_act" ${JSON.stringify(j.hidden_act)} is not supported (the engine's MLP is SwiGLU, "silu")`);
  if (j.rope_scaling !== undefined && j.rope_scaling !== null) fail('"rope_scaling" is not supported (must be null)');
  if (j.attention_bias === true || j.mlp_bias === true) fail('"attention_bias"/"mlp_bias" are not supported (must be false)');
  const tie = j.tie_word_embeddings ?? false; // HF LlamaConfig's default
  if (typeof tie !== 'boolean') fail(`"tie_word_embeddings" must be true or false, got ${JSON.stringify(tie)}`);
  const nHeads = int('num_attention_heads');
  const config: ModelConfig = {
    vocabSize: int('vocab_size'),
    dModel: int('hidden_size'),
    nLayers: int('num_hidden_layers'),
    nHeads,
    nKvHeads: int('num_key_value_heads', nHeads), // HF: defaults to MHA
    ffnHidden: int('intermediate_size'),
    maxSeqLen: int('max_position_embeddings'),
    ropeTheta: pos('rope_theta', 10000),
    normEps: pos('rms_norm_eps', 1e-6),
    tieEmbeddings: tie as boolean,
  };
  let hd = 0;
  try {
    hd = validateConfig(config);
  } catch (e) {
    fail((e as Error).message);
  }
  if (j.head_dim !== undefined && j.head_dim !== null && j.head_dim !== hd)
    fail(`"head_dim" ${JSON.stringify(j.head_dim)} must equal hidden_size / num_attention_heads = ${hd}`);
  const numLabels = typeof j.id2label === 'object' && j.id2label !== null ? Object.keys(j.id2label).length : 1;
  return { config, architecture: arch, numLabels, tokenIds: { bos: j.bos_token_id, eos: j.eos_token_id, pad: j.pad_token_id } };
}

/** genrm's version, from the package.json above this file (src/ under tsx, dist/src/ compiled). */
export function genrmVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'genrm' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      /* not here; look higher */
    }
  }
  return 'unknown';
}

function checkWeights(
  weights: ReadonlyMap<string, { shape: readonly number[] }>,
  expected: Array<{ name: string; shape: number[] }>,
  where: string,
): void {
  const want = new Map(expected.map((e) => [e.name, e.shape]));
  for (const [name, shape] of want) {
    const t = weights.get(name);
    if (t === undefined) throw new Error(`${where}: missing tensor '${name}' (expected shape [${shape.join(', ')}])`);
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))
      throw new Error(`${where}: tensor '${name}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  for (const name of weights.keys())
    if (!want.has(name)) throw new Error(`${where}: unexpected tensor '${name}' (not part of this model's config and kind)`);
}

/** Writes a checkpoint folder atomically; an existing checkpoint at `dir` is replaced. */
export function saveCheckpoint(dir: string, opts: SaveCheckpointOptions): void {
  if (!CHECKPOINT_KINDS.includes(opts.kind))
    throw new Error(`saveCheckpoint: kind must be one of ${CHECKPOINT_KINDS.join(', ')}, got ${String(opts.kind)}`);
  const numLabels = opts.numLabels ?? 1;
  const expected = expectedTensors(opts.config, { kind: opts.kind, numLabels });
  checkWeights(opts.weights, expected, `saveCheckpoint ${dir}`);
  if (opts.tokenizer.vocabSize !== opts.config.vocabSize)
    throw new Error(
      `saveCheckpoint ${dir}: tokenizer has ${opts.tokenizer.vocabSize} tokens but the model's vocabSize is ${opts.config.vocabSize}`,
    );
  for (const { name } of expected) {
    const data = opts.weights.get(name)!.data;
    for (let i = 0; i < data.length; i++)
      if (!Number.isFinite(data[i]!))
        throw new Error(`saveCheckpoint ${dir}: tensor '${name}' holds ${data[i]} at index ${i}; refusing to save a diverged model`);
  }
  const genrm: GenrmJson = {
    format: 'genrm-checkpoint',
    formatVersion: 1,
    kind: opts.kind,
    ...(opts.kind !== 'lm' ? { numLabels } : {}),
    provenance: {
      command: opts.provenance.command,
      config: opts.provenance.config ?? null,
      seed: opts.provenance.seed ?? null,
      dataHash: opts.provenance.dataHash ?? null,
      parent: opts.provenance.parent ?? null,
      createdAt: opts.provenance.createdAt ?? new Date().toISOString(),
      genrmVersion: opts.provenance.genrmVersion ?? genrmVersion(),
    },
  };
  // Encode everything before touching the disk, so a bad tensor (e.g. an F16 overflow) leaves nothing behind.
  const dtype = opts.dtype ?? 'F32';
  const files: Array<[string, string | Uint8Array]> = [
    [
      FILES.config,
      JSON.stringify(toHfConfig(opts.config, { kind: opts.kind, numLabels, tokenizer: opts.tokenizer, dtype }), null, 2) + '\n',
    ],
    [
      FILES.weights,
      encodeSafetensors(
        expected.map(({ name }) => [name, opts.weights.get(name)!]),
        { dtype, metadata: { format: 'pt', genrm_kind: opts.kind } },
      ),
    ],
    [FILES.tokenizer, JSON.stringify(toTokenizerJson(opts.tokenizer), null, 2) + '\n'],
    [FILES.genrm, JSON.stringify(genrm, null, 2) + '\n'],
  ];
  swapFolderAtomic(
    dir,
    (tmp) => {
      for (const [name, content] of files) writeFileSync(join(tmp, name), content);
    },
    {
      replaceable: (present) => present.includes(FILES.genrm),
      refusal: `saveCheckpoint: refusing to replace ${dir}: it is not empty and not a genrm checkpoint (no ${FILES.genrm})`,
    },
  );
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      `${path}: ${code === 'ENOENT' ? 'missing (is this a genrm checkpoint folder?)' : `cannot read (${code ?? (e as Error).message})`}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

export interface LoadCheckpointOptions {
  /** The kind the caller needs; another kind is an error. */
  expectKind?: CheckpointKind;
  /** Special tokens the caller relies on (e.g. the judge verdicts). */
  expectSpecials?: readonly string[];
}

/**
 * A checkpoint folder's genrm.json, checked (format, version, kind): what a caller needs to know
 * about a checkpoint (its kind, how it was made) without loading its weights.
 */
export function readCheckpointMeta(dir: string): GenrmJson {
  const gPath = join(dir, FILES.genrm);
  const g = readJson(gPath) as Partial<GenrmJson> | null;
  if (typeof g !== 'object' || g === null || g.format !== 'genrm-checkpoint')
    throw new Error(`${gPath}: not a genrm checkpoint description ("format" must be "genrm-checkpoint")`);
  if (g.formatVersion !== 1)
    throw new Error(`${gPath}: formatVersion ${JSON.stringify(g.formatVersion)} is not supported (this genrm reads 1)`);
  if (!CHECKPOINT_KINDS.includes(g.kind as CheckpointKind))
    throw new Error(`${gPath}: "kind" must be one of ${CHECKPOINT_KINDS.join(', ')}, got ${JSON.stringify(g.kind)}`);
  if (typeof g.provenance !== 'object' || g.provenance === null)
    throw new Error(`${gPath}: "provenance" must be an object (how the checkpoint was made)`);
  return g as GenrmJson;
}

/** Loads and cross-checks a checkpoint folder. */
export function loadCheckpoint(dir: string, opts: LoadCheckpointOptions = {}): Checkpoint {
  // A save killed between its two renames left the old folder aside: put it back first.
  if (!existsSync(dir)) recoverFolderSwap(dir);
  if (!existsSync(dir)) throw new Error(`${dir}: no such checkpoint folder`);
  const g = readCheckpointMeta(dir);
  const kind = g.kind;
  if (opts.expectKind !== undefined && opts.expectKind !== kind)
    throw new Error(`${dir}: a '${kind}' checkpoint, but a '${opts.expectKind}' one is needed here`);

  const cPath = join(dir, FILES.config);
  const hf = fromHfConfig(readJson(cPath), cPath);
  const wantArch = kind === 'lm' ? 'LlamaForCausalLM' : 'LlamaForSequenceClassification';
  if (hf.architecture !== wantArch)
    throw new Error(`${cPath}: architectures[0] is "${hf.architecture}" but ${FILES.genrm} says kind '${kind}' (expected "${wantArch}")`);
  const numLabels = kind === 'lm' ? 1 : (g.numLabels ?? hf.numLabels);

  const tPath = join(dir, FILES.tokenizer);
  const tokenizer = loadTokenizer(tPath, opts.expectSpecials ? { expectSpecials: opts.expectSpecials } : {});
  if (tokenizer.vocabSize !== hf.config.vocabSize)
    throw new Error(
      `${tPath}: the tokenizer has ${tokenizer.vocabSize} tokens but ${FILES.config} says vocab_size ${hf.config.vocabSize}; they do not belong together`,
    );
  const ids: Array<[string, unknown, number]> = [
    ['bos_token_id', hf.tokenIds.bos, tokenizer.eotId],
    ['eos_token_id', hf.tokenIds.eos, tokenizer.eotId],
    ['pad_token_id', hf.tokenIds.pad, tokenizer.padId],
  ];
  for (const [key, got, want] of ids)
    if (got !== undefined && got !== want)
      throw new Error(`${cPath}: "${key}" is ${JSON.stringify(got)} but the tokenizer's token is ${want}`);

  const wPath = join(dir, FILES.weights);
  const { tensors } = readSafetensors(wPath);
  checkWeights(tensors, expectedTensors(hf.config, { kind, numLabels }), wPath);
  for (const [name, t] of tensors)
    if (!['F32', 'F16', 'BF16'].includes(t.dtype))
      throw new Error(`${wPath}: tensor '${name}' has dtype ${t.dtype}; weights must be F32, F16 or BF16`);
  return { dir, config: hf.config, kind, numLabels, weights: tensors, tokenizer, genrm: g };
}
