// Request schemas of the OpenAI-compatible endpoints (field names per the OpenAI API reference;
// top_k is the vLLM/llama.cpp extension). Unknown fields are ignored, as OpenAI-compatible servers
// do, so clients that send e.g. `user` or `presence_penalty` still work; what is read is checked.
import { z } from 'zod';

const stop = z.union([z.string().min(1), z.array(z.string().min(1)).max(16)]).nullish();

const sampling = {
  model: z.string().optional(),
  max_tokens: z.number().int().min(0).nullish(),
  temperature: z.number().min(0).max(5).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(-1).nullish(), // -1 or 0: off (vLLM uses -1)
  n: z.number().int().min(1).max(128).nullish(),
  stop,
  seed: z.number().int().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
};

export const CompletionRequest = z.object({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.string()).min(1).max(256)]),
  /** Alternatives per position (an int, as in the legacy completions API); null/absent: no logprobs. */
  logprobs: z.number().int().min(0).nullish(),
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
  max_completion_tokens: z.number().int().min(0).nullish(),
  messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })).min(1),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).nullish(),
});
export type ChatRequest = z.output<typeof ChatRequest>;
