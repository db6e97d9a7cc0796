// Formats that already say which answer is chosen: genrm's own PreferencePair JSONL, RewardBench,
// TRL preference JSONL (explicit or implicit prompt, standard or conversational), UltraFeedback
// binarized and Anthropic HH-RLHF.
import type { ChatMessage, Prompt } from '../pair.js';
import { PreferencePairSchema } from '../pair.js';
import { fieldPath } from '../jsonl.js';
import { parseHhTranscript, splitSharedPrefix } from './chat.js';
import { FieldError } from './errors.js';
import { answer, answerValue, messages, optId, optText, prompt, text, typeName } from './fields.js';
import { type FormatDef, type MapContext, has } from './types.js';

/** genrm's own files (what `genrm data convert` writes): read back exactly. */
export const genrmFormat: FormatDef = {
  name: 'genrm',
  describe: 'PreferencePair JSONL: id, prompt, chosen, rejected, tie?, category?, subset?, split?, meta?',
  detect: (rec) =>
    has(rec, 'id', 'prompt', 'chosen', 'rejected') &&
    typeof rec['id'] === 'string' &&
    typeof rec['chosen'] === 'string' &&
    !has(rec, 'chosen_model'),
  map: (rec) => {
    const r = PreferencePairSchema.safeParse(rec);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new FieldError(
        rec[String(issue?.path[0])] === undefined ? 'missing-field' : 'wrong-type',
        issue ? fieldPath(issue.path) : undefined,
        issue?.message ?? 'invalid',
      );
    }
    return r.data;
  },
};

// RewardBench subsets → its four sections (allenai/reward-bench, rewardbench/constants.py
// SUBSET_MAPPING); our categories use the same four names (docs/ARCHITECTURE.md, Contracts).
const REWARDBENCH_SECTIONS: Record<string, string> = {};
for (const [cat, subsets] of Object.entries({
  chat: ['alpacaeval-easy', 'alpacaeval-length', 'alpacaeval-hard', 'mt-bench-easy', 'mt-bench-med'],
  'chat-hard': [
    'mt-bench-hard',
    'llmbar-natural',
    'llmbar-adver-neighbor',
    'llmbar-adver-GPTInst',
    'llmbar-adver-GPTOut',
    'llmbar-adver-manual',
  ],
  safety: ['refusals-dangerous', 'refusals-offensive', 'xstest-should-refuse', 'xstest-should-respond', 'donotanswer'],
  reasoning: ['math-prm', 'hep-cpp', 'hep-go', 'hep-java', 'hep-js', 'hep-python', 'hep-rust'],
}))
  for (const s of subsets) REWARDBENCH_SECTIONS[s] = cat;

/** RewardBench (allenai/reward-bench, `filtered` split): prompt, chosen, rejected, subset, id, chosen_model, rejected_model. */
export const rewardBenchFormat: FormatDef = {
  name: 'rewardbench',
  describe: 'RewardBench: prompt, chosen, rejected (text), subset, id; subset mapped to chat/chat-hard/safety/reasoning',
  detect: (rec) => has(rec, 'prompt', 'chosen', 'rejected', 'subset') && typeof rec['chosen'] === 'string',
  map: (rec, ctx) => {
    const subset = optText(rec, 'subset');
    const meta: Record<string, unknown> = {};
    for (const k of ['chosen_model', 'rejected_model']) if (typeof rec[k] === 'string') meta[k] = rec[k];
    const category = subset === undefined ? undefined : REWARDBENCH_SECTIONS[subset];
    return {
      id: optId(rec, 'id') ?? ctx.fallbackId,
      prompt: text(rec, 'prompt'),
      chosen: answer(rec, 'chosen', ctx),
      rejected: answer(rec, 'rejected', ctx),
      ...(subset !== undefined && { subset }),
      ...(category !== undefined && { category }),
      ...(Object.keys(meta).length > 0 && { meta }),
    };
  },
};

/** The longest common prefix of two texts, cut back to a whitespace boundary. */
function commonTextPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  if (n === a.length || n === b.length) return n;
  while (n > 0 && !/\s/.test(a[n - 1] as string)) n--;
  return n;
}

/**
 * Prompt + two answers, where answers are texts or conversations. With a prompt, conversational
 * answers contribute their last assistant turn (anything before it joins the prompt). Without
 * one (TRL's implicit prompt), the shared beginning is the prompt.
 */
export function pairFromAnswers(
  promptVal: Prompt | undefined,
  chosenRaw: unknown,
  rejectedRaw: unknown,
  ctx: Pick<MapContext, 'flag'>,
  names = { chosen: 'chosen', rejected: 'rejected' },
): { prompt: Prompt; chosen: string; rejected: string } {
  if (Array.isArray(chosenRaw) && Array.isArray(rejectedRaw)) {
    const c = messages(chosenRaw, names.chosen);
    const r = messages(rejectedRaw, names.rejected);
    if (promptVal === undefined) return splitSharedPrefix(c, r);
    const head: ChatMessage[] = typeof promptVal === 'string' ? [{ role: 'user', content: promptVal }] : promptVal;
    return splitSharedPrefix([...head, ...c], [...head, ...r]);
  }
  const scalar = (v: unknown): boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  if (scalar(chosenRaw) && scalar(rejectedRaw)) {
    const chosen = answerValue(chosenRaw, names.chosen, ctx);
    const rejected = answerValue(rejectedRaw, names.rejected, ctx);
    if (promptVal !== undefined) return { prompt: promptVal, chosen, rejected };
    const n = commonTextPrefix(chosen, rejected);
    if (n === 0 || chosen.slice(0, n).trim() === '')
      throw new FieldError('missing-field', 'prompt', 'no prompt field and no shared beginning of chosen/rejected to take it from');
    return { prompt: chosen.slice(0, n), chosen: chosen.slice(n), rejected: rejected.slice(n) };
  }
  const bad = scalar(chosenRaw) || Array.isArray(chosenRaw) ? names.rejected : names.chosen;
  const v = bad === names.chosen ? chosenRaw : rejectedRaw;
  throw new FieldError(
    v === undefined ? 'missing-field' : 'wrong-type',
    bad,
    `expected text or a list of messages (the same kind for both answers), found ${typeName(v)}`,
  );
}

/**
 * TRL preference (huggingface.co/docs/trl/dataset_formats, "Preference"): prompt/chosen/rejected as
 * text or as message lists; or implicit prompt: chosen/rejected alone, sharing their beginning.
 */
export const trlFormat: FormatDef = {
  name: 'trl',
  describe: 'TRL preference: prompt?, chosen, rejected (text or chat messages; without prompt the shared prefix is the prompt)',
  detect: (rec) => has(rec, 'chosen', 'rejected') && (has(rec, 'prompt') || Array.isArray(rec['chosen'])),
  map: (rec, ctx) => {
    const p = rec['prompt'] === undefined ? undefined : prompt(rec, 'prompt');
    return { id: optId(rec, 'id') ?? ctx.fallbackId, ...pairFromAnswers(p, rec['chosen'], rec['rejected'], ctx) };
  },
};

/**
 * UltraFeedback binarized (HuggingFaceH4/ultrafeedback_binarized): prompt, prompt_id, chosen and
 * rejected as [user, assistant] chat lists, score_chosen, score_rejected. Equal scores are a tie.
 */
export const ultraFeedbackFormat: FormatDef = {
  name: 'ultrafeedback',
  describe: 'UltraFeedback binarized: prompt, prompt_id, chosen/rejected chat lists, score_chosen/score_rejected (equal scores: tie)',
  detect: (rec) => has(rec, 'chosen', 'rejected') && (has(rec, 'score_chosen') || has(rec, 'prompt_id')),
  map: (rec, ctx) => {
    const c = messages(rec['chosen'], 'chosen');
    const r = messages(rec['rejected'], 'rejected');
    const split = splitSharedPrefix(c, r);
    const meta: Record<string, unknown> = {};
    const sc = rec['score_chosen'];
    const sr = rec['score_rejected'];
    for (const [k, v] of [
      ['score_chosen', sc],
      ['score_rejected', sr],
    ] as const) {
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new FieldError('wrong-type', k, `expected a number, found ${typeName(v)}`);
      meta[k] = v;
    }
    if (typeof sc === 'number' && typeof sr === 'number' && sc < sr)
      throw new FieldError(
        'label-range',
        'score_chosen',
        `score_chosen ${sc} < score_rejected ${sr}: expected the chosen answer to score at least as high`,
      );
    const tie = typeof sc === 'number' && sc === sr;
    return {
      id: optId(rec, 'prompt_id') ?? optId(rec, 'id') ?? ctx.fallbackId,
      ...split,
      ...(tie && { tie: true }),
      ...(Object.keys(meta).length > 0 && { meta }),
    };
  },
};

/**
 * Anthropic HH-RLHF (github.com/anthropics/hh-rlhf): chosen and rejected are whole transcripts
 * "\n\nHuman: …\n\nAssistant: …"; the shared beginning is the prompt, the last Assistant turn the answer.
 */
export const hhFormat: FormatDef = {
  name: 'hh-rlhf',
  describe: 'Anthropic HH-RLHF: chosen/rejected transcripts "\\n\\nHuman: … \\n\\nAssistant: …" split into shared prompt and last answer',
  detect: (rec) =>
    has(rec, 'chosen', 'rejected') && !has(rec, 'prompt') && typeof rec['chosen'] === 'string' && /\n\nAssistant:/.test(rec['chosen']),
  map: (rec, ctx) => {
    const c = parseHhTranscript(text(rec, 'chosen'), 'chosen');
    const r = parseHhTranscript(text(rec, 'rejected'), 'rejected');
    return { id: optId(rec, 'id') ?? ctx.fallbackId, ...splitSharedPrefix(c, r) };
  },
};
