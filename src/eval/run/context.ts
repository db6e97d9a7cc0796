// Pairs longer than the judge's context, before judging (`genrm eval --context`): each pair is
// checked against the judge exactly as it will be rendered (both orders, the generation budget
// included) and, when it does not fit, shortened or left out; every case is counted.
//   truncate-answers  (default) cut the answers' ends (marked "[truncated]") until the pair fits;
//                     when that would keep under MIN_KEEP characters of them, they keep MIN_KEEP
//                     and the prompt's start is cut; when even that is too long, both are cut in
//                     proportion. Every pair that can fit is judged.
//   truncate-prompt   cut the prompt's start (marked "[truncated]"; for a conversation the
//                     earliest turns go first), the answers kept whole; the same fallbacks with
//                     the roles swapped.
//   skip              leave the pair out (counted, its id listed).
// A pair that cannot fit even with nothing of it left (the template alone is over the context)
// is left out under every policy, counted. Judges that cannot count tokens (a server without a
// tokenizer endpoint) are not checked here: the server refuses what it cannot take.
import type { LanguageModel } from '../../backends/types.js';
import type { ChatMessage, PreferencePair, Prompt } from '../../data/pair.js';
import { ContextLengthError, TRUNCATION_MARK, fitAnswers } from '../../judge/context.js';
import { labelledFields } from '../../judge/pairwise.js';
import { resolveTemplate } from '../../judge/resolveTemplate.js';
import { rewardText } from '../../train/recipes/bt.js';
import { judgePrompt, order } from '../../train/recipes/data.js';
import { encodeForHead } from '../../train/recipes/scoreHead.js';
import type { EvalSet } from './data.js';
import type { HeadModel } from './heads.js';
import { lmJudgeConfig, type LmEvalOptions } from './lm.js';

export const CONTEXT_POLICIES = ['truncate-answers', 'truncate-prompt', 'skip'] as const;
export type ContextPolicy = (typeof CONTEXT_POLICIES)[number];
export const DEFAULT_CONTEXT_POLICY: ContextPolicy = 'truncate-answers';

/** Under this many characters of the first part cut, the other is cut too: a judge needs some of both. */
const MIN_KEEP = 256;
const KEEP_IDS = 5;
const PROMPT_MARK = '[truncated] ';

export interface ContextReport {
  policy: ContextPolicy;
  /** false: the judge cannot count tokens, so nothing was checked. */
  checked: boolean;
  pairs: number;
  answersCut: number;
  promptsCut: number;
  /** Left out under --context skip. */
  skipped: number;
  /** Left out because even an empty pair is over the context. */
  tooLong: number;
  /** The first few ids per case. */
  ids: { cut: string[]; skipped: string[]; tooLong: string[] };
}

/** Whether a pair, as given, fits the judge. */
export type Fits = (pair: PreferencePair) => Promise<boolean>;

/** A language-model judge: both orders rendered as judgePairs renders them, plus its generation budget. */
export function lmFits(model: LanguageModel, o: Omit<LmEvalOptions, 'onProgress'>): Fits | null {
  if (model.capabilities.contextLength === undefined || !model.countTokens) return null;
  const cfg = lmJudgeConfig(o);
  const template = resolveTemplate(cfg.template, 'pair', model.capabilities);
  const budget = cfg.mode === 'cot' ? cfg.maxTokens : 8; // as judgePairs: direct needs room for the verdict tokens only
  return async (p) => {
    for (const o2 of [0, 1] as const) {
      const f = labelledFields(p, o2);
      try {
        await fitAnswers(
          model,
          [f.answerA, f.answerB],
          ([a, b]) => template.render({ ...f, answerA: a ?? '', answerB: b ?? '' }, cfg.mode),
          budget,
          'refuse',
          p.id,
        );
      } catch (e) {
        if (e instanceof ContextLengthError) return false;
        throw e;
      }
    }
    return true;
  };
}

/** A reward head reads whole sequences (heads.ts): each text it scores must fit its context. */
export function headFits(h: HeadModel): Fits {
  const max = h.model.config.maxSeqLen;
  const ok = (t: string): boolean => encodeForHead(h.tokenizer, t).length <= max;
  if (h.kind === 'bt') return async (p) => ok(rewardText(p, p.chosen)) && ok(rewardText(p, p.rejected));
  return async (p) => ok(judgePrompt(order(p, true), 'direct')) && ok(judgePrompt(order(p, false), 'direct'));
}

const cutAnswer = (a: string, keep: number): string => (a.length > keep ? a.slice(0, keep) + TRUNCATION_MARK : a);

const promptChars = (p: Prompt): number => (typeof p === 'string' ? p.length : p.reduce((n, m) => n + m.content.length, 0));

/** The last `keep` characters of the prompt; a conversation loses its earliest turns first. */
function cutPrompt(p: Prompt, keep: number): Prompt {
  if (promptChars(p) <= keep) return p;
  if (typeof p === 'string') return PROMPT_MARK + p.slice(p.length - keep);
  const out: ChatMessage[] = [];
  let left = keep;
  for (let i = p.length - 1; i >= 0; i--) {
    const m = p[i] as ChatMessage;
    if (m.content.length > left) {
      out.unshift({ ...m, content: PROMPT_MARK + m.content.slice(m.content.length - left) });
      break;
    }
    out.unshift(m);
    left -= m.content.length;
  }
  return out;
}

/** The largest k in [lo, hi] with ok(k), given ok(lo) (ok is monotone: more kept, less fits). */
async function largest(lo: number, hi: number, ok: (k: number) => Promise<boolean>): Promise<number> {
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (await ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

type Fitted = { pair: PreferencePair } | { skip: 'skipped' | 'tooLong' };

async function fitPair(p: PreferencePair, fits: Fits, policy: ContextPolicy): Promise<Fitted> {
  if (await fits(p)) return { pair: p };
  if (policy === 'skip') return { skip: 'skipped' };
  const withAnswers = (k: number): PreferencePair => ({ ...p, chosen: cutAnswer(p.chosen, k), rejected: cutAnswer(p.rejected, k) });
  const withPrompt = (k: number): PreferencePair => ({ ...p, prompt: cutPrompt(p.prompt, k) });
  const answerLen = Math.max(p.chosen.length, p.rejected.length);
  const promptLen = promptChars(p.prompt);
  const first = policy === 'truncate-answers' ? { cut: withAnswers, len: answerLen } : { cut: withPrompt, len: promptLen };
  const second = policy === 'truncate-answers' ? { cut: withPrompt, len: promptLen } : { cut: withAnswers, len: answerLen };
  const floor = Math.min(MIN_KEEP, first.len);
  if (await fits(first.cut(floor))) return { pair: first.cut(await largest(floor, first.len, async (x) => fits(first.cut(x)))) };
  // The first part at its floor, the other cut as much as needed.
  const atFloor = (k: number): PreferencePair => {
    const a = first.cut(floor);
    const b = second.cut(k);
    return policy === 'truncate-answers' ? { ...a, prompt: b.prompt } : { ...a, chosen: b.chosen, rejected: b.rejected };
  };
  if (await fits(atFloor(0))) return { pair: atFloor(await largest(0, second.len, async (x) => fits(atFloor(x)))) };
  // Both in proportion: keep the same share s/1000 of the prompt's end and of each answer's start.
  const both = (s: number): PreferencePair => ({
    ...withAnswers(Math.floor((answerLen * s) / 1000)),
    prompt: cutPrompt(p.prompt, Math.floor((promptLen * s) / 1000)),
  });
  if (!(await fits(both(0)))) return { skip: 'tooLong' };
  const s = await largest(0, 1000, async (x) => fits(both(x)));
  return { pair: both(s) };
}

/** Every set's pairs fitted to the judge; sets keep their order, left-out pairs are dropped and counted. */
export async function fitSets(
  sets: readonly EvalSet[],
  fits: Fits | null,
  policy: ContextPolicy,
): Promise<{ sets: EvalSet[]; report: ContextReport }> {
  const report: ContextReport = {
    policy,
    checked: fits !== null,
    pairs: 0,
    answersCut: 0,
    promptsCut: 0,
    skipped: 0,
    tooLong: 0,
    ids: { cut: [], skipped: [], tooLong: [] },
  };
  const note = (list: string[], id: string): void => {
    if (list.length < KEEP_IDS) list.push(id);
  };
  const out: EvalSet[] = [];
  for (const set of sets) {
    report.pairs += set.pairs.length;
    if (!fits) {
      out.push(set);
      continue;
    }
    const kept: PreferencePair[] = [];
    for (const p of set.pairs) {
      const r = await fitPair(p, fits, policy);
      if ('skip' in r) {
        report[r.skip]++;
        note(report.ids[r.skip], p.id);
        continue;
      }
      const answers = r.pair.chosen !== p.chosen || r.pair.rejected !== p.rejected;
      const prompt = r.pair.prompt !== p.prompt;
      if (answers) report.answersCut++;
      if (prompt) report.promptsCut++;
      if (answers || prompt) note(report.ids.cut, p.id);
      kept.push(r.pair);
    }
    out.push({ ...set, pairs: kept });
  }
  return { sets: out, report };
}

/** One line for the console and the notes; "" when nothing was over the context. */
export function contextSummary(r: ContextReport): string {
  if (!r.checked) return `context: not checked (the judge cannot count tokens; a server refuses what it cannot take)`;
  const parts: string[] = [];
  if (r.answersCut) parts.push(`${r.answersCut} with answers cut`);
  if (r.promptsCut) parts.push(`${r.promptsCut} with the prompt's start cut`);
  if (r.skipped) parts.push(`${r.skipped} skipped (${r.ids.skipped.join(', ')}${r.skipped > r.ids.skipped.length ? ', …' : ''})`);
  if (r.tooLong)
    parts.push(
      `${r.tooLong} left out: over the context even with nothing of them kept (${r.ids.tooLong.join(', ')}${r.tooLong > r.ids.tooLong.length ? ', …' : ''})`,
    );
  if (parts.length === 0) return '';
  const others = CONTEXT_POLICIES.filter((p) => p !== r.policy).join(' | ');
  return `context (--context ${r.policy}): of ${r.pairs} pairs, ${parts.join(', ')}; other policies: --context ${others}`;
}
