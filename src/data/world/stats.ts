// `genrm world stats`: what a generated world holds, and the checks that its shifts are real:
// counts, the style–label correlation per split, the shortcut baseline's accuracy, the overlap
// of test instances with train and the corpus, and the byte length of CoT judge examples.
import { join } from 'node:path';
import type { PreferencePair } from '../pair.js';
import { readPairsAll } from '../pair.js';
import { readJsonlAll } from '../jsonl.js';
import { CorpusDocSchema, type CorpusDoc } from './corpus.js';
import { registry } from './families.js';
import { CORPUS_FILE, loadSpec, SPLIT_FILES } from './generate.js';
import { instanceId, reservedLevels, type WorldMeta } from './pairs.js';
import { pairExample } from './rationale.js';
import { shortcutAccuracy, trainShortcut } from './shortcut.js';
import type { Spec } from './spec.js';
import { Styles, isPleasant } from './styles.js';

type Counts = Record<string, number>;
const inc = (c: Counts, k: string): void => {
  c[k] = (c[k] ?? 0) + 1;
};

export interface SplitStats {
  pairs: number;
  byCategory: Counts;
  byFamily: Counts;
  byDifficulty: Counts; // "family:difficulty"
  byShift: Counts;
  byStyleLink: Counts;
  noisy: number;
  style: {
    /** Share of pairs whose two answers differ in pleasantness. */
    differ: number;
    /** Among those, the share with the pleasant style on the chosen side (2/3 in train by default). */
    chosenPleasantWhenDiffer: number;
    /** Pearson correlation, over all answers, between "pleasant" and "chosen". */
    correlation: number;
  };
}

export interface OverlapRow {
  space: number;
  /** Test instances at this level are reserved (kept out of train and corpus). */
  reserved: boolean;
  testInstances: number;
  inCorpus: number;
  inTrain: number;
}

export interface WorldStats {
  dir: string;
  spec: { name: string; version: number; seed: number; size: string };
  splits: Record<string, SplitStats>;
  shortcut: { features: readonly string[]; weights: number[]; accuracy: Record<string, number> };
  overlap: { rows: Record<string, OverlapRow>; reservedInCorpus: number; reservedInTrain: number };
  judgeBytes: Record<string, { n: number; p95: number; max: number }>;
  corpus: { docs: number; bytes: number; byKind: Counts; byFamily: Counts };
}

const meta = (p: PreferencePair): WorldMeta => p.meta as unknown as WorldMeta;

function pearson(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n === 0) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
}

export function splitStats(pairs: readonly PreferencePair[], styles: Styles): SplitStats {
  const s: SplitStats = {
    pairs: pairs.length,
    byCategory: {},
    byFamily: {},
    byDifficulty: {},
    byShift: {},
    byStyleLink: {},
    noisy: 0,
    style: { differ: 0, chosenPleasantWhenDiffer: NaN, correlation: NaN },
  };
  const x: number[] = [];
  const y: number[] = [];
  let differ = 0;
  let chosenP = 0;
  for (const p of pairs) {
    const m = meta(p);
    inc(s.byCategory, p.category ?? '?');
    inc(s.byFamily, p.subset ?? '?');
    inc(s.byDifficulty, `${p.subset}:${m.difficulty}`);
    for (const sh of m.shift.length ? m.shift : ['(none)']) inc(s.byShift, sh);
    inc(s.byStyleLink, m.styleLink);
    if (m.noisy) s.noisy++;
    // Pleasantness read from the text itself, as a reader would see it.
    const pc = styles.parse(p.chosen);
    const pr = styles.parse(p.rejected);
    const a = pc ? isPleasant(pc.style) : false;
    const b = pr ? isPleasant(pr.style) : false;
    x.push(a ? 1 : 0, b ? 1 : 0);
    y.push(1, 0);
    if (a !== b) {
      differ++;
      if (a) chosenP++;
    }
  }
  s.style = {
    differ: pairs.length ? differ / pairs.length : NaN,
    chosenPleasantWhenDiffer: differ ? chosenP / differ : NaN,
    correlation: pearson(x, y),
  };
  return s;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

export function computeStats(dir: string, spec: Spec, splits: Record<string, PreferencePair[]>, corpus: readonly CorpusDoc[]): WorldStats {
  const styles = new Styles(spec.styles);
  const reg = registry(spec);
  const train = splits['train'] ?? [];
  const ood = splits['test-ood'] ?? [];

  const model = trainShortcut(train, spec.styles);
  const accuracy: Record<string, number> = {};
  for (const [name, pairs] of Object.entries(splits)) accuracy[name] = shortcutAccuracy(model, pairs, spec.styles);
  for (const link of ['independent', 'reversed'] as const)
    accuracy[`test-ood/style-${link}`] = shortcutAccuracy(
      model,
      ood.filter((p) => meta(p).styleLink === link),
      spec.styles,
    );
  for (const sh of ['family', 'topic', 'style', 'format', 'difficulty'])
    accuracy[`test-ood/shift-${sh}`] = shortcutAccuracy(
      model,
      ood.filter((p) => meta(p).shift.includes(sh as never)),
      spec.styles,
    );
  accuracy['test-ood/control'] = shortcutAccuracy(
    model,
    ood.filter((p) => meta(p).shift.length === 0),
    spec.styles,
  );

  // Overlap of test instances with the corpus and with train, per family:difficulty.
  const corpusInst = new Set(corpus.filter((d) => d.kind !== 'fact').map((d) => instanceId(d.family, d.instance)));
  const trainInst = new Set(train.map((p) => instanceId(p.subset as string, meta(p).instance)));
  const rows: Record<string, OverlapRow> = {};
  const levels = reservedLevels(spec, reg, [...(splits['test-id'] ?? []), ...ood]);
  let reservedInCorpus = 0;
  let reservedInTrain = 0;
  for (const split of ['test-id', 'test-ood']) {
    for (const p of splits[split] ?? []) {
      const m = meta(p);
      const fam = reg.get(p.subset as string);
      const k = `${fam.name}:${m.difficulty}`;
      const space = fam.spaceSize(m.difficulty);
      const row = (rows[k] ??= { space, reserved: levels.has(k), testInstances: 0, inCorpus: 0, inTrain: 0 });
      const id = instanceId(fam.name, m.instance);
      row.testInstances++;
      if (corpusInst.has(id)) {
        row.inCorpus++;
        if (row.reserved) reservedInCorpus++;
      }
      if (trainInst.has(id)) {
        row.inTrain++;
        if (row.reserved) reservedInTrain++;
      }
    }
  }

  // Byte length of a whole CoT judge example (prompt + rationale + verdict), per family.
  const lens = new Map<string, number[]>();
  for (const pairs of Object.values(splits)) {
    for (const p of pairs) {
      const task = reg.task(p.subset as string, meta(p).instance);
      const ex = pairExample(task, styles, p.chosen, p.rejected, 'A', 'cot');
      const l = lens.get(task.family) ?? [];
      l.push(Buffer.byteLength(ex.prompt + ex.target));
      lens.set(task.family, l);
    }
  }
  for (const d of corpus) {
    if (d.kind !== 'judge') continue;
    const l = lens.get(`demo:${d.family}`) ?? [];
    l.push(Buffer.byteLength(d.text));
    lens.set(`demo:${d.family}`, l);
  }
  const judgeBytes: WorldStats['judgeBytes'] = {};
  for (const [fam, l] of [...lens].sort()) {
    l.sort((a, b) => a - b);
    judgeBytes[fam] = { n: l.length, p95: quantile(l, 0.95), max: l[l.length - 1] as number };
  }

  const byKind: Counts = {};
  const byFamily: Counts = {};
  let bytes = 0;
  for (const d of corpus) {
    inc(byKind, d.kind);
    inc(byFamily, d.family);
    bytes += Buffer.byteLength(d.text);
  }

  const splitOut: Record<string, SplitStats> = {};
  for (const [name, pairs] of Object.entries(splits)) splitOut[name] = splitStats(pairs, styles);
  return {
    dir,
    spec: { name: spec.name, version: spec.version, seed: spec.seed, size: spec.size },
    splits: splitOut,
    shortcut: { features: model.features, weights: model.weights, accuracy },
    overlap: { rows, reservedInCorpus, reservedInTrain },
    judgeBytes,
    corpus: { docs: corpus.length, bytes, byKind, byFamily },
  };
}

/** Reads a generated world folder (validating every record) and computes its stats. */
export async function worldStats(dir: string): Promise<WorldStats> {
  const spec = loadSpec(dir);
  const splits: Record<string, PreferencePair[]> = {};
  for (const [split, file] of Object.entries(SPLIT_FILES)) splits[split] = await readPairsAll(join(dir, file));
  const corpus = await readJsonlAll(join(dir, CORPUS_FILE), CorpusDocSchema);
  return computeStats(dir, spec, splits, corpus);
}
