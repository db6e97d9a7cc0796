// Request schemas of the OpenAI-compatible endpoints (field names per the OpenAI API reference;
// top_k is the vLLM/llama.cpp extension). Unknown fields are ignored, as OpenAI-compatible servers
// do, so clients that send e.g. `user` or `presence_penalty` still work; what is read is checked,
// by the engine's rule for each sampling field (engine/sampling/options.ts) and the server's caps.
import { z } from 'zod';
import { SAMPLING_FIELDS as F } from '../engine/sampling/options.js';

const stop = z.union([z.string().min(1), z.array(z.string().min(1)).max(16)]).nullish();

const sampling = {
  model: z.string().optional(),
  max_tokens: F.maxTokens.schema.nullish(),
  temperature: F.temperature.schema.max(5).nullish(),
  top_p: F.topP.schema.nullish(),
  top_k: z.number().int().min(-1).nullish(), // -1 or 0: off (vLLM uses -1)
  n: F.n.schema.max(128).nullish(),
  stop,
  seed: F.seed.schema.nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
};

export const CompletionRequest = z.object({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.string()).min(1).max(256)]),
  /** Alternatives per position (an int, as in the legacy completions API); null/absent: no logprobs. */
  logprobs: F.topLogprobs.schema.nullish(),
  echo: z.boolean().nullish(),
  /**
   * genrm extension: score these continuations at the end of each prompt instead of sampling
   * (with max_tokens 0). Each choice then carries `candidate_logprobs`, log p(candidate | prompt)
   * in order, exact (no top-k cut): how a direct judge reads [[A]] vs [[B]] in one forward.
   */
  candidates: z.array(z.string().min(1)).min(1).max(16).nullish(),
});
export type CompletionRequest = z.output<typeof CompletionRequest>;

export const ChatRequest = z.object({
  ...sampling,
  max_completion_tokens: F.maxTokens.schema.nullish(),
  messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })).min(1),
  logprobs: z.boolean().nullish(),
  top_logprobs: F.topLogprobs.schema.nullish(),
});
export type ChatRequest = z.output<typeof ChatRequest>;
