// Sampling and scoring on the engine's Llama: what the embedded LanguageModel backend wraps.
//   generate            -> LanguageModel.generate (n samples per prompt: text, tokens, logprobs)
//   candidateLogprobs   -> LanguageModel.candidateLogprobs (log p of each candidate at the prompt's end)
//   continuationLogprobs-> LanguageModel.continuationLogprob (teacher-forced log-likelihood)
export { generate, type DecodeOptions, type GeneratedSample, type StepToken, type StopReason } from './generate.js';
export { checkSampling, SAMPLING_DEFAULTS, SAMPLING_FIELDS, type SamplingField } from './options.js';
export { candidateLogprobs, continuationLogprobs, nextTokenLogprobs, type ContinuationScore, type ScoreOptions } from './scoring.js';
export { Sampler, streamSeed, type SamplingParams } from './sample.js';
export { RowText, tokenBytesTable } from './stop.js';
export { shiftLeft, stackAligned, leadingPad } from './cache-ops.js';
