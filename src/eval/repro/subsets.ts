// The pair sets a repro run trains, samples and evaluates on: seeded samples of the world's
// splits, each written as a small PrefWorld-shaped folder (spec.json copied beside the split
// files, corpus.jsonl linked), so the recipes read them as a world (train.jsonl; replay finds the
// pretraining corpus where a world keeps it) and the rationale grader can rebuild every pair's
// task from the spec (src/train/star/checker.ts).
import { copyFileSync, existsSync, linkSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writePairs, type PreferencePair } from '../../data/pair.js';
import { CORPUS_FILE, SPEC_FILE, SPLIT_FILES } from '../../data/world/generate.js';
import { Prng } from '../../engine/prng.js';
import { permutation } from '../../train/batches.js';

/** n pairs drawn without replacement by a seeded shuffle (all of them when n ≥ their number), in file order. */
export function samplePairs(pairs: readonly PreferencePair[], n: number, seed: number): PreferencePair[] {
  if (n >= pairs.length) return [...pairs];
  const pick = permutation(pairs.length, new Prng(seed)).subarray(0, n);
  return Array.from(pick)
    .sort((a, b) => a - b)
    .map((i) => pairs[i]!);
}

/** Writes a folder holding the world's spec.json and the given splits. */
export async function writeSubset(
  dir: string,
  worldDir: string,
  splits: Partial<Record<keyof typeof SPLIT_FILES, PreferencePair[]>>,
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const spec = join(worldDir, SPEC_FILE);
  if (existsSync(spec)) copyFileSync(spec, join(dir, SPEC_FILE));
  const corpus = join(worldDir, CORPUS_FILE);
  if (existsSync(corpus)) {
    const to = join(dir, CORPUS_FILE);
    rmSync(to, { force: true });
    try {
      linkSync(corpus, to); // the same bytes without a copy (the run folder holds the world)
    } catch {
      copyFileSync(corpus, to); // another filesystem
    }
  }
  for (const [split, pairs] of Object.entries(splits)) await writePairs(join(dir, SPLIT_FILES[split as keyof typeof SPLIT_FILES]), pairs);
  return dir;
}
