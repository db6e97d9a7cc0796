// A Hugging Face Llama-family folder <-> an engine Llama (for inference and training):
//
//   config.json                      LlamaForCausalLM / Qwen2ForCausalLM (./config.ts)
//   model.safetensors                or shards + model.safetensors.index.json (./weights.ts)
//   tokenizer.json, tokenizer_config.json   (./tokenizer.ts; copied through on save)
//
// Saving writes the same layout into a temp folder beside the target and renames it into place
// (../atomic.ts).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { swapFolderAtomic } from '../atomic.js';
import { Llama } from '../model/llama.js';
import { encodeSafetensors } from '../safetensors.js';
import { parseHfConfig, toHfModelConfig, type HfModelConfig } from './config.js';
import { HfTokenizer } from './tokenizer.js';
import { checkHfWeights, expectedHfTensors, readHfWeights, WEIGHTS_FILE } from './weights.js';

export interface HfLoadOptions {
  /**
   * Cap on the context the engine allocates (RoPE tables, KV caches). Default 4096: real configs
   * say 32K-128K, whose tables and caches would cost gigabytes before the first token.
   */
  maxSeqLen?: number;
  /** Skip tokenizer.json (e.g. weights only). Default false. */
  noTokenizer?: boolean;
}

export interface HfModel {
  dir: string;
  model: Llama;
  hf: HfModelConfig;
  /** null only with noTokenizer. */
  tokenizer: HfTokenizer | null;
}

export const DEFAULT_HF_MAX_SEQ = 4096;

/** Loads a folder into a trainable Llama (parameters require gradients; freeze() for inference). */
export function loadHfModel(dir: string, opts: HfLoadOptions = {}): HfModel {
  if (!existsSync(dir)) throw new Error(`${dir}: no such model folder`);
  const cPath = join(dir, 'config.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(cPath, 'utf8'));
  } catch (e) {
    throw new Error(
      `${cPath}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing (is this a Hugging Face model folder?)' : (e as Error).message}`,
    );
  }
  const hf = parseHfConfig(raw, cPath, { maxSeqLen: opts.maxSeqLen ?? DEFAULT_HF_MAX_SEQ });
  const tokenizer = opts.noTokenizer === true ? null : HfTokenizer.load(dir);
  if (tokenizer !== null && tokenizer.vocabSize > hf.config.vocabSize)
    throw new Error(
      `${join(dir, 'tokenizer.json')}: the tokenizer has ids up to ${tokenizer.vocabSize - 1} but config.json says vocab_size ${hf.config.vocabSize}; they do not belong together`,
    );
  const { tensors, where } = readHfWeights(dir);
  const weights = checkHfWeights(hf.config, tensors, where, dir);
  const model = Llama.fromWeights(hf.config, weights, dir);
  return { dir, model, hf, tokenizer };
}

export interface HfSaveOptions {
  /** tokenizer.json object to write (e.g. toTokenizerJson(genrmTokenizer) or a loaded HfTokenizer's json). */
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig?: Record<string, unknown>;
  /** Keys of a loaded config.json to keep (architectures and shapes are always refreshed). */
  baseConfig?: Record<string, unknown>;
  /** Written into config.json (e.g. bos_token_id, eos_token_id, pad_token_id). */
  extraConfig?: Record<string, unknown>;
  /** Stored precision; default F32 (exact). BF16 is what most published checkpoints use. */
  dtype?: 'F32' | 'F16' | 'BF16';
}

const TORCH_DTYPE = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;

/** Writes an engine Llama as an HF folder, atomically (an existing folder at dir is replaced). */
export function saveHfModel(dir: string, model: Llama, opts: HfSaveOptions): void {
  const dtype = opts.dtype ?? 'F32';
  const expected = expectedHfTensors(model.config);
  for (const { name, shape } of expected) {
    const t = model.params.get(name);
    if (t === undefined) throw new Error(`saveHfModel ${dir}: the model has no tensor '${name}' (expected shape [${shape.join(', ')}])`);
    for (let i = 0; i < t.data.length; i++)
      if (!Number.isFinite(t.data[i]!))
        throw new Error(`saveHfModel ${dir}: tensor '${name}' holds ${t.data[i]} at index ${i}; refusing to save a diverged model`);
  }
  const config = {
    ...toHfModelConfig(model.config, { ...(opts.baseConfig ? { base: opts.baseConfig } : {}), dtype: TORCH_DTYPE[dtype] }),
    ...(opts.extraConfig ?? {}),
  };
  const files: Array<[string, string | Uint8Array]> = [
    ['config.json', JSON.stringify(config, null, 2) + '\n'],
    [
      WEIGHTS_FILE,
      encodeSafetensors(
        expected.map(({ name }) => [name, model.params.get(name)!]),
        { dtype, metadata: { format: 'pt' } },
      ),
    ],
    ['tokenizer.json', JSON.stringify(opts.tokenizerJson) + '\n'],
  ];
  if (opts.tokenizerConfig) files.push(['tokenizer_config.json', JSON.stringify(opts.tokenizerConfig, null, 2) + '\n']);
  swapFolderAtomic(
    dir,
    (tmp) => {
      for (const [name, content] of files) writeFileSync(join(tmp, name), content);
    },
    {
      replaceable: (present) => present.includes('config.json'),
      refusal: `saveHfModel: refusing to replace ${dir}: it is not empty and holds no config.json`,
    },
  );
}
