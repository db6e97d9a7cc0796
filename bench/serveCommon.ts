// What the serve benches share: their model, the base model's shape (d256 L4 H4 ffn688 ctx512)
// with random weights and genrm's byte-level tokenizer with the verdict tokens, saved to a temp
// folder (throughput and latency do not depend on what the weights say), and their flag reader.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JUDGE_SPECIAL_TOKENS } from '../src/data/judgeFormat.js';
import { saveCheckpoint } from '../src/engine/checkpoint.js';
import type { ModelConfig } from '../src/engine/model/config.js';
import { Llama } from '../src/engine/model/llama.js';
import { Tokenizer } from '../src/engine/tokenizer/index.js';

export interface BenchCheckpoint {
  dir: string;
  config: ModelConfig;
  llama: Llama;
  cleanup: () => void;
}

/** Writes the checkpoint (seed 1) under a fresh temp folder named for `bench`. */
export function randomBaseCheckpoint(bench: string): BenchCheckpoint {
  const tok = Tokenizer.byteLevel({ specials: [...JUDGE_SPECIAL_TOKENS] });
  const config: ModelConfig = {
    vocabSize: tok.vocabSize,
    dModel: 256,
    nLayers: 4,
    nHeads: 4,
    nKvHeads: 4,
    ffnHidden: 688,
    maxSeqLen: 512,
    ropeTheta: 10000,
    normEps: 1e-5,
    tieEmbeddings: false,
  };
  const root = mkdtempSync(join(tmpdir(), `genrm-bench-${bench.replace(/\W+/g, '-')}-`));
  const dir = join(root, 'base-random');
  const llama = new Llama(config, { seed: 1 });
  saveCheckpoint(dir, {
    config,
    kind: 'lm',
    weights: llama.params,
    tokenizer: tok,
    provenance: { command: `bench ${bench}`, config: null, seed: 1, dataHash: null, parent: null },
  });
  return { dir, config, llama, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** The value after `name` in the bench's args, or `dflt`. */
export function flag(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
}
