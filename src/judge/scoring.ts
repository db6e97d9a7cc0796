// Turning a language model's output into P(positive verdict) for a batch of judge prompts.
// "positive" is [[A]] for pairwise judging (A is better) and [[YES]] for pointwise verification.
//
// direct: P = exp(l+) / (exp(l+) + exp(l-)) from the two verdicts' log-probs at the end of the
//         prompt, renormalised over just these two (the model's other tokens do not count).
// cot:    sample k rationales; each ends in a verdict parsed from the completion (the last
//         indicator counts). P = share of valid votes that are positive (weighting "none"), or the
//         mean of P(verdict | rationale) read from the logprobs at the verdict ("verdict-prob").
//
// The pure parts (verdictProb, directScore, rationaleOf, tally) are synchronous and exported, so
// the in-training evaluation (src/train/recipes/evalJudge.ts), which drives the engine directly,
// scores with exactly these rules.
import {
  BackendResponseError,
  CapabilityError,
  isChatPrompt,
  type CandidateLogprob,
  type FinishReason,
  type LanguageModel,
  type Prompt,
  type Sample,
} from '../backends/types.js';
import { verdictLogprobsFromSample } from '../backends/tokenAlign.js';
import { sigmoid } from '../util/math.js';
import { commonPrefix } from '../util/strings.js';

export interface VerdictSpec {
  /** [positive, negative] indicator strings, e.g. ["[[A]]", "[[B]]"]. */
  pair: [string, string];
  /** Parse a completion: 'pos' | 'neg' | 'invalid' (the last indicator counts). */
  parse(completion: string): 'pos' | 'neg' | 'invalid';
}

export interface DirectScore {
  p: number;
  /** log p(positive), log p(negative) as the backend reported them. */
  logprobs: [number, number];
  /** A verdict was outside what the backend could see (top-k); p uses its upper bound, pulled toward 0.5. */
  approximate: boolean;
}

/** P(positive) from the two verdicts' log-probs, renormalised over just these two: sigmoid(l+ - l-). */
export function verdictProb(lpPos: number, lpNeg: number): number {
  return sigmoid(lpPos - lpNeg);
}

/** A direct score from the two verdicts' log-probs; `approximate` when one was only bounded (outside a top-k). */
export function directScore(logprobs: [number, number], approximate = false): DirectScore {
  return { p: verdictProb(logprobs[0], logprobs[1]), logprobs, approximate };
}

/** Per top-k backend: whether whole verdicts showed among the alternatives at a text prompt's end (verdictLogprobs). */
const wholeVerdicts = new WeakMap<LanguageModel, boolean>();

/**
 * Score the verdicts at the end of each prompt. With single-token verdicts (genrm's tokenizer)
 * the candidates are the verdicts themselves; otherwise a text prompt is extended by their common
 * prefix ("[[") and the candidates are the distinguishing continuations ("A]]", "B]]"). A chat
 * prompt cannot be extended (the assistant turn is the backend's), so the backend gets the full
 * verdicts and finds the choice point itself.
 *
 * A backend that reads candidates from a server's top-k alternatives (maxTopLogprobs set) may run
 * a model whose verdicts are single tokens without saying so (genrm's own model behind vLLM or
 * llama.cpp's server): after a "[[" written as text such a model is off its format, so the whole
 * verdicts are looked for at the prompt's end first, and only the prompts where neither shows go
 * through the common prefix (a backend where none showed goes there directly from then on).
 */
export async function verdictLogprobs(model: LanguageModel, prompts: Prompt[], verdicts: [string, string]): Promise<CandidateLogprob[][]> {
  if (!model.capabilities.candidateLogprobs) {
    throw new CapabilityError(
      model.name,
      'candidateLogprobs',
      'direct judging needs verdict log-probs; use --mode cot (sampled verdicts) with this backend',
    );
  }
  if (model.capabilities.singleTokenVerdicts || prompts.every(isChatPrompt)) return model.candidateLogprobs(prompts, verdicts);
  const prefix = commonPrefix(verdicts);
  const cands = verdicts.map((v) => v.slice(prefix.length));
  const out: CandidateLogprob[][] = new Array<CandidateLogprob[]>(prompts.length);
  const textIdx = prompts.map((p, i) => (isChatPrompt(p) ? -1 : i)).filter((i) => i >= 0);
  const chatIdx = prompts.map((p, i) => (isChatPrompt(p) ? i : -1)).filter((i) => i >= 0);
  const textPrompts = textIdx.map((i) => prompts[i] as string);
  const textScores = async (): Promise<CandidateLogprob[][]> => {
    const t: CandidateLogprob[][] = new Array<CandidateLogprob[]>(textPrompts.length);
    let viaPrefix = textPrompts.map((_, k) => k);
    if (model.capabilities.maxTopLogprobs !== undefined && wholeVerdicts.get(model) !== false && textPrompts.length > 0) {
      const whole = await model.candidateLogprobs(textPrompts, verdicts).catch((e: unknown) => {
        if (e instanceof CapabilityError || e instanceof BackendResponseError) return textPrompts.map(() => null); // e.g. no alternatives at the prompt's end: the prefix read may still have some
        throw e;
      });
      viaPrefix = [];
      whole.forEach((r, k) => (r?.some((c) => c.found) ? (t[k] = r) : viaPrefix.push(k)));
      wholeVerdicts.set(model, viaPrefix.length < textPrompts.length);
    }
    if (viaPrefix.length > 0) {
      const r = await model.candidateLogprobs(
        viaPrefix.map((k) => textPrompts[k]! + prefix),
        cands,
      );
      viaPrefix.forEach((k, j) => (t[k] = r[j]!));
    }
    return t;
  };
  const [t, c] = await Promise.all([
    textScores(),
    chatIdx.length
      ? model.candidateLogprobs(
          chatIdx.map((i) => prompts[i] as Prompt),
          verdicts,
        )
      : Promise.resolve([]),
  ]);
  textIdx.forEach((i, k) => (out[i] = t[k] as CandidateLogprob[]));
  chatIdx.forEach((i, k) => (out[i] = c[k] as CandidateLogprob[]));
  return out;
}

function toDirect(model: LanguageModel, r: CandidateLogprob[] | undefined): DirectScore {
  const pos = r?.[0];
  const neg = r?.[1];
  if (!pos || !neg) throw new BackendResponseError(model.name, 'candidateLogprobs returned fewer than 2 scores');
  if (!pos.found && !neg.found) {
    throw new BackendResponseError(
      model.name,
      'neither verdict is among the tokens the backend reported at the verdict position: the model is not following the judge format (try --mode cot or another template)',
    );
  }
  if (pos.logprob === -Infinity && neg.logprob === -Infinity)
    throw new BackendResponseError(model.name, 'both verdicts have probability 0');
  return directScore([pos.logprob, neg.logprob], !pos.found || !neg.found);
}

export async function scoreDirect(model: LanguageModel, prompts: Prompt[], verdicts: [string, string]): Promise<DirectScore[]> {
  const r = await verdictLogprobs(model, prompts, verdicts);
  return prompts.map((_, i) => toDirect(model, r[i]));
}

export interface Rationale {
  text: string;
  verdict: 'pos' | 'neg' | 'invalid';
  /** verdict-prob weighting: P(positive | this rationale). */
  p?: number;
  /** Tokens the backend generated for this sample. */
  tokens?: number;
  /** Why the sample ended, as the backend reported it. */
  finish?: FinishReason;
}

/** One sampled completion as a vote: its text, its parsed verdict, its length and why it ended. */
export function rationaleOf(s: Pick<Sample, 'text' | 'tokens' | 'finishReason'>, spec: VerdictSpec): Rationale {
  return { text: s.text, verdict: spec.parse(s.text), tokens: s.tokens.length, finish: s.finishReason };
}

export interface CotScore {
  /** P(positive): vote share among valid verdicts, or the mean P(positive | rationale); 0.5 when nothing valid. */
  p: number;
  votes: { pos: number; neg: number; invalid: number };
  /** Majority verdict; 'tie' on equal votes, 'invalid' when no sample had a verdict. */
  verdict: 'pos' | 'neg' | 'tie' | 'invalid';
  rationales: Rationale[];
}

export interface CotOptions {
  votes: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  seed: number;
  weighting: 'none' | 'verdict-prob';
  /** Stop strings for the backend (none by default: genrm's models end with end-of-text after the verdict). */
  stop?: string[];
  signal?: AbortSignal;
}

export async function scoreCot(model: LanguageModel, prompts: Prompt[], spec: VerdictSpec, o: CotOptions): Promise<CotScore[]> {
  if (!model.capabilities.generate)
    throw new CapabilityError(model.name, 'generate', 'CoT judging samples rationales; use --mode direct with this backend');
  const weighted = o.weighting === 'verdict-prob';
  const gens = await model.generate(prompts, {
    n: o.votes,
    temperature: o.temperature,
    topP: o.topP,
    maxTokens: o.maxTokens,
    seed: o.seed,
    ...(o.stop && o.stop.length ? { stop: o.stop } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    // String-token backends report alternatives at each position, where the verdict's odds are read.
    ...(weighted && !model.capabilities.singleTokenVerdicts ? { topLogprobs: Math.min(20, model.capabilities.maxTopLogprobs ?? 20) } : {}),
  });
  const out: CotScore[] = [];
  for (let i = 0; i < prompts.length; i++) {
    const samples = gens[i]?.samples ?? [];
    if (samples.length === 0) throw new BackendResponseError(model.name, `generate returned no samples for prompt ${i}`);
    const rationales: Rationale[] = samples.map((s) => rationaleOf(s, spec));
    if (weighted) await weighRationales(model, prompts[i] as Prompt, samples, rationales, spec);
    out.push(tally(rationales, weighted));
  }
  return out;
}

/** P(positive | rationale) for each valid rationale, read at its last verdict. */
async function weighRationales(
  model: LanguageModel,
  prompt: Prompt,
  samples: { text: string; tokens: number[] | string[]; logprobs: number[]; topLogprobs?: { token: string; logprob: number }[][] }[],
  rationales: Rationale[],
  spec: VerdictSpec,
): Promise<void> {
  const valid = rationales.map((r, k) => (r.verdict === 'invalid' ? -1 : k)).filter((k) => k >= 0);
  if (valid.length === 0) return;
  const first = samples[0];
  if (first && typeof first.tokens[0] === 'string') {
    // String tokens (HTTP): the alternatives at the verdict position came with the sample.
    for (const k of valid) {
      const s = samples[k];
      const r = s && verdictLogprobsFromSample(s.tokens as string[], s.logprobs, s.topLogprobs, spec.pair);
      if (!r)
        throw new BackendResponseError(
          model.name,
          'verdict-prob weighting: the server reported no alternatives at the verdict position (top_logprobs); set weighting "none" in the judge config',
        );
      (rationales[k] as Rationale).p = toDirect(model, r).p;
    }
    return;
  }
  if (isChatPrompt(prompt))
    throw new CapabilityError(
      model.name,
      'verdict-prob weighting',
      'chat prompts on a token-id backend; use a text template or set weighting "none" in the judge config',
    );
  // Token-id backends: re-score the verdict at the end of (prompt + rationale up to its verdict).
  const prefixes = valid.map((k) => {
    const text = (rationales[k] as Rationale).text;
    const cut = Math.max(text.lastIndexOf(spec.pair[0]), text.lastIndexOf(spec.pair[1]));
    return prompt + (cut >= 0 ? text.slice(0, cut) : text);
  });
  const scores = await scoreDirect(model, prefixes, spec.pair);
  valid.forEach((k, j) => ((rationales[k] as Rationale).p = (scores[j] as DirectScore).p));
}

/** Votes → P(positive) and the majority verdict. Invalid samples carry no information: excluded from the share, counted apart. */
export function tally(rationales: Rationale[], weighted: boolean): CotScore {
  const votes = { pos: 0, neg: 0, invalid: 0 };
  for (const r of rationales) votes[r.verdict]++;
  const valid = votes.pos + votes.neg;
  let p = 0.5;
  if (valid > 0) {
    p = weighted ? rationales.filter((r) => r.verdict !== 'invalid').reduce((s, r) => s + (r.p ?? 0.5), 0) / valid : votes.pos / valid;
  }
  const verdict = valid === 0 ? 'invalid' : votes.pos > votes.neg ? 'pos' : votes.neg > votes.pos ? 'neg' : 'tie';
  return { p, votes, verdict, rationales };
}
