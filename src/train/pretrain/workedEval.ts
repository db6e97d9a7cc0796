// What the base model knows: the accuracy of its worked solutions on held-out tasks, per family
// and difficulty, in two settings side by side:
//   worked — after the question alone ("What is 47+85?\n"), greedy, the model writes the worked
//            line ("Q: 47+85= W: … =132"); right when the family's checker accepts its result;
//   judge  — inside a CoT judge prompt (the judge format's "Check: " cue, answers A and B, one
//            right, one a near miss), greedy, the model writes the rationale; right when the
//            worked line's result is right (and, reported beside it, when the verdict is).
// The second says whether what pretraining taught is usable by a judge before any judge is
// trained (issue 4 needs this report first). Held-out tasks come from the world's test splits:
// their instances are kept out of the corpus wherever the instance space is large enough.
import { pairPrompt, VERDICT_A, VERDICT_B } from '../../data/judgeFormat.js';
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
}

export interface WorkedReport {
  cells: WorkedCell[];
  /** Means over all cells' tasks. */
  overall: { n: number; worked: number; judgeWorked: number; judgeVerdict: number };
  seconds: number;
}

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

/** A generated CoT judge completion: is its worked line's result right, is its verdict right? */
export function scoreJudge(task: Task, completion: string, rightLabel: 'A' | 'B'): { workedRight: boolean; verdictRight: boolean } {
  const g = gradeRationale(task, completion);
  return { workedRight: g.resultRight, verdictRight: g.verdict === rightLabel };
}

/**
 * Greedy completions of prompts. With `stopTokens` the text includes the stop token (a judge's
 * verdict ends its completion: no need to generate past it, and the grader must see it).
 */
function greedy(model: Llama, tok: Tokenizer, prompts: string[], maxTokens: number, stop: string[], stopTokens?: number[]): string[] {
  const ids = prompts.map((p) => tok.encode(p, { specials: 'parse' }));
  const out = generate(model, tok, ids, { temperature: 0, maxTokens, stop, seed: 0, ...(stopTokens ? { stopTokens } : {}) });
  return out.map((s) => (stopTokens ? tok.decode(s[0]!.tokens) : s[0]!.text));
}

/** Runs both measurements on the given tasks. */
export function workedReport(model: Llama, tok: Tokenizer, spec: Spec, cells: Map<string, Task[]>, seed = 1): WorkedReport {
  const t0 = performance.now();
  const styles = new Styles(spec.styles);
  const rng = new Rng(`pretrain-eval/${seed}`);
  const out: WorkedCell[] = [];
  for (const [key, tasks] of cells) {
    if (tasks.length === 0) continue;
    const [family, d] = key.split(':') as [string, string];
    const longest = Math.max(...tasks.map((t) => tok.encode(t.worked, { specials: 'plain' }).length));
    // The worked line, from the question alone: the corpus has "question\nworked" documents.
    const worked = greedy(model, tok, tasks.map((t) => `${t.prompt}\n`), longest + 16, ['\n']);
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
    const fits = judgePrompts.map((p) => tok.encode(p, { specials: 'parse' }).length + 8 <= model.config.maxSeqLen);
    const verdicts = [tok.eotId, tok.specialId(VERDICT_A), tok.specialId(VERDICT_B)];
    const judged = greedy(model, tok, judgePrompts.filter((_, i) => fits[i]), longest + 64, [], verdicts);
    const cell: WorkedCell = { family, difficulty: Number(d), n: tasks.length, worked: 0, workedExact: 0, judgeN: 0, judgeWorked: 0, judgeVerdict: 0 };
    tasks.forEach((t, i) => {
      const w = scoreWorked(t, worked[i]!);
      cell.worked += +w.right;
      cell.workedExact += +w.exact;
      if (!fits[i]) return;
      const j = scoreJudge(t, judged[cell.judgeN++]!, rightLabels[i]!);
      cell.judgeWorked += +j.workedRight;
      cell.judgeVerdict += +j.verdictRight;
    });
    cell.worked /= cell.n;
    cell.workedExact /= cell.n;
    cell.judgeWorked = cell.judgeN ? cell.judgeWorked / cell.judgeN : NaN;
    cell.judgeVerdict = cell.judgeN ? cell.judgeVerdict / cell.judgeN : NaN;
    out.push(cell);
  }
  const n = out.reduce((a, c) => a + c.n, 0);
  const nj = out.reduce((a, c) => a + c.judgeN, 0);
  const mean = (k: 'worked' | 'judgeWorked' | 'judgeVerdict'): number => {
    const w = (c: WorkedCell): number => (k === 'worked' ? c.n : c.judgeN);
    const total = k === 'worked' ? n : nj;
    return total ? out.reduce((a, c) => a + (w(c) ? c[k] * w(c) : 0), 0) / total : NaN;
  };
  return { cells: out, overall: { n, worked: mean('worked'), judgeWorked: mean('judgeWorked'), judgeVerdict: mean('judgeVerdict') }, seconds: (performance.now() - t0) / 1000 };
}

/** The report as a fixed-width table. */
export function formatWorkedReport(r: WorkedReport): string {
  const pct = (x: number): string => (Number.isNaN(x) ? '    -' : `${(100 * x).toFixed(0).padStart(4)}%`);
  const lines = ['family      diff    n   worked  (exact)   in-judge  verdict'];
  for (const c of r.cells) lines.push(`${c.family.padEnd(11)} ${String(c.difficulty).padStart(4)} ${String(c.n).padStart(4)}    ${pct(c.worked)}   ${pct(c.workedExact)}     ${pct(c.judgeWorked)}   ${pct(c.judgeVerdict)}`);
  lines.push(`overall          ${String(r.overall.n).padStart(4)}    ${pct(r.overall.worked)}             ${pct(r.overall.judgeWorked)}   ${pct(r.overall.judgeVerdict)}`);
  return lines.join('\n');
}
