// THE judge format (docs/ARCHITECTURE.md, Contracts): how genrm's own small models see a judge example. Pure text
// functions, no I/O; used by PrefWorld's corpus builder and by src/judge/.
//
// Layout (compact on purpose: byte-level tokens are the model's unit, and a whole CoT example
// should fit in ~512 bytes):
//
//   Judge                                   <- header; "Verify" for the pointwise form
//   Question: What is 47+85?
//   A: Thanks for asking! The answer is 132.
//   B: 122
//   Hint: [[A]]                             <- rationalize only: the verdict to explain
//   Check:                                  <- CoT/rationalize: the prompt ends after "Check:\n"
//   Q: 47+85= W: 7+5=12;4+8+1=13 =132
//   A says 132, result 132: right. B says 122, result 132: wrong.
//   Verdict: [[A]]                          <- direct: the prompt ends at "Verdict: "
//
// The rationale restates the question and solves it in the corpus's worked-solution layout
// (`Q: … W: … =result`), checks each answer against the result in so many words, then gives the
// verdict, so that what pretraining taught is usable and the verdict follows from the check.
// The check is PrefWorld's one checking language (world spec v5): exam documents of every family
// end with the same check line and verdict line, so the skill pretraining teaches is the one a
// judge uses. Each check writes the answer's value and the worked result side by side, so that
// "right"/"wrong" compares two adjacent spans instead of a value with a line above it.
// The worked line starts a line of its own, as it does in the corpus ("question\nQ: …"): a prompt
// must never end in a space that the next word would have merged with. (Format 1 ended the prompt
// at "Check: ", a lone " " token that the corpus only ever has before digits, and the base model
// answered with a bare number instead of restating the question: 39 % native vs 0 % in-judge.)
// Each verdict string is one special token in genrm's tokenizer.
import type { ChatMessage, Prompt } from './pair.js';

export const VERDICT_A = '[[A]]';
export const VERDICT_B = '[[B]]';
export const VERDICT_YES = '[[YES]]';
export const VERDICT_NO = '[[NO]]';
/** Register each as one token in the tokenizer (never split into bytes). */
export const JUDGE_SPECIAL_TOKENS = [VERDICT_A, VERDICT_B, VERDICT_YES, VERDICT_NO] as const;

/** The letter a pairwise verdict token names: the answer shown first (A) or second (B). */
export type PairLabel = 'A' | 'B';
/** What a pointwise verdict token says. */
export type PointLabel = 'YES' | 'NO';
export type PairMode = 'direct' | 'cot' | 'rationalize';
export type PointMode = 'direct' | 'cot';

export const PAIR_HEADER = 'Judge\n';
export const POINT_HEADER = 'Verify\n';
export const CHECK_CUE = 'Check:\n';
export const VERDICT_CUE = 'Verdict: ';

export function verdictToken(v: PairLabel | PointLabel): string {
  return `[[${v}]]`;
}

/** Words that open a line of a judge example; a content line may not start with one. */
export const LINE_MARKERS = ['Question:', 'A:', 'B:', 'Answer:', 'Hint:', 'Check:', 'Verdict:', 'Q:'] as const;
const MARKER_LINE = new RegExp(`\\n(?=${LINE_MARKERS.join('|')})`, 'g'); // markers hold no regex syntax

/**
 * Content (question, answers) must never forge the example's structure. A verdict token would be
 * read as the special token: a space is put after its first bracket ("[[B]]" -> "[ [B]]"). A line
 * inside the content that starts with a marker ("\nCheck:", "\nVerdict:", "\nB:") would read
 * as the example's own line: it is indented by one space ("\n Check:"). Both keep the text readable.
 */
export function escapeContent(text: string): string {
  let out = text;
  for (const t of JUDGE_SPECIAL_TOKENS) out = out.split(t).join(`[ ${t.slice(1)}`);
  return out.replace(MARKER_LINE, '\n ');
}

/** A prompt as one string: chat messages become "role: content" lines (genrm's compact chat form). */
export function promptText(prompt: Prompt): string {
  if (typeof prompt === 'string') return prompt;
  return prompt.map((m: ChatMessage) => `${m.role}: ${m.content}`).join('\n');
}

export interface PairExample {
  question: Prompt;
  answerA: string;
  answerB: string;
}

/** Everything the model conditions on, ending exactly where it must start writing. */
export function pairPrompt(ex: PairExample, mode: PairMode, hint?: PairLabel): string {
  const body =
    PAIR_HEADER +
    `Question: ${escapeContent(promptText(ex.question))}\n` +
    `A: ${escapeContent(ex.answerA)}\n` +
    `B: ${escapeContent(ex.answerB)}\n`;
  if (mode === 'direct') return body + VERDICT_CUE;
  if (mode === 'cot') return body + CHECK_CUE;
  if (hint === undefined) throw new Error('pairPrompt: rationalize mode needs the verdict as a hint');
  return body + `Hint: ${verdictToken(hint)}\n` + CHECK_CUE;
}

/** What the model writes: the verdict token (direct) or rationale, cue and verdict (cot, rationalize). */
export function pairTarget(mode: PairMode, verdict: PairLabel, rationale?: string): string {
  if (mode === 'direct') return verdictToken(verdict);
  if (rationale === undefined) throw new Error(`pairTarget: ${mode} mode needs a rationale`);
  return `${rationale}\n${VERDICT_CUE}${verdictToken(verdict)}`;
}

export interface PointExample {
  question: Prompt;
  answer: string;
}

export function pointPrompt(ex: PointExample, mode: PointMode): string {
  const body = POINT_HEADER + `Question: ${escapeContent(promptText(ex.question))}\n` + `Answer: ${escapeContent(ex.answer)}\n`;
  return body + (mode === 'direct' ? VERDICT_CUE : CHECK_CUE);
}

export function pointTarget(mode: PointMode, verdict: PointLabel, rationale?: string): string {
  if (mode === 'direct') return verdictToken(verdict);
  if (rationale === undefined) throw new Error('pointTarget: cot mode needs a rationale');
  return `${rationale}\n${VERDICT_CUE}${verdictToken(verdict)}`;
}

/** The check sentence(s): "A says 132, result 132: right. B says 122, result 132: wrong." */
export interface AnswerCheck {
  label: string; // "A", "B", or "It" in the pointwise form
  /** The answer's value, as the rationale reads it. */
  says: string;
  /** The worked result it is compared with (the rationale's own, copied beside the value). */
  result: string;
  /** The check's judgement: "right" (true) or "wrong". */
  matches: boolean;
}

export function checkLine(checks: readonly AnswerCheck[]): string {
  return checks.map((c) => `${c.label} says ${c.says}, result ${c.result}: ${c.matches ? 'right' : 'wrong'}.`).join(' ');
}

/** A rationale: the worked line, then the check line. */
export function rationaleText(worked: string, checks: readonly AnswerCheck[]): string {
  return `${worked}\n${checkLine(checks)}`;
}

/**
 * Reads the verdict from a generated completion only (never from the prompt): the LAST pairwise
 * verdict token counts, so a rationale may mention both before concluding. None: null (invalid).
 */
export function parseVerdict(completion: string): PairLabel | null {
  const a = completion.lastIndexOf(VERDICT_A);
  const b = completion.lastIndexOf(VERDICT_B);
  if (a < 0 && b < 0) return null;
  return a > b ? 'A' : 'B';
}

export function parsePointVerdict(completion: string): PointLabel | null {
  const y = completion.lastIndexOf(VERDICT_YES);
  const n = completion.lastIndexOf(VERDICT_NO);
  if (y < 0 && n < 0) return null;
  return y > n ? 'YES' : 'NO';
}

export interface ParsedRationale {
  /** The worked line as written (from "Q: " to the end of its line), or null. */
  worked: string | null;
  /** The worked line's own result: the text after its last " =", or null. */
  result: string | null;
  checks: AnswerCheck[];
}

const CHECK_RE = /(\S+) says (.+?), result (.*?): (right|wrong)\./g;

/** Splits a generated rationale into its worked line, its result and its checks (lenient). */
export function parseRationale(text: string): ParsedRationale {
  const cut = text.indexOf(VERDICT_CUE);
  const body = cut >= 0 ? text.slice(0, cut) : text;
  const q = body.indexOf('Q: ');
  let worked: string | null = null;
  let result: string | null = null;
  if (q >= 0) {
    const end = body.indexOf('\n', q);
    worked = body.slice(q, end < 0 ? undefined : end);
    const eq = worked.lastIndexOf(' =');
    if (eq >= 0) result = worked.slice(eq + 2).trim();
  }
  const checks: AnswerCheck[] = [];
  for (const m of body.matchAll(CHECK_RE))
    checks.push({ label: m[1] as string, says: m[2] as string, result: m[3] as string, matches: m[4] === 'right' });
  return { worked, result, checks };
}
