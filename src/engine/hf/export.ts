// A genrm language-model checkpoint as a plain Hugging Face folder, for transformers, vLLM and
// genrm's own HF loader: config.json (LlamaForCausalLM, BOS = EOS = end-of-text, padding),
// model.safetensors, tokenizer.json (whose post-processor puts end-of-text first, as genrm's
// engine does) and tokenizer_config.json (special tokens, the compact chat template). No
// genrm.json: the folder is read as a Hugging Face model, not as a genrm checkpoint.
import { loadCheckpoint } from '../checkpoint.js';
import { Llama } from '../model/llama.js';
import { toTokenizerConfig, toTokenizerJson } from '../tokenizer/index.js';
import { saveHfModel } from './model.js';

export interface HfExportSummary {
  out: string;
  dtype: 'F32' | 'F16' | 'BF16';
  layers: number;
  vocab: number;
  bos: number;
}

/** Writes checkpoint `ckpt` (kind 'lm') as a Hugging Face folder at `out`, atomically. */
export function exportHfFolder(ckpt: string, out: string, opts: { dtype?: 'F32' | 'F16' | 'BF16' } = {}): HfExportSummary {
  const ck = loadCheckpoint(ckpt, { expectKind: 'lm' });
  const tok = ck.tokenizer;
  const model = Llama.fromWeights(ck.config, ck.weights, `${ckpt}/model.safetensors`);
  const dtype = opts.dtype ?? 'F32';
  saveHfModel(out, model, {
    tokenizerJson: toTokenizerJson(tok),
    tokenizerConfig: toTokenizerConfig(tok, { modelMaxLength: ck.config.maxSeqLen }),
    extraConfig: { bos_token_id: tok.eotId, eos_token_id: tok.eotId, pad_token_id: tok.padId },
    dtype,
  });
  return { out, dtype, layers: ck.config.nLayers, vocab: ck.config.vocabSize, bos: tok.eotId };
}
