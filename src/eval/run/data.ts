// The pairs an evaluation reads: one or more files in any format genrm's loaders know (genrm's own
// PreferencePair JSONL, RewardBench, JudgeBench, Auto-J, ...: src/data/formats/), read through the
// same loaders as `genrm data convert`. The first bad record is an error naming file:line:field,
// or (skipInvalid, the CLI's default) bad records are skipped and counted by reason with their
// lines. A pair with no split takes its file's name, so records from "test-id.jsonl" group under
// test-id. Each file also says whether it is PrefWorld's (spec.json beside it): its rationales can
// be graded, every pair's task rebuilt and a rationale's own result checked
// (src/train/star/checker.ts).
import { basename, resolve } from 'node:path';
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
  /** Per file (by index): the split and category its pairs get, over their own (a suite's files). */
  assign?: readonly ({ split: string; category?: string } | undefined)[];
}

/** "test-ood.jsonl" -> "test-ood"; "judgebench.csv.gz" -> "judgebench". */
export function splitFromFile(file: string): string {
  return basename(file).replace(/\.(jsonl|ndjson|json|csv|tsv)(\.gz)?$/i, '');
}

/** Reads each file whole through the loaders; pairs without a split get the file's name; ids are made unique across files. */
export async function readEvalSets(files: readonly string[], opts: ReadEvalOptions = {}): Promise<EvalSet[]> {
  if (files.length === 0) throw new RangeError('eval: no data files given');
  const out: EvalSet[] = [];
  const seen = new Map<string, string>();
  const given = new Set<string>();
  for (const [i, file] of files.entries()) {
    const assign = opts.assign?.[i];
    const key = `${resolve(file)}\u0000${assign?.split ?? ''}`;
    if (given.has(key))
      throw new RangeError(`${file}: given twice; each file once (in a suite, a file in two categories needs its own name in each)`);
    given.add(key);
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
      if (assign) pairs.push({ ...pair, split: assign.split, ...(assign.category !== undefined && { category: assign.category }) });
      else pairs.push(pair.split !== undefined ? pair : { ...pair, split });
    }
    // Records are keyed by pair id (evaluate.ts): an id another file already used gets its split
    // as a prefix ("safety/12"); the loader has already skipped repeats within a file.
    for (const [k, p] of pairs.entries()) {
      if (!seen.has(p.id)) {
        seen.set(p.id, file);
        continue;
      }
      const id = `${p.split}/${p.id}`;
      const prev = seen.get(id);
      if (prev !== undefined)
        throw new RangeError(
          `${file}: pair "${p.id}" (split ${p.split}) also appears in ${prev} under the same split; give each file once (or, in a suite, its own name)`,
        );
      seen.set(id, file);
      pairs[k] = { ...p, id };
    }
    const checker = checkerFor(file);
    out.push({ file, pairs, checker, prefWorld: checker !== null, load: opened.report });
  }
  return out;
}
