// Records → the results object: every method's numbers per split and group, the claims, and what
// could not be computed (with the reason) — a metric the records cannot support is left out,
// never a failed run.
import type { JudgeRecord } from './records.js';
import { NotesSchema, type Group, type MethodResult, type Notes, type Omitted, type Results } from './results.js';
import { accuracy, groupRecords, invalidRate } from './metrics/accuracy.js';
import { DEFAULT_BOOTSTRAP, type BootstrapOptions } from './metrics/bootstrap.js';
import { calibration } from './metrics/calibration.js';
import { evaluateClaims } from './metrics/claims.js';
import { DEFAULT_KS, majAtK } from './metrics/majority.js';
import { orderMetrics } from './metrics/order.js';
import { evaluateGoals } from './metrics/goals.js';
import { rationaleGrades, rightReason } from './metrics/reasons.js';
import { majScore, pairScore, samplesOf } from './metrics/scores.js';
import type { z } from 'zod';

export interface EvaluateOptions {
  bootstrap?: BootstrapOptions;
  ks?: readonly number[];
  splits?: { id: string; ood: string };
  /** "≈" tolerance for the GenRM ≈ BT claim. 0.05: five accuracy points, the spread of the paper's own BT runs (73–74) plus room for a small test set. */
  equivalenceMargin?: number;
  notes?: z.input<typeof NotesSchema>;
  /** Timestamp written into results (tests pin it). */
  now?: Date;
}

const SPLIT_ORDER = ['train', 'test-id', 'test-ood'];
const splitRank = (s: string): number => (SPLIT_ORDER.includes(s) ? SPLIT_ORDER.indexOf(s) : SPLIT_ORDER.length);

/** method → iteration (−1: none) → records; duplicate pairs within one run are an error. */
function runsOf(records: readonly JudgeRecord[]): Map<string, Map<number, JudgeRecord[]>> {
  const out = new Map<string, Map<number, JudgeRecord[]>>();
  const seen = new Set<string>();
  for (const r of records) {
    const it = r.iteration ?? -1;
    const key = `${r.method}\u0000${it}\u0000${r.pairId}`;
    if (seen.has(key))
      throw new RangeError(`eval: pair "${r.pairId}" appears twice for method "${r.method}"${it >= 0 ? ` iteration ${it}` : ''}`);
    seen.add(key);
    let m = out.get(r.method);
    if (!m) out.set(r.method, (m = new Map()));
    let list = m.get(it);
    if (!list) m.set(it, (list = []));
    list.push(r);
  }
  return out;
}

function bySplit(records: readonly JudgeRecord[]): [string, JudgeRecord[]][] {
  const m = new Map<string, JudgeRecord[]>();
  for (const r of records) {
    const s = r.split ?? 'unsplit';
    let l = m.get(s);
    if (!l) m.set(s, (l = []));
    l.push(r);
  }
  return [...m].sort(([a], [b]) => splitRank(a) - splitRank(b) || a.localeCompare(b));
}

function methodResult(
  method: string,
  runs: Map<number, JudgeRecord[]>,
  o: BootstrapOptions,
  ks: readonly number[],
  omitted: Omitted[],
): { result: MethodResult; final: JudgeRecord[] } {
  const its = [...runs.keys()].sort((a, b) => a - b);
  const lastIt = its[its.length - 1]!;
  const all = runs.get(lastIt)!;
  const final = all.filter((r) => !r.tie);
  const mode = all[0]!.mode;
  const groups: Group[] = [];
  for (const [split, recs] of bySplit(final)) {
    for (const [key, g] of groupRecords(recs)) {
      const group: Group = { split, by: key.by, value: key.value, accuracy: accuracy(g, o), invalidRate: invalidRate(g) };
      const grades = rationaleGrades(g, o);
      if (grades) group.grades = grades;
      if (key.by === 'all') {
        const maj = majAtK(g, o, ks);
        if (maj.maxSamples > 1) group.majAtK = maj.curve;
        else omitted.push({ method, split, metric: 'maj@k', reason: `one verdict per order (${mode} judge): nothing to vote over` });
        if (mode === 'scalar')
          omitted.push({
            method,
            split,
            metric: 'order effects',
            reason: 'a scalar reward model scores each answer alone: it has no order',
          });
        else {
          group.order = orderMetrics(g, o);
          if (!g.some((r) => r.chosenFirst && r.chosenSecond))
            omitted.push({ method, split, metric: 'order-swap agreement', reason: 'each pair was judged in one order only' });
        }
        const cal = calibration(g, o);
        if (cal) group.calibration = cal;
        else
          omitted.push({
            method,
            split,
            metric: 'calibration (Brier, ECE)',
            reason: 'the records carry no probability (a vote-counting or verdict-only judge)',
          });
        const rr = rightReason(g, o);
        if (rr) group.reason = rr;
        else if (mode === 'cot')
          omitted.push({
            method,
            split,
            metric: 'right for the right reason',
            reason: 'no rationale was graded (the data cannot check a rationale, or grading was off)',
          });
      }
      groups.push(group);
    }
  }
  const iterations: MethodResult['iterations'] = [];
  if (its.some((i) => i >= 0)) {
    // Every iteration at the same number of votes (earlier ones may have been judged with fewer: repro's iterationVotes).
    const votes = Math.min(...its.flatMap((it) => runs.get(it)!.map(samplesOf)));
    const score = (r: JudgeRecord): number => (r.pChosen !== undefined ? pairScore(r) : majScore(r, votes));
    for (const it of its) {
      for (const [split, recs] of bySplit(runs.get(it)!.filter((r) => !r.tie)))
        iterations.push({ iteration: it, split, votes, accuracy: accuracy(recs, o, score) });
    }
  }
  const samples = final.length
    ? Math.max(...final.map((r) => Math.max(r.chosenFirst?.verdicts.length ?? 0, r.chosenSecond?.verdicts.length ?? 0)))
    : 0;
  return {
    result: {
      method,
      mode,
      ...(lastIt >= 0 ? { iteration: lastIt } : {}),
      samples,
      groups,
      iterations,
      tiesExcluded: all.length - final.length,
    },
    final,
  };
}

/** Compute every metric the records support. Methods keep the order they first appear in. */
export function evaluate(records: readonly JudgeRecord[], opts: EvaluateOptions = {}): Results {
  const o = opts.bootstrap ?? DEFAULT_BOOTSTRAP;
  const ks = opts.ks ?? DEFAULT_KS;
  const splits = opts.splits ?? { id: 'test-id', ood: 'test-ood' };
  const margin = opts.equivalenceMargin ?? 0.05;
  const omitted: Omitted[] = [];
  const methods: MethodResult[] = [];
  const finals = new Map<string, JudgeRecord[]>();
  for (const [method, runs] of runsOf(records)) {
    const { result, final } = methodResult(method, runs, o, ks, omitted);
    methods.push(result);
    finals.set(method, final);
  }
  const claims = evaluateClaims({ records: finals, splits, bootstrap: o, margin });
  return {
    version: 2,
    createdAt: (opts.now ?? new Date()).toISOString(),
    settings: { bootstrap: { resamples: o.resamples, seed: o.seed, level: o.level }, ks: [...ks], splits, equivalenceMargin: margin },
    methods,
    claims,
    goals: evaluateGoals({ records: finals, methods, splits, bootstrap: o }),
    omitted,
    notes: NotesSchema.parse(opts.notes ?? {}),
    bon: [],
    overopt: [],
  };
}

export type { Notes };
