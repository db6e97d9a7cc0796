// A genrm checkpoint folder (or a Hugging Face Llama-family folder) as a ready-to-run Llama +
// tokenizer. Only language-model checkpoints
// (kind 'lm') can generate and score text; a reward-head checkpoint (bt, pairrm) is refused by
// name, since its LM head was never trained to write verdicts.
import { loadCheckpoint } from '../../engine/checkpoint.js';
import { Llama } from '../../engine/model/llama.js';
import { hfEngineTokenizer } from '../../engine/hf/engineTokenizer.js';
import { loadHfModel, type HfLoadOptions } from '../../engine/hf/model.js';
import type { EngineTokenizer, Tokenizer } from '../../engine/tokenizer/index.js';
import { JUDGE_SPECIAL_TOKENS } from '../../data/judgeFormat.js';

export interface LoadedModel<T extends EngineTokenizer = Tokenizer> {
  dir: string;
  model: Llama;
  tokenizer: T;
}

/** Loads a checkpoint folder (config.json, model.safetensors, tokenizer.json, genrm.json) for inference. */
export function loadLanguageModel(dir: string): LoadedModel {
  const ck = loadCheckpoint(dir);
  if (ck.kind !== 'lm')
    throw new Error(
      `${dir}: a '${ck.kind}' checkpoint (reward head); the embedded backend needs a language model (kind 'lm'), e.g. a pretrained base or a genrm/star-sft/star-dpo judge`,
    );
  for (const v of JUDGE_SPECIAL_TOKENS)
    if (!ck.tokenizer.hasSpecial(v))
      throw new Error(
        `${dir}/tokenizer.json: no special token '${v}'; genrm judges need each verdict as one token (have: ${ck.tokenizer.specialTokens.join(' ')})`,
      );
  const model = Llama.fromWeights(ck.config, ck.weights, `${dir}/model.safetensors`);
  model.freeze();
  return { dir, model, tokenizer: ck.tokenizer };
}

/** Loads a Hugging Face folder (config.json, model.safetensors, tokenizer.json) for inference. */
export function loadHfLanguageModel(dir: string, opts: HfLoadOptions = {}): LoadedModel<EngineTokenizer> {
  const hf = loadHfModel(dir, { ...opts, noTokenizer: false });
  if (hf.tokenizer === null) throw new Error(`${dir}: no tokenizer.json`);
  hf.model.freeze();
  return { dir, model: hf.model, tokenizer: hfEngineTokenizer(hf.tokenizer, hf.hf, JUDGE_SPECIAL_TOKENS) };
}
