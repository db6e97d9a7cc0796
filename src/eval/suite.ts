// `genrm eval --suite FILE.yaml`: several benchmark files, each in a category, scored the way
// RewardBench scores its sections: a category's accuracy is the mean of its files' accuracies
// weighted by each file's weight (default: its number of scored pairs, which is RewardBench's own
// weighting by example count), and the suite's score is the unweighted mean of its categories.
// Source: allenai/reward-bench, rewardbench/utils.py calculate_scores_per_section with
// rewardbench/constants.py EXAMPLE_COUNTS and SUBSET_MAPPING (sections Chat, Chat Hard, Safety,
// Reasoning; math-prm is weighted as 984 examples there, so it counts as much as the code subsets).
//
//   name: my judges' suite                 # optional, printed above the table
//   categories:
//     Chat:
//       - data/alpacaeval-easy.jsonl       # a file in any format the loaders read
//       - path: data/mt-bench-med.jsonl
//         weight: 40                       # optional: its weight within the category
//         name: mt-bench-med               # optional: its row name (default: the file's name)
//     Safety:
//       - data/xstest_v2_completions.csv
//
// Paths are relative to the YAML file. Each file's pairs form one split named after the file.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { fieldPath } from '../data/jsonl.js';
import { json } from './metrics/accuracy.js';
import { bootstrapRatio, type BootstrapOptions } from './metrics/bootstrap.js';
import { pairScore } from './metrics/scores.js';
import type { JudgeRecord } from './records.js';
import type { EstimateJson } from './results.js';
import { fmtEstimate, type Table } from './report/tables.js';
import { type EvalSet, type ReadEvalOptions, readEvalSets, splitFromFile } from './run/data.js';
import { GenrmError } from '../util/errors.js';

/** One file of a suite, written out (a bare path is the same with the defaults). */
export const SuiteEntrySchema = z
  .object({
    path: z.string().min(1).describe('The data file, in any format the loaders read; relative to the suite file.'),
    weight: z
      .number()
      .positive()
      .optional()
      .describe("Its weight within its category. Unset: its number of scored pairs, RewardBench's weighting by example count."),
    name: z
      .string()
      .min(1)
      .optional()
      .describe("Its row and split name; unique within the suite. Unset: the file's name without extensions."),
  })
  .strict();

const EntrySchema = z.union([z.string().min(1), SuiteEntrySchema]);

export const SuiteFileSchema = z
  .object({
    name: z.string().optional().describe('A title printed above the table. Unset: none.'),
    categories: z
      .record(z.string().min(1), z.array(EntrySchema).min(1))
      .describe(
        "Each category (e.g. Chat, Chat Hard, Safety, Reasoning) with its files, a path or a {path, weight, name} entry each, in the order printed; the suite's score is the unweighted mean of the categories, as RewardBench scores its sections.",
      ),
  })
  .strict();

export interface SuiteEntry {
  category: string;
  /** The split the file's pairs get: unique within the suite. */
  name: string;
  file: string;
  weight?: number;
}

export interface Suite {
  file: string;
  name?: string;
  categories: string[];
  entries: SuiteEntry[];
}

/** Reads and checks a suite file; a bad field is an error naming it. */
export async function readSuite(file: string): Promise<Suite> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new GenrmError(`--suite ${file}: no such file`, 'bad_input');
    throw new GenrmError(`--suite ${file}: not valid YAML (${(e as Error).message})`, 'bad_input');
  }
  const r = SuiteFileSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new GenrmError(
      `--suite ${file}: ${i ? `field "${fieldPath(i.path) || '(top)'}": ${i.message}` : 'invalid'}; expected "categories:" mapping each category to a list of files`,
      'bad_input',
    );
  }
  if (Object.keys(r.data.categories).length === 0)
    throw new GenrmError(`--suite ${file}: field "categories": no categories; expected at least one with its files`, 'bad_input');
  const dir = dirname(file);
  const entries: SuiteEntry[] = [];
  const names = new Map<string, string>();
  for (const [category, list] of Object.entries(r.data.categories)) {
    for (const e of list) {
      const path = typeof e === 'string' ? e : e.path;
      const abs = resolve(dir, path);
      const name = typeof e === 'string' || e.name === undefined ? splitFromFile(path) : e.name;
      const prev = names.get(name);
      if (prev !== undefined)
        throw new GenrmError(
          `--suite ${file}: two files are named "${name}" (${prev} and ${path}); give one of them a "name:"`,
          'bad_input',
        );
      names.set(name, path);
      entries.push({ category, name, file: abs, ...(typeof e !== 'string' && e.weight !== undefined && { weight: e.weight }) });
    }
  }
  return { file, ...(r.data.name !== undefined && { name: r.data.name }), categories: Object.keys(r.data.categories), entries };
}

/** Every file of the suite read through the loaders; its pairs get the entry's split and category. */
export async function readSuiteSets(suite: Suite, o: ReadEvalOptions = {}): Promise<EvalSet[]> {
  return readEvalSets(
    suite.entries.map((e) => e.file),
    { ...o, assign: suite.entries.map((e) => ({ split: e.name, category: e.category })) },
  );
}

export interface SuiteFileScore {
  name: string;
  category: string;
  weight: number;
  /** Pairs scored (gold ties left out). */
  pairs: number;
  accuracy: EstimateJson;
}

export interface SuiteScores {
  method: string;
  files: SuiteFileScore[];
  categories: { category: string; accuracy: EstimateJson }[];
  /** The mean of the categories. */
  score: EstimateJson;
}

/**
 * Per method: each file's accuracy, each category's (its files weighted), and the mean of the
 * categories, with 95 % bootstrap CIs resampling pairs (each pair weighted so the resampled
 * ratio is the same weighted mean).
 */
export function suiteScores(records: readonly JudgeRecord[], suite: Suite, o: BootstrapOptions): SuiteScores[] {
  const methods = [...new Set(records.map((r) => r.method))];
  return methods.map((method) => {
    const bySplit = new Map<string, JudgeRecord[]>();
    for (const r of records) {
      if (r.method !== method || r.tie) continue;
      const s = r.split ?? '';
      let l = bySplit.get(s);
      if (!l) bySplit.set(s, (l = []));
      l.push(r);
    }
    const files = suite.entries.map((e): SuiteFileScore & { recs: JudgeRecord[] } => {
      const recs = bySplit.get(e.name) ?? [];
      const xs = recs.map(pairScore);
      return {
        name: e.name,
        category: e.category,
        weight: e.weight ?? recs.length,
        pairs: recs.length,
        accuracy: json(
          bootstrapRatio(
            xs,
            xs.map(() => 1),
            o,
          ),
        ),
        recs,
      };
    });
    const weighted = (fs: typeof files, share: number): { num: number[]; den: number[] } => {
      const total = fs.reduce((s, f) => s + (f.pairs ? f.weight : 0), 0);
      const num: number[] = [];
      const den: number[] = [];
      for (const f of fs) {
        if (f.pairs === 0 || total === 0) continue;
        const v = (share * f.weight) / f.pairs / total; // each pair's weight: the file's share, split over its pairs
        for (const r of f.recs) {
          num.push(v * pairScore(r));
          den.push(v);
        }
      }
      return { num, den };
    };
    const present = suite.categories.filter((c) => files.some((f) => f.category === c && f.pairs > 0));
    const categories = suite.categories.map((c) => {
      const w = weighted(
        files.filter((f) => f.category === c),
        1,
      );
      return { category: c, accuracy: json(bootstrapRatio(w.num, w.den, o)) };
    });
    const all = present.map((c) =>
      weighted(
        files.filter((f) => f.category === c),
        1 / present.length,
      ),
    );
    const score = json(
      bootstrapRatio(
        all.flatMap((w) => w.num),
        all.flatMap((w) => w.den),
        o,
      ),
    );
    return { method, files: files.map(({ recs: _recs, ...f }) => f), categories, score };
  });
}

/** RewardBench-style: one row per file, one per category, the mean of the categories last. */
export function suiteTable(s: SuiteScores): Table {
  const rows: string[][] = [];
  for (const c of s.categories) {
    for (const f of s.files.filter((x) => x.category === c.category))
      rows.push([c.category, f.name, String(f.pairs), f.pairs ? String(Number(f.weight.toFixed(2))) : '—', fmtEstimate(f.accuracy)]);
    rows.push([c.category, '(category)', '', '', fmtEstimate(c.accuracy)]);
  }
  const n = s.categories.filter((c) => c.accuracy.value !== null).length;
  rows.push([`score: mean of ${n} categor${n === 1 ? 'y' : 'ies'}`, '', '', '', fmtEstimate(s.score)]);
  return { headers: ['category', 'file', 'pairs', 'weight', 'acc % [95% CI]'], rows, numeric: [false, false, true, true, true] };
}
