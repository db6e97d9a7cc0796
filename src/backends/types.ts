// The one interface that carries inference (docs/ARCHITECTURE.md, Contracts). Judges, the STaR sampler and the
// evaluators depend on `LanguageModel` only, never on a concrete backend (embedded engine,
// OpenAI-compatible HTTP server, ...).
//
// Every method takes arrays and answers arrays in the same order: a backend batches inside (one
// forward pass over many prompts, or many HTTP requests in flight under a concurrency limit).
//
// Prompts. A prompt is either raw text to be continued (completion style) or a list of chat
// messages (the model answers as the assistant). What a backend does with the kind it lacks:
//   - chat messages given to a text-only backend: the backend renders them with its own chat
//     template (the embedded backend uses genrm's compact judge format) and continues that text;
//   - raw text given to a chat-only backend: refused with a CapabilityError. Wrapping it as a
//     user message would silently change what "the continuation at the end of the prompt" means.
// `capabilities.prompts` says which kinds a backend takes natively.

import { checkSampling, SAMPLING_DEFAULTS } from '../engine/sampling/options.js';
import { GenrmError } from '../util/errors.js';

export type Role = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: Role;
  content: string;
}

export type Prompt = string | ChatMessage[];

export function isChatPrompt(p: Prompt): p is ChatMessage[] {
  return Array.isArray(p);
}

export interface GenerateOptions {
  /** Samples per prompt. Default 1. */
  n?: number;
  /** Softmax temperature; 0 means greedy. Default 1.0 (sample from the model as it is). */
  temperature?: number;
  /** Nucleus mass kept. Default 1.0 (no truncation). */
  topP?: number;
  /** Keep only the k most likely tokens; 0 = off. Default 0. Not every server takes it. */
  topK?: number;
  /** Most tokens generated per sample. Default 256 (a judge rationale fits). */
  maxTokens?: number;
  /** Stop strings; generation ends before the first one (not included in the text). */
  stop?: string[];
  /**
   * Seed for reproducible sampling. Sample i of a prompt draws as if seeded with seed + i: the
   * embedded sampler mixes (seed + i, prompt tokens) into sample i's stream; the HTTP backend sends
   * `seed` with n, or seed + i for sample i when it falls back to single requests. So n samples
   * with seed s equal n single samples with seeds s..s+n-1 (on genrm's own server too).
   */
  seed?: number;
  /** Also return the k most likely alternatives at each generated position (0 = none). Default 0. */
  topLogprobs?: number;
  /** Cancels the whole call. */
  signal?: AbortSignal;
}

export interface TokenAlternative {
  token: string;
  logprob: number;
}

export type FinishReason = 'stop' | 'length' | 'error' | 'unknown';

export interface Sample {
  text: string;
  /** The generated tokens as the backend has them: ids (embedded) or strings (HTTP servers). */
  tokens: number[] | string[];
  /** log p(token_t | prefix) of each generated token, same length as `tokens`. */
  logprobs: number[];
  /** Per position, the top alternatives when `topLogprobs > 0` was asked (else absent). */
  topLogprobs?: TokenAlternative[][];
  finishReason: FinishReason;
}

/** For one prompt: its n samples. */
export interface Generation {
  samples: Sample[];
}

export interface CandidateLogprob {
  /** log p(candidate | prompt). When `found` is false this is an upper bound, not a value. */
  logprob: number;
  /**
   * false when the backend could not see this candidate (e.g. an HTTP server returns only its
   * top-k tokens and the candidate was not among them); `logprob` is then the smallest logprob
   * it did see, an upper bound. Judges must report such results as approximate.
   */
  found: boolean;
}

export interface Capabilities {
  /** Prompt kinds taken natively (see the header comment for the other kind). */
  prompts: { text: boolean; chat: boolean };
  generate: boolean;
  /** `candidateLogprobs` works (HTTP: the server returns top logprobs). */
  candidateLogprobs: boolean;
  /** `continuationLogprob` works (HTTP: completions with `echo` + `logprobs`, e.g. vLLM). */
  continuationLogprob: boolean;
  /**
   * The verdicts [[A]] / [[B]] / [[YES]] / [[NO]] are single tokens (genrm's tokenizer). When
   * false a judge ends the prompt at the verdicts' common prefix and scores the distinguishing
   * continuations.
   */
  singleTokenVerdicts: boolean;
  /** Most tokens in prompt + generation; undefined when the backend does not know. */
  contextLength?: number;
  /** At most this many alternatives per position from `candidateLogprobs`/`topLogprobs` (undefined: all). */
  maxTopLogprobs?: number;
}

export interface LanguageModel {
  /** A short id for reports and errors, e.g. "embedded:ckpt/base" or "openai:http://host/v1#model". */
  readonly name: string;
  readonly capabilities: Capabilities;
  /** Per prompt, n samples with per-token log-probs. */
  generate(prompts: Prompt[], options?: GenerateOptions): Promise<Generation[]>;
  /**
   * Per prompt, the log-prob of each candidate continuation at the end of the prompt (the same
   * candidates for every prompt), in the candidates' order.
   */
  candidateLogprobs(prompts: Prompt[], candidates: string[], options?: { signal?: AbortSignal }): Promise<CandidateLogprob[][]>;
  /** Per (prompt, continuation) pair, the total log-likelihood sum_t log p(c_t | prompt, c_<t). */
  continuationLogprob(items: { prompt: Prompt; continuation: string }[], options?: { signal?: AbortSignal }): Promise<number[]>;
  /** Optional: count tokens of a text as this model would (for context-length policies). */
  countTokens?(text: string): Promise<number>;
}

/** A backend was asked for something it cannot do. The message says what to do instead. */
export class CapabilityError extends GenrmError {
  constructor(
    readonly backend: string,
    readonly capability: string,
    message: string,
  ) {
    super(`${backend}: ${capability} is not supported: ${message}`, 'usage');
    this.name = 'CapabilityError';
  }
}

/** The backend answered with something that breaks the contract (e.g. no logprobs where asked). */
export class BackendResponseError extends GenrmError {
  constructor(
    readonly backend: string,
    message: string,
  ) {
    super(`${backend}: ${message}`, 'runtime');
    this.name = 'BackendResponseError';
  }
}

/** The defaults of GenerateOptions, in one place so every backend agrees (the engine's: engine/sampling/options.ts). */
export const GENERATE_DEFAULTS = SAMPLING_DEFAULTS;

/** Fill defaults and check ranges (the engine's one rule per field, checkSampling); a bad option is an error naming it. */
export function resolveGenerateOptions(
  o: GenerateOptions = {},
): Required<Omit<GenerateOptions, 'seed' | 'signal' | 'stop'>> & Pick<GenerateOptions, 'seed' | 'signal'> & { stop: string[] } {
  const r = {
    n: o.n ?? GENERATE_DEFAULTS.n,
    temperature: o.temperature ?? GENERATE_DEFAULTS.temperature,
    topP: o.topP ?? GENERATE_DEFAULTS.topP,
    topK: o.topK ?? GENERATE_DEFAULTS.topK,
    maxTokens: o.maxTokens ?? GENERATE_DEFAULTS.maxTokens,
    topLogprobs: o.topLogprobs ?? GENERATE_DEFAULTS.topLogprobs,
    stop: o.stop ?? [],
  };
  checkSampling({ ...r, seed: o.seed });
  const out: ReturnType<typeof resolveGenerateOptions> = { ...r };
  if (o.seed !== undefined) out.seed = o.seed;
  if (o.signal !== undefined) out.signal = o.signal;
  return out;
}
