// config.json of a Hugging Face Llama-family checkpoint (LlamaForCausalLM, Qwen2ForCausalLM) <->
// the engine's ModelConfig. genrm's own checkpoints (../checkpoint.ts) are a strict subset; this
// reader takes what real published models add: grouped-query attention, RoPE scaling ("linear",
// "llama3"), Qwen2's q/k/v biases, a list of eos ids. Anything that would make the engine compute
// a different model than the file describes (another activation, sliding-window attention, an
// unknown RoPE scaling, MLP or output biases) is refused with the key named, never ignored.
//
// Key meanings and defaults follow transformers' LlamaConfig / Qwen2Config.
import type { ModelConfig, RopeScaling } from '../model/config.js';
import { validateConfig } from '../model/params.js';

export type HfFamily = 'llama' | 'qwen2';

export interface HfModelConfig {
  /** The engine's config; maxSeqLen may be capped below the file's (see HfLoadOptions.maxSeqLen). */
  config: ModelConfig;
  family: HfFamily;
  architecture: string;
  /** The file's max_position_embeddings (kept to write back unchanged). */
  maxPositionEmbeddings: number;
  bosId: number | null;
  /** HF allows one id or a list (Llama 3 instruct: end of text and end of turn). */
  eosIds: number[];
  padId: number | null;
  /** The whole parsed config.json, written back with only the shape keys refreshed. */
  raw: Record<string, unknown>;
}

const ARCH: Record<HfFamily, string> = { llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM' };

/**
 * Field readers over a config.json object, shared by this reader and genrm's stricter one
 * (../checkpoint.ts): errors name the file and the key.
 */
export function configFields(json: unknown, file: string) {
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('expected a JSON object');
  const j = json as Record<string, unknown>;
  const int = (k: string, dflt?: number): number => {
    const v = j[k] ?? dflt;
    if (v === undefined) return fail(`missing "${k}"`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) return fail(`"${k}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  };
  return { j, fail, int };
}

/** Parses a config.json object; `file` names it in errors. `maxSeqLen` caps the engine's context. */
export function parseHfConfig(json: unknown, file: string, opts: { maxSeqLen?: number } = {}): HfModelConfig {
  const { j, fail, int } = configFields(json, file);
  const num = (obj: Record<string, unknown>, k: string, where: string): number => {
    const v = obj[k];
    if (typeof v !== 'number' || !(v > 0)) return fail(`"${where}.${k}" must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  };
  const family = j.model_type as HfFamily;
  if (family !== 'llama' && family !== 'qwen2')
    fail(`"model_type" ${JSON.stringify(j.model_type)} is not supported (genrm loads "llama" and "qwen2")`);
  const architecture = Array.isArray(j.architectures) && typeof j.architectures[0] === 'string' ? j.architectures[0] : ARCH[family];
  if (architecture !== ARCH[family])
    fail(`"architectures" [${JSON.stringify(architecture)}] is not supported for model_type "${family}" (expected "${ARCH[family]}")`);
  if ((j.hidden_act ?? 'silu') !== 'silu')
    fail(`"hidden_act" ${JSON.stringify(j.hidden_act)} is not supported (the engine's MLP is SwiGLU, "silu")`);
  if (j.mlp_bias === true) fail('"mlp_bias": true is not supported (the engine has no MLP biases)');
  // Llama's attention_bias also adds o_proj.bias, which the engine does not have; Qwen2 always has
  // q/k/v biases and never an o_proj one.
  if (family === 'llama' && j.attention_bias === true)
    fail('"attention_bias": true is not supported for llama (it adds an o_proj bias the engine lacks)');
  if (family === 'qwen2' && j.use_sliding_window === true)
    fail('"use_sliding_window": true is not supported (the engine attends to the whole context)');
  if (j.attention_dropout !== undefined && j.attention_dropout !== 0 && j.attention_dropout !== 0.0)
    fail(`"attention_dropout" ${JSON.stringify(j.attention_dropout)} is not supported (must be 0)`);

  let ropeScaling: RopeScaling | undefined;
  const rs = j.rope_scaling;
  if (rs !== undefined && rs !== null) {
    if (typeof rs !== 'object' || Array.isArray(rs)) fail(`"rope_scaling" must be an object or null, got ${JSON.stringify(rs)}`);
    const r = rs as Record<string, unknown>;
    const type = r.rope_type ?? r.type; // older files say "type"
    if (type === 'linear') ropeScaling = { type: 'linear', factor: num(r, 'factor', 'rope_scaling') };
    else if (type === 'llama3')
      ropeScaling = {
        type: 'llama3',
        factor: num(r, 'factor', 'rope_scaling'),
        lowFreqFactor: num(r, 'low_freq_factor', 'rope_scaling'),
        highFreqFactor: num(r, 'high_freq_factor', 'rope_scaling'),
        originalMaxPositionEmbeddings: num(r, 'original_max_position_embeddings', 'rope_scaling'),
      };
    else if (type !== 'default')
      fail(`"rope_scaling" type ${JSON.stringify(type)} is not supported (genrm computes "linear" and "llama3")`);
    if (ropeScaling?.type === 'llama3' && !(ropeScaling.highFreqFactor > ropeScaling.lowFreqFactor))
      fail(`"rope_scaling.high_freq_factor" must exceed low_freq_factor`);
  }

  const tie = j.tie_word_embeddings ?? false; // LlamaConfig's and Qwen2Config's default
  if (typeof tie !== 'boolean') fail(`"tie_word_embeddings" must be true or false, got ${JSON.stringify(tie)}`);
  const nHeads = int('num_attention_heads');
  const maxPos = int('max_position_embeddings', family === 'qwen2' ? 32768 : 2048);
  const config: ModelConfig = {
    vocabSize: int('vocab_size'),
    dModel: int('hidden_size'),
    nLayers: int('num_hidden_layers'),
    nHeads,
    nKvHeads: int('num_key_value_heads', nHeads), // defaults to plain multi-head attention
    ffnHidden: int('intermediate_size'),
    maxSeqLen: Math.min(maxPos, opts.maxSeqLen ?? maxPos),
    ropeTheta: typeof j.rope_theta === 'number' ? j.rope_theta : 10000,
    normEps: typeof j.rms_norm_eps === 'number' ? j.rms_norm_eps : 1e-6,
    tieEmbeddings: tie as boolean,
    ...(family === 'qwen2' ? { attentionBias: true } : {}),
    ...(ropeScaling ? { ropeScaling } : {}),
  };
  let hd = 0;
  try {
    hd = validateConfig(config);
  } catch (e) {
    fail((e as Error).message);
  }
  if (j.head_dim !== undefined && j.head_dim !== null && j.head_dim !== hd)
    fail(`"head_dim" ${JSON.stringify(j.head_dim)} is not supported: the engine needs hidden_size / num_attention_heads = ${hd}`);
  const id = (k: string): number | null => {
    const v = j[k];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return fail(`"${k}" must be a token id, got ${JSON.stringify(v)}`);
    return v;
  };
  const eosRaw = j.eos_token_id;
  const eosIds = Array.isArray(eosRaw)
    ? eosRaw.map((_, i) => (typeof eosRaw[i] === 'number' ? (eosRaw[i] as number) : fail(`"eos_token_id[${i}]" must be a token id`)))
    : id('eos_token_id') === null
      ? []
      : [id('eos_token_id')!];
  return {
    config,
    family,
    architecture,
    maxPositionEmbeddings: maxPos,
    bosId: id('bos_token_id'),
    eosIds,
    padId: id('pad_token_id'),
    raw: { ...j },
  };
}

/**
 * config.json for an engine model: `base` (a loaded file's raw object, to keep its other keys)
 * with every shape key set from the config. Models with attention biases are written as Qwen2.
 */
export function toHfModelConfig(
  config: ModelConfig,
  opts: { base?: Record<string, unknown>; maxPositionEmbeddings?: number; dtype?: 'float32' | 'float16' | 'bfloat16' } = {},
): Record<string, unknown> {
  const hd = validateConfig(config);
  const family: HfFamily = config.attentionBias === true ? 'qwen2' : 'llama';
  const rs = config.ropeScaling;
  const out: Record<string, unknown> = {
    ...(opts.base ?? {}),
    architectures: [ARCH[family]],
    model_type: family,
    hidden_size: config.dModel,
    intermediate_size: config.ffnHidden,
    num_hidden_layers: config.nLayers,
    num_attention_heads: config.nHeads,
    num_key_value_heads: config.nKvHeads,
    hidden_act: 'silu',
    rms_norm_eps: config.normEps,
    rope_theta: config.ropeTheta,
    rope_scaling:
      rs === undefined
        ? null
        : rs.type === 'linear'
          ? { rope_type: 'linear', factor: rs.factor }
          : {
              rope_type: 'llama3',
              factor: rs.factor,
              low_freq_factor: rs.lowFreqFactor,
              high_freq_factor: rs.highFreqFactor,
              original_max_position_embeddings: rs.originalMaxPositionEmbeddings,
            },
    vocab_size: config.vocabSize,
    max_position_embeddings: Math.max(config.maxSeqLen, opts.maxPositionEmbeddings ?? 0),
    tie_word_embeddings: config.tieEmbeddings,
    torch_dtype: opts.dtype ?? 'float32',
  };
  if (family === 'llama') Object.assign(out, { head_dim: hd, attention_bias: false, mlp_bias: false });
  return out;
}
