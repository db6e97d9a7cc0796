// What the base model knows: the accuracy of its worked solutions on held-out tasks, per family
// and difficulty, in two settings side by side:
//   worked — after the question alone ("What is 47+85?\n"), greedy, the model writes the worked
//            line ("Q: 47+85= W: … =132"); right when the family's checker accepts its result;
//   judge  — inside a CoT judge prompt (the judge format's "Check: " cue, answers A and B, one
//            right, one a near miss), greedy, the model writes the rationale; right when the
//            worked line's result is right (and, reported beside it, when the verdict is).
// For zero-shot CoT judging, greedy and sampled (the paper's T 1, top-p 0.95), it also reports
// the share of completions that end in a verdict and the share whose check agrees with their own
// worked result: what decides whether a judge's verdict can follow from its reasoning.
// The second says whether what pretraining taught is usable by a judge before any judge is
// trained (issue 4 needs this report first). Held-out tasks come from the world's test splits:
// their instances are kept out of the corpus wherever the instance space is large enough.
import { join } from 'node:path';
import { pairPrompt, VERDICT_A, VERDICT_B } from '../../data/judgeFormat.js';
import { writeFileAtomic } from '../../engine/atomic.js';
import type { PreferencePair } from '../../data/pair.js';
import { registry } from '../../data/world/families.js';
import { gradeRationale } from '../../data/world/rationale.js';
import { Rng } from '../../data/world/rng.js';
import type { Spec } from '../../data/world/spec.js';
import { Styles } from '../../data/world/styles.js';
import { workedResult, type Task } from '../../data/world/task.js';
import type { Llama } from '../../engine/model/index.js';
import { generate } from '../../engine/sampling/index.js';
import type { Tokenizer } from '../../engine/tokenizer/index.js';

export interface WorkedCell {
  family: string;
  difficulty: number;
  n: number;
  /** Worked line after the question: result right. */
  worked: number;
  /** Worked line after the question: exactly the reference line. */
  workedExact: number;
  /** Tasks whose judge prompt fits the context (the judge rates are over these). */
  judgeN: number;
  /** Inside a CoT judge rationale: the worked line's result right. */
  judgeWorked: number;
  /** Inside a CoT judge rationale: the verdict right. */
  judgeVerdict: number;
  /** Greedy CoT: the completion ends in a verdict. */
  judgeHasVerdict: number;
  /** Greedy CoT: both checks agree with the rationale's own worked result (gradeRationale's checksConsistent). */
  judgeConsistent: number;
  /** Sampled CoT completions (samples per task × judged tasks). */
  sampledN: number;
  /** Sampled CoT: with a verdict, consistent checks, right verdict. */
  sampledHasVerdict: number;
  sampledConsistent: number;
  sampledVerdict: number;
}

/** Report-wide rates: each a mean over the cells' tasks (judge rates over judged tasks, sampled over samples). */
export type WorkedOverall = Omit<WorkedCell, 'family' | 'difficulty' | 'workedExact' | 'judgeN'>;

export interface WorkedReport {
  cells: WorkedCell[];
  overall: WorkedOverall;
  /** Sampled CoT completions per task (0: none sampled) and their settings. */
  sampling: { samples: number; temperature: number; topP: number };
  seconds: number;
}

/** Goals of world spec v5 for the zero-shot CoT judge (issue 20): a verdict in ≥ 95 % of samples, checks agreeing with the worked result in ≥ 90 %. */
export const WORKED_GOALS = { hasVerdict: 0.95, consistent: 0.9 } as const;

/** Up to `perCell` distinct held-out tasks per (family, difficulty) from the test splits' pairs. */
export function heldOutTasks(spec: Spec, pairs: readonly PreferencePair[], perCell: number): Map<string, Task[]> {
  const reg = registry(spec);
  const cells = new Map<string, Task[]>();
  const seen = new Set<string>();
  for (const p of pairs) {
    const family = p.subset;
    const instance = p.meta?.instance;
    if (typeof family !== 'string' || typeof instance !== 'string' || !reg.all.has(family)) continue;
    if (seen.has(`${family}:${instance}`)) continue;
    seen.add(`${family}:${instance}`);
    const task = reg.task(family, instance);
    const key = `${family}:${task.difficulty}`;
    const list = cells.get(key) ?? [];
    if (list.length < perCell) list.push(task);
    cells.set(key, list);
  }
  return new Map([...cells.entries()].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })));
}

/** A generated worked line: is its result right (the family's checker), is it the reference line? */
export function scoreWorked(task: Task, text: string): { right: boolean; exact: boolean } {
  const r = workedResult(text);
  return { right: r !== null && task.check(r), exact: text === task.worked };
}

/** A generated CoT judge completion: its worked result, verdict, whether it has one, whether its checks agree with its result. */
export function scoreJudge(
  task: Task,
  completion: string,
  rightLabel: 'A' | 'B',
): { workedRight: boolean; verdictRight: boolean; hasVerdict: boolean; consistent: boolean } {
  const g = gradeRationale(task, completion);
  return {
    workedRight: g.resultRight,
    verdictRight: g.verdict === rightLabel,
    hasVerdict: g.verdict !== null,
    consistent: g.checksConsistent,
  };
}

/**
 * Greedy completions of prompts. With `stopTokens` the text includes the stop token (a judge's
 * verdict ends its completion: no need to generate past it, and the grader must see it).
 */
function greedy(model: Llama, tok: Tokenizer, ids: number[][], maxTokens: number, stop: string[], stopTokens?: number[]): string[] {
  const out = generate(model, tok, ids, { temperature: 0, maxTokens, stop, seed: 0, ...(stopTokens ? { stopTokens } : {}) });
  return out.map((s) => (stopTokens ? tok.decode(s[0]!.tokens) : s[0]!.text));
}

export interface WorkedReportOptions {
  seed?: number;
  /** Sampled zero-shot CoT completions per task (T 1, top-p 0.95, the paper's): 0 skips them. */
  samples?: number;
}

/** Sampling settings of the sampled CoT rates: the paper's. */
const SAMPLING = { temperature: 1, topP: 0.95 } as const;

/** Runs both measurements on the given tasks. */
export function workedReport(
  model: Llama,
  tok: Tokenizer,
  spec: Spec,
  cells: Map<string, Task[]>,
  opts: WorkedReportOptions = {},
): WorkedReport {
  const seed = opts.seed ?? 1;
  const samples = opts.samples ?? 0;
  const t0 = performance.now();
  const styles = new Styles(spec.styles);
  const rng = new Rng(`pretrain-eval/${seed}`);
  const out: WorkedCell[] = [];
  for (const [key, tasks] of cells) {
    if (tasks.length === 0) continue;
    const [family, d] = key.split(':') as [string, string];
    const longest = Math.max(...tasks.map((t) => tok.encode(t.worked, { specials: 'plain' }).length));
    // The worked line, from the question alone: the corpus has "question\nworked" documents.
    const encode = (p: string): number[] => tok.encode(p, { specials: 'parse' });
    const worked = greedy(
      model,
      tok,
      tasks.map((t) => encode(`${t.prompt}\n`)),
      longest + 16,
      ['\n'],
    );
    // The same inside a judge rationale: the right answer and a near miss, in random order and style.
    const judgePrompts: string[] = [];
    const rightLabels: Array<'A' | 'B'> = [];
    for (const t of tasks) {
      const wrong = t.wrong(rng, 'near') ?? t.wrong(rng, 'far');
      const right = styles.render(t, t.answer, styles.sample(rng, t, 'train', null));
      const bad = styles.render(t, wrong ? wrong.core : t.answer, styles.sample(rng, t, 'train', null));
      const rightFirst = rng.bool();
      judgePrompts.push(pairPrompt({ question: t.prompt, answerA: rightFirst ? right : bad, answerB: rightFirst ? bad : right }, 'cot'));
      rightLabels.push(rightFirst ? 'A' : 'B');
    }
    // A small context (the tiny preset) cannot hold every judge prompt: those are left out.
    const judgeIds = judgePrompts.map(encode);
    const fits = judgeIds.map((ids) => ids.length + 8 <= model.config.maxSeqLen);
    const verdicts = [tok.eotId, tok.specialId(VERDICT_A), tok.specialId(VERDICT_B)];
    const fitting = judgeIds.filter((_, i) => fits[i]);
    const judged = greedy(model, tok, fitting, longest + 64, [], verdicts);
    const sampled = samples > 0 && fitting.length > 0 ? sample(model, tok, fitting, samples, longest + 64, verdicts, seed) : [];
    const cell: WorkedCell = {
      family,
      difficulty: Number(d),
      n: tasks.length,
      worked: 0,
      workedExact: 0,
      judgeN: 0,
      judgeWorked: 0,
      judgeVerdict: 0,
      judgeHasVerdict: 0,
      judgeConsistent: 0,
      sampledN: 0,
      sampledHasVerdict: 0,
      sampledConsistent: 0,
      sampledVerdict: 0,
    };
    tasks.forEach((t, i) => {
      const w = scoreWorked(t, worked[i]!);
      cell.worked += +w.right;
      cell.workedExact += +w.exact;
      if (!fits[i]) return;
      const k = cell.judgeN++;
      const j = scoreJudge(t, judged[k]!, rightLabels[i]!);
      cell.judgeWorked += +j.workedRight;
      cell.judgeVerdict += +j.verdictRight;
      cell.judgeHasVerdict += +j.hasVerdict;
      cell.judgeConsistent += +j.consistent;
      for (const text of sampled[k] ?? []) {
        const sj = scoreJudge(t, text, rightLabels[i]!);
        cell.sampledN++;
        cell.sampledHasVerdict += +sj.hasVerdict;
        cell.sampledConsistent += +sj.consistent;
        cell.sampledVerdict += +sj.verdictRight;
      }
    });
    cell.worked /= cell.n;
    cell.workedExact /= cell.n;
    for (const k of ['judgeWorked', 'judgeVerdict', 'judgeHasVerdict', 'judgeConsistent'] as const)
      cell[k] = cell.judgeN ? cell[k] / cell.judgeN : NaN;
    for (const k of ['sampledHasVerdict', 'sampledConsistent', 'sampledVerdict'] as const)
      cell[k] = cell.sampledN ? cell[k] / cell.sampledN : NaN;
    out.push(cell);
  }
  // Each rate weighted by what it is a share of: tasks, judged tasks or samples.
  const weightOf =
    (k: keyof WorkedOverall) =>
    (c: WorkedCell): number =>
      k === 'worked' ? c.n : k.startsWith('sampled') ? c.sampledN : c.judgeN;
  const mean = (k: Exclude<keyof WorkedOverall, 'n' | 'sampledN'>): number => {
    const w = weightOf(k);
    const total = out.reduce((a, c) => a + w(c), 0);
    return total ? out.reduce((a, c) => a + (w(c) ? c[k] * w(c) : 0), 0) / total : NaN;
  };
  const overall: WorkedOverall = {
    n: out.reduce((a, c) => a + c.n, 0),
    worked: mean('worked'),
    judgeWorked: mean('judgeWorked'),
    judgeVerdict: mean('judgeVerdict'),
    judgeHasVerdict: mean('judgeHasVerdict'),
    judgeConsistent: mean('judgeConsistent'),
    sampledN: out.reduce((a, c) => a + c.sampledN, 0),
    sampledHasVerdict: mean('sampledHasVerdict'),
    sampledConsistent: mean('sampledConsistent'),
    sampledVerdict: mean('sampledVerdict'),
  };
  return { cells: out, overall, sampling: { samples, ...SAMPLING }, seconds: (performance.now() - t0) / 1000 };
}

/** `n` sampled completions per prompt (to the verdict token or end of text), as text. */
function sample(
  model: Llama,
  tok: Tokenizer,
  ids: number[][],
  n: number,
  maxTokens: number,
  stopTokens: number[],
  seed: number,
): string[][] {
  const out = generate(model, tok, ids, { n, ...SAMPLING, maxTokens, seed, stopTokens });
  return out.map((row) => row.map((s) => tok.decode(s.tokens)));
}

export const WORKED_REPORT_FILES = { json: 'worked-report.json', text: 'worked-report.txt' } as const;

/** Writes worked-report.json and worked-report.txt into a checkpoint folder. */
export function writeWorkedReport(dir: string, r: WorkedReport): void {
  writeFileAtomic(join(dir, WORKED_REPORT_FILES.json), JSON.stringify(r, null, 2) + '\n');
  writeFileAtomic(
    join(dir, WORKED_REPORT_FILES.text),
    `worked solutions on held-out tasks (greedy; ${r.seconds.toFixed(0)} s):\n${formatWorkedReport(r)}\n`,
  );
}

/** The report as a fixed-width table, then the zero-shot CoT rates against their goals. */
export function formatWorkedReport(r: WorkedReport): string {
  const pct = (x: number): string => (Number.isNaN(x) ? '    -' : `${(100 * x).toFixed(0).padStart(4)}%`);
  const sampledCols = r.sampling.samples > 0;
  const head =
    'family      diff    n   worked  (exact)   in-judge  verdict   has-v  consist' + (sampledCols ? '   s:has-v s:consist s:verdict' : '');
  const row = (
    c: Pick<
      WorkedCell,
      | 'worked'
      | 'judgeWorked'
      | 'judgeVerdict'
      | 'judgeHasVerdict'
      | 'judgeConsistent'
      | 'sampledHasVerdict'
      | 'sampledConsistent'
      | 'sampledVerdict'
    >,
    exact: string,
  ): string =>
    `${pct(c.worked)}   ${exact}     ${pct(c.judgeWorked)}   ${pct(c.judgeVerdict)}   ${pct(c.judgeHasVerdict)}   ${pct(c.judgeConsistent)}` +
    (sampledCols ? `     ${pct(c.sampledHasVerdict)}     ${pct(c.sampledConsistent)}     ${pct(c.sampledVerdict)}` : '');
  const lines = [head];
  for (const c of r.cells)
    lines.push(`${c.family.padEnd(11)} ${String(c.difficulty).padStart(4)} ${String(c.n).padStart(4)}    ${row(c, pct(c.workedExact))}`);
  lines.push(`overall          ${String(r.overall.n).padStart(4)}    ${row(r.overall, '     ')}`);
  const o = r.overall;
  const goal = (x: number, g: number): string => `${pct(x).trim()} (goal ≥ ${(100 * g).toFixed(0)}%${x >= g ? ', met' : ''})`;
  lines.push('');
  lines.push(
    `zero-shot CoT, greedy: a verdict in ${goal(o.judgeHasVerdict, WORKED_GOALS.hasVerdict)}, checks agree with the worked result in ${goal(o.judgeConsistent, WORKED_GOALS.consistent)}, verdict right ${pct(o.judgeVerdict).trim()}`,
  );
  if (sampledCols)
    lines.push(
      `zero-shot CoT, sampled (${o.sampledN} samples: ${r.sampling.samples} per task, T ${r.sampling.temperature}, top-p ${r.sampling.topP}): a verdict in ${goal(o.sampledHasVerdict, WORKED_GOALS.hasVerdict)}, checks agree in ${goal(o.sampledConsistent, WORKED_GOALS.consistent)}, verdict right ${pct(o.sampledVerdict).trim()}`,
    );
  return lines.join('\n');
}
