// Pretraining data: PrefWorld's corpus (corpus.jsonl, one {"kind","family","instance","text"}
// document per line, written by `genrm world generate`), given as the world folder or the file.
// With a world folder, its spec.json and test splits also give the held-out tasks that the
// worked-solution report is measured on.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonlLine } from '../../data/jsonl.js';
import { PreferencePairSchema, type PreferencePair } from '../../data/pair.js';
import { CorpusDocSchema, type CorpusDoc } from '../../data/world/corpus.js';
import { CORPUS_FILE, SPLIT_FILES } from '../../data/world/generate.js';

export interface PretrainData {
  corpusFile: string;
  docs: CorpusDoc[];
  /** SHA-256 of the corpus file's bytes (recorded in genrm.json). */
  hash: string;
  /** The world folder, when given one. */
  worldDir: string | null;
}

/** Reads the corpus of a world folder (or a corpus.jsonl file); errors name the file and line. */
export function loadCorpus(path: string): PretrainData {
  if (!existsSync(path))
    throw new Error(`${path}: no such file or folder (expected a PrefWorld folder from \`genrm world generate\`, or its ${CORPUS_FILE})`);
  const isDir = statSync(path).isDirectory();
  const corpusFile = isDir ? join(path, CORPUS_FILE) : path;
  if (!existsSync(corpusFile))
    throw new Error(`${corpusFile}: missing; is ${path} a PrefWorld folder (genrm world generate --out ${path})?`);
  const bytes = readFileSync(corpusFile);
  const docs: CorpusDoc[] = [];
  bytes
    .toString('utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim()) docs.push(parseJsonlLine(line, CorpusDocSchema, corpusFile, i + 1));
    });
  if (docs.length === 0) throw new Error(`${corpusFile}: holds no documents`);
  return { corpusFile, docs, hash: createHash('sha256').update(bytes).digest('hex'), worldDir: isDir ? path : null };
}

/** The test splits' pairs (held-out instances for the report); missing files give none. */
export function loadTestPairs(worldDir: string): PreferencePair[] {
  const out: PreferencePair[] = [];
  for (const split of ['test-id', 'test-ood'] as const) {
    const file = join(worldDir, SPLIT_FILES[split]);
    if (!existsSync(file)) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (line.trim()) out.push(parseJsonlLine(line, PreferencePairSchema, file, i + 1));
      });
  }
  return out;
}
