// A tiny genrm checkpoint for server tests: a random Llama (embedding and head scaled up so its
// next-token distributions are peaked, not near-uniform) with a byte-level tokenizer that has the
// judge verdicts as special tokens, saved to a temp folder with saveCheckpoint.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JUDGE_SPECIAL_TOKENS } from '../../src/data/judgeFormat.js';
import { saveCheckpoint } from '../../src/engine/checkpoint.js';
import { Llama } from '../../src/engine/model/llama.js';
import type { ModelConfig } from '../../src/engine/model/config.js';
import { Tokenizer } from '../../src/engine/tokenizer/index.js';

export function tinyConfig(vocabSize: number, overrides: Partial<ModelConfig> = {}): ModelConfig {
  return {
    vocabSize,
    dModel: 32,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    ffnHidden: 64,
    maxSeqLen: 160,
    ropeTheta: 10000,
    normEps: 1e-5,
    tieEmbeddings: false,
    ...overrides,
  };
}

/** Writes the checkpoint (`overrides`: another shape, e.g. a longer context); returns its folder and a cleanup. */
export function makeTinyCheckpoint(seed = 3, overrides: Partial<ModelConfig> = {}): { dir: string; root: string; cleanup: () => void } {
  const tok = Tokenizer.byteLevel({ specials: [...JUDGE_SPECIAL_TOKENS] });
  const model = new Llama(tinyConfig(tok.vocabSize, overrides), { seed });
  for (const name of ['model.embed_tokens.weight', 'lm_head.weight']) {
    const t = model.params.get(name)!;
    for (let i = 0; i < t.data.length; i++) t.data[i]! *= 15; // logit std ~1.7: peaked distributions
  }
  const root = mkdtempSync(join(tmpdir(), 'genrm-serve-'));
  const dir = join(root, 'tiny');
  saveCheckpoint(dir, {
    config: model.config,
    kind: 'lm',
    weights: model.params,
    tokenizer: tok,
    provenance: { command: 'test', config: null, seed, dataHash: null, parent: null },
  });
  return { dir, root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
