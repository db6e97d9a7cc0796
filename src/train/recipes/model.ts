// A recipe's model in and out: the base checkpoint loaded into a trainable Llama (with its
// tokenizer), and the recipe's output checkpoint written with its kind, its `score.weight` head
// (bt, pairrm) and genrm.json provenance (recipe, resolved config, seed, data hash, parent).
import { resolve } from 'node:path';
import { JUDGE_SPECIAL_TOKENS } from '../../data/judgeFormat.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointKind } from '../../engine/checkpoint.js';
import { Llama } from '../../engine/model/index.js';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import { GenrmError } from '../../util/errors.js';

export interface BaseModel {
  model: Llama;
  tokenizer: Tokenizer;
  /** The folder it came from (absolute): the parent recorded in provenance. */
  dir: string;
}

/**
 * Loads a language-model checkpoint (kind 'lm', the judge verdicts as single tokens) into a fresh
 * Llama whose every parameter is trainable. A reward checkpoint (bt, pairrm) is refused: its LM
 * head was never trained, and every recipe starts from a language model.
 */
export function loadBase(dir: string): BaseModel {
  const ck = loadCheckpoint(dir, { expectSpecials: [...JUDGE_SPECIAL_TOKENS] });
  if (ck.kind !== 'lm')
    throw new GenrmError(
      `${dir}: a '${ck.kind}' checkpoint; training recipes start from a language model (kind 'lm'), e.g. the output of genrm pretrain`,
      'bad_input',
    );
  const model = Llama.fromWeights(ck.config, ck.weights, `${dir}/model.safetensors`);
  return { model, tokenizer: ck.tokenizer, dir: resolve(dir) };
}

export interface SaveRecipeModel {
  recipe: string;
  kind: CheckpointKind;
  model: Llama;
  tokenizer: Tokenizer;
  /** The command line (genrm train ...), recorded as is. */
  command: string;
  /** The resolved recipe config. */
  config: unknown;
  seed: number;
  /** "sha256:<hex>" of the training data. */
  dataHash: string;
  /** The base checkpoint folder. */
  parent: string;
  dtype?: 'F32' | 'F16';
}

/** Writes the recipe's checkpoint files into `dir` (a trainer checkpoint folder or any folder). */
export function saveRecipeModel(dir: string, o: SaveRecipeModel): void {
  const head = o.model.scoreHead;
  if (o.kind !== 'lm' && !head) throw new Error(`saveRecipeModel: a '${o.kind}' checkpoint needs the model's score head (addScoreHead)`);
  // An lm checkpoint has no score.weight; the map is filtered so a stray head never leaks into it.
  const weights = o.kind === 'lm' ? new Map([...o.model.params].filter(([n]) => n !== 'score.weight')) : o.model.params;
  saveCheckpoint(dir, {
    config: o.model.config,
    kind: o.kind,
    weights,
    tokenizer: o.tokenizer,
    dtype: o.dtype ?? 'F32',
    ...(o.kind !== 'lm' ? { numLabels: head!.shape[0]! } : {}),
    provenance: {
      command: o.command,
      config: { recipe: o.recipe, ...(o.config as object) },
      seed: o.seed,
      dataHash: o.dataHash,
      parent: o.parent,
    },
  });
}
