// The pairs an evaluation reads: one or more files in any format genrm's loaders know (genrm's own
// PreferencePair JSONL, RewardBench, JudgeBench, Auto-J, ...: src/data/formats/), read through the
// same loaders as `genrm data convert`. The first bad record is an error naming file:line:field,
// or (skipInvalid, the CLI's default) bad records are skipped and counted by reason with their
// lines. A pair with no split takes its file's name, so records from "test-id.jsonl" group under
// test-id. Each file also says whether it is PrefWorld's (spec.json beside it): its rationales can
// be graded, every pair's task rebuilt and a rationale's own result checked
// (src/train/star/checker.ts).
import { basename } from 'node:path';
import { FileError } from '../../data/formats/errors.js';
import { type LoadReport, openPairs } from '../../data/formats/load.js';
import type { PreferencePair } from '../../data/pair.js';
import { checkerFor, type ResultChecker } from '../../train/star/checker.js';

export interface EvalSet {
  file: string;
  pairs: PreferencePair[];
  /** PrefWorld's rationale grader for these pairs, or null when the data cannot check a rationale. */
  checker: ResultChecker | null;
  /** A PrefWorld file (spec.json beside it): the paper's numbers are shown beside its results. */
  prefWorld?: boolean;
  /** What the loader read, skipped and flagged. */
  load?: LoadReport;
}

export interface ReadEvalOptions {
  /** Judge the first n pairs of each file. */
  limit?: number;
  /** false (default, as the loaders): the first bad record is an error; true: bad records are skipped and counted (the CLI unless --strict). */
  skipInvalid?: boolean;
}

/** "test-ood.jsonl" -> "test-ood"; "judgebench.csv.gz" -> "judgebench". */
export function splitFromFile(file: string): string {
  return basename(file).replace(/\.(jsonl|ndjson|json|csv|tsv)(\.gz)?$/i, '');
}

/** Reads each file whole through the loaders; pairs without a split get the file's name. */
export async function readEvalSets(files: readonly string[], opts: ReadEvalOptions = {}): Promise<EvalSet[]> {
  if (files.length === 0) throw new RangeError('eval: no data files given');
  const out: EvalSet[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    let opened;
    try {
      opened = await openPairs(file, { skipInvalid: opts.skipInvalid === true });
    } catch (e) {
      // A file whose fields need a mapping: the flags for it live on `genrm data convert`.
      const fields = e instanceof FileError ? /cannot tell the format from the fields (\[[^\]]*\])/.exec(e.message)?.[1] : undefined;
      if (fields !== undefined)
        throw new FileError(
          file,
          `cannot tell the format from the fields ${fields}; map it once with \`genrm data convert ${file} --out pairs.jsonl\` and --format NAME or --prompt-field/--chosen-field/--rejected-field[/--label-field], then evaluate pairs.jsonl`,
        );
      throw e;
    }
    const split = splitFromFile(file);
    const pairs: PreferencePair[] = [];
    for await (const { pair } of opened.pairs) {
      if (opts.limit !== undefined && pairs.length >= opts.limit) break;
      pairs.push(pair.split !== undefined ? pair : { ...pair, split });
    }
    for (const p of pairs) {
      const key = `${p.split}\u0000${p.id}`;
      const prev = seen.get(key);
      if (prev !== undefined) throw new RangeError(`${file}: pair "${p.id}" (split ${p.split}) also appears in ${prev}; ids must be unique per split (the same file given twice?)`);
      seen.set(key, file);
    }
    const checker = checkerFor(file);
    out.push({ file, pairs, checker, prefWorld: checker !== null, load: opened.report });
  }
  return out;
}
