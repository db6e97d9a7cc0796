// Judge examples for PrefWorld pairs in the judge format (src/data/judgeFormat.ts): the
// rationale restates the question and solves it in the corpus's worked layout, checks each
// answer against the result in so many words, then the verdict. Also the other direction: how
// right a generated rationale is ("right for the right reason").
import {
  type AnswerCheck,
  type PairMode,
  type PairLabel,
  pairPrompt,
  pairTarget,
  parseRationale,
  parseVerdict,
  pointPrompt,
  pointTarget,
  rationaleText,
} from '../judgeFormat.js';
import type { Styles } from './styles.js';
import { type Task, workedResult } from './task.js';

/** What an answer text says, as the rationale quotes it: its core, or "nothing" if unreadable. */
export function says(styles: Styles, text: string): string {
  return styles.parse(text)?.core ?? 'nothing';
}

/** The reference check of one answer: its value beside the worked result, right or wrong. */
export function answerCheck(task: Task, styles: Styles, label: string, text: string): AnswerCheck {
  const value = says(styles, text);
  return { label, says: value, result: workedResult(task.worked) ?? task.answer, matches: task.check(value) };
}

/** The reference rationale for answers A and B of a task. */
export function pairRationale(task: Task, styles: Styles, answerA: string, answerB: string): string {
  return rationaleText(task.worked, [answerCheck(task, styles, 'A', answerA), answerCheck(task, styles, 'B', answerB)]);
}

/** A whole pairwise judge example (prompt + target) with the right verdict. */
export function pairExample(
  task: Task,
  styles: Styles,
  answerA: string,
  answerB: string,
  verdict: PairLabel,
  mode: PairMode,
): { prompt: string; target: string } {
  const ex = { question: task.prompt, answerA, answerB };
  const prompt = pairPrompt(ex, mode, mode === 'rationalize' ? verdict : undefined);
  const target =
    mode === 'direct' ? pairTarget('direct', verdict) : pairTarget(mode, verdict, pairRationale(task, styles, answerA, answerB));
  return { prompt, target };
}

/** A pointwise ("is this answer right?") example. */
export function pointExample(task: Task, styles: Styles, answer: string, mode: 'direct' | 'cot'): { prompt: string; target: string } {
  const check = answerCheck(task, styles, 'It', answer);
  const right = check.matches;
  const rationale = rationaleText(task.worked, [check]);
  return {
    prompt: pointPrompt({ question: task.prompt, answer }, mode),
    target: pointTarget(mode, right ? 'YES' : 'NO', mode === 'cot' ? rationale : undefined),
  };
}

/**
 * Probes of the base model's worked-solution skill in its native layout and inside a judge
 * rationale (genrm pretrain reports both; they should match). Each prompt ends where the model
 * must write the worked line; `expected` is that line (compare the generated line up to "\n").
 */
export function layoutProbes(task: Task, answerA: string, answerB: string): { native: string; inJudge: string; expected: string } {
  return {
    native: `${task.prompt}\n`,
    inJudge: pairPrompt({ question: task.prompt, answerA, answerB }, 'cot'),
    expected: task.worked,
  };
}

export interface RationaleGrade {
  verdict: PairLabel | null;
  /** The worked line restates the question in the family's own layout: its head (up to " W:") is the reference's. */
  restated: boolean;
  /** The worked line is exactly the reference one (question restated and solved in the layout). */
  workedExact: boolean;
  /** The rationale's own result is right (checked by the family's checker). */
  resultRight: boolean;
  /** Both checks are present and each says "matches" exactly when its quoted core equals the rationale's result. */
  checksConsistent: boolean;
  /** The verdict names the answer the rationale's own checks accepted (and only that one). */
  verdictFollows: boolean;
}

/** A worked line's restated question: "Q: 47+85=" of "Q: 47+85= W: … =132" (the whole line if it has no " W:"). */
function workedHead(worked: string): string {
  const w = worked.indexOf(' W:');
  return w < 0 ? worked : worked.slice(0, w);
}

/** Right for the right reason: the rationale's result is right, its checks agree with that result, and the verdict follows them. */
export function rightForRightReason(g: RationaleGrade): boolean {
  return g.resultRight && g.checksConsistent && g.verdictFollows;
}

/** Grades a generated CoT completion against the task: is it right, and for the right reason? */
export function gradeRationale(task: Task, completion: string): RationaleGrade {
  const r = parseRationale(completion);
  const verdict = parseVerdict(completion);
  const a = r.checks.find((c) => c.label === 'A');
  const b = r.checks.find((c) => c.label === 'B');
  const checksConsistent = !!a && !!b && r.result !== null && a.matches === (a.says === r.result) && b.matches === (b.says === r.result);
  const verdictFollows = !!a && !!b && verdict !== null && a.matches !== b.matches && (verdict === 'A') === a.matches;
  return {
    verdict,
    restated: r.worked !== null && workedHead(r.worked) === workedHead(task.worked),
    workedExact: r.worked === task.worked,
    resultRight: r.result !== null && task.check(r.result),
    checksConsistent,
    verdictFollows,
  };
}
