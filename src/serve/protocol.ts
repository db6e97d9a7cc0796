// The request/response protocol between the HTTP thread and the model worker (worker_threads).
// The HTTP thread never touches the model or the tokenizer: it sends jobs (prompts + options) and
// gets back everything a response needs, token pieces included. Messages:
//   worker -> main  { type: 'ready', info } | { type: 'failed', error }   once, after loading
//   main -> worker  { type: 'batch', id, jobs }                          all jobs queued meanwhile
//   (shared memory)  cancel flags, one Int32 per job of the batch in flight: the HTTP thread sets
//                    flag k when job k's request times out or its client hangs up; the worker reads
//                    them while it computes (jobs.ts) and drops that job's rows
//   worker -> main  { type: 'tokens', id, jobs }                         streaming jobs only: after each
//                    decode step, each such job's new tokens (one per sample still decoding)
//   worker -> main  { type: 'echo', id, job, echo }                      a streaming job's echo, before its tokens
//   worker -> main  { type: 'done', id, outcomes }                       one outcome per job, in order
// A job either generates (options) and/or echoes, or — with `candidates` — scores candidate
// continuations at the prompt's end (the judges' verdict log-probs); the worker merges jobs of
// the same kind and options across requests into one engine call (dynamic batching).
import type { Prompt } from '../backends/types.js';
import type { TokenPiece } from '../backends/embedded/pieces.js';
import type { WireError } from './errors.js';

export interface ModelInfo {
  /** The id clients send as `model`. */
  id: string;
  dir: string;
  contextLength: number;
  vocabSize: number;
  /** genrm's tokenizer has [[A]]/[[B]]/[[YES]]/[[NO]] as single tokens. */
  singleTokenVerdicts: boolean;
}

export interface JobOptions {
  n: number;
  temperature: number;
  topP: number;
  topK: number;
  /** 0: no generation (echo-only scoring). */
  maxTokens: number;
  stop: string[];
  seed?: number;
  /** Alternatives per generated position (0 = none). */
  topLogprobs: number;
}

export interface Job {
  /** The prompt ('' when `ids` carries it). */
  prompt: Prompt;
  /** The prompt's token ids, when the HTTP thread encoded it already (to check its length before queueing); the worker then skips encoding. */
  ids?: number[];
  options: JobOptions;
  /** Also return the prompt's own tokens with their logprobs (completions `echo`). */
  echo: boolean;
  /** Score these continuations at the prompt's end instead of generating (options.maxTokens is then 0). */
  candidates?: string[];
  /** Report this job's tokens as they are decoded ('tokens' messages) and its echo as soon as it is scored. */
  stream?: boolean;
}

/** One token a streaming job's sample drew in a decode step (the engine's StepToken, by job). */
export interface StreamToken {
  sample: number;
  id: number;
  logprob: number;
  /** With topLogprobs > 0: the likeliest ids at this position. */
  top?: { id: number; logprob: number }[];
  /** A stop token: it ends the sample and is no part of its text. */
  stop: boolean;
}

/** What one streaming job hears while its batch runs (ModelWorker.run's listener). */
export type JobEvent = { type: 'tokens'; tokens: StreamToken[] } | { type: 'echo'; echo: NonNullable<JobResult['echo']> };

/** What the worker reports of streaming jobs while their batch runs (FromWorker less the batch's id). */
export type StreamReport =
  { type: 'tokens'; jobs: { job: number; tokens: StreamToken[] }[] } | { type: 'echo'; job: number; echo: NonNullable<JobResult['echo']> };

export interface Alternative {
  token: string;
  bytes: number[];
  logprob: number;
}

export interface SampleResult {
  text: string;
  /** Generated tokens up to the end of `text` (tokens past a stop string or the stop token are left out). */
  pieces: TokenPiece[];
  logprobs: number[];
  /** Per position, the likeliest alternatives (when topLogprobs > 0). */
  top?: Alternative[][];
  finishReason: 'stop' | 'length';
  /** Every generated token, the stop token included (usage counts these). */
  generatedTokens: number;
}

export interface JobResult {
  /** Prompt tokens, the beginning-of-sequence token included. */
  promptTokens: number;
  /** With echo: the prompt's text, its pieces (offsets from 0) and log p of each given the tokens before it. */
  echo?: { text: string; pieces: TokenPiece[]; logprobs: number[] };
  samples: SampleResult[];
  /** With `candidates`: log p(candidate | prompt) of each, in order. */
  candidates?: number[];
}

export type Outcome = { ok: true; result: JobResult } | { ok: false; error: WireError };

export type ToWorker = { type: 'batch'; id: number; jobs: Job[] };
export type FromWorker =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'failed'; error: WireError }
  | { type: 'done'; id: number; outcomes: Outcome[] }
  | (StreamReport & { id: number });
