// The pairs an evaluation reads: one or more PreferencePair JSONL files (e.g. a world's
// test-id.jsonl and test-ood.jsonl). A broken line is an error naming the file and line (the
// JSONL reader's JsonlError); a pair with no split takes its file's name, so records from
// "test-id.jsonl" group under test-id. Each file also says whether rationales can be graded:
// PrefWorld files (spec.json beside them) can rebuild every pair's task and check a rationale's
// own result (src/train/star/checker.ts).
import { basename } from 'node:path';
import { readPairsAll, type PreferencePair } from '../../data/pair.js';
import { checkerFor, type ResultChecker } from '../../train/star/checker.js';

export interface EvalSet {
  file: string;
  pairs: PreferencePair[];
  /** PrefWorld's rationale grader for these pairs, or null when the data cannot check a rationale. */
  checker: ResultChecker | null;
}

/** "test-ood.jsonl" -> "test-ood". */
export function splitFromFile(file: string): string {
  return basename(file).replace(/\.jsonl(\.gz)?$/, '');
}

/** Reads each file whole (errors name file:line:field); pairs without a split get the file's name. */
export async function readEvalSets(files: readonly string[], opts: { limit?: number } = {}): Promise<EvalSet[]> {
  if (files.length === 0) throw new RangeError('eval: no data files given');
  const out: EvalSet[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const all = await readPairsAll(file);
    const split = splitFromFile(file);
    const pairs = (opts.limit !== undefined ? all.slice(0, opts.limit) : all).map((p) => (p.split !== undefined ? p : { ...p, split }));
    for (const p of pairs) {
      const key = `${p.split}\u0000${p.id}`;
      const prev = seen.get(key);
      if (prev !== undefined) throw new RangeError(`${file}: pair "${p.id}" (split ${p.split}) also appears in ${prev}; ids must be unique per split`);
      seen.set(key, file);
    }
    out.push({ file, pairs, checker: checkerFor(file) });
  }
  return out;
}
