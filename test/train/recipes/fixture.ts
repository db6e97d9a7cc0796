// Shared fixture for the recipe tests: a tiny PrefWorld written to a temp folder and a tiny
// random-init base checkpoint (byte-level tokenizer with the judge verdicts) beside it. Random
// init, not the pretrain preset: every recipe test needs only a model that can learn, and this
// costs milliseconds instead of a pretraining run.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWorld, writeWorld } from '../../../src/data/world/generate.js';
import { resolveSpec } from '../../../src/data/world/spec.js';
import { saveCheckpoint } from '../../../src/engine/checkpoint.js';
import { Llama, type ModelConfig } from '../../../src/engine/model/index.js';
import { buildTokenizer } from '../../../src/train/pretrain/run.js';

export interface Fixture {
  root: string;
  world: string;
  base: string;
}

/** A tiny world (train/test-id/test-ood pairs, small corpus) and a tiny base model, in a temp folder. */
export async function makeFixture(o: { train?: number; seqLen?: number; dModel?: number } = {}): Promise<Fixture> {
  const root = mkdtempSync(join(tmpdir(), 'genrm-recipes-'));
  const world = join(root, 'world');
  const spec = resolveSpec('quick', { pairs: { train: o.train ?? 48, testId: 24, testOod: 12 }, corpus: { bytes: 20_000 } });
  await writeWorld(world, generateWorld(spec));
  const tok = buildTokenizer([], 0);
  const config: ModelConfig = {
    vocabSize: tok.vocabSize,
    dModel: o.dModel ?? 32,
    nLayers: 1,
    nHeads: 2,
    nKvHeads: 2,
    ffnHidden: 64,
    maxSeqLen: o.seqLen ?? 320,
    ropeTheta: 10000,
    normEps: 1e-5,
    tieEmbeddings: true,
  };
  const model = new Llama(config, { seed: 3 });
  const base = join(root, 'base');
  saveCheckpoint(base, {
    config,
    kind: 'lm',
    weights: model.params,
    tokenizer: tok,
    provenance: { command: 'test fixture', config: null, seed: 3, dataHash: null, parent: null },
  });
  return { root, world, base };
}
