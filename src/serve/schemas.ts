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

/**
 * A message's content: a string, or content parts as the OpenAI SDK sends them. Text parts are
 * read (joined with a newline, as vLLM joins them); any other part (image_url, input_audio, file,
 * refusal) is a 400 naming it: the model reads text only.
 */
const contentPart = z.object({ type: z.string(), text: z.string().optional() }).superRefine((p, ctx) => {
  if (p.type !== 'text')
    ctx.addIssue({
      code: 'custom',
      path: ['type'],
      message: `"${p.type}" parts are not supported: this server's model reads text only; send text parts or a string`,
    });
  else if (p.text === undefined) ctx.addIssue({ code: 'custom', path: ['text'], message: 'a text part needs "text" (a string)' });
});

const message = z
  .object({
    /** `developer` is OpenAI's newer name for the system role (o1 and later) and is read as system. */
    role: z.enum(['system', 'developer', 'user', 'assistant']),
    content: z.union([z.string(), z.array(contentPart)]),
  })
  .transform((m) => ({
    role: m.role === 'developer' ? ('system' as const) : m.role,
    content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text ?? '').join('\n'),
  }));

/**
 * An OpenAI request field this server cannot honour: a 400 naming it (as vLLM answers for what it
 * lacks), never a reply that silently ignores it. Absent, null, an empty list, or `allowed` pass.
 */
function refused(why: string, allowed: (v: unknown) => boolean = () => false) {
  return z
    .unknown()
    .superRefine((v, ctx) => {
      if (v == null || (Array.isArray(v) && v.length === 0) || allowed(v)) return;
      ctx.addIssue({ code: 'custom', message: why });
    })
    .optional();
}

const NO_TOOLS = 'tool and function calling is not supported by this server (its model has no tool-call format); leave it out';

export const ChatRequest = z.object({
  ...sampling,
  max_completion_tokens: F.maxTokens.schema.nullish(),
  messages: z.array(message).min(1),
  logprobs: z.boolean().nullish(),
  top_logprobs: F.topLogprobs.schema.nullish(),
  response_format: refused(
    'only {"type": "text"} is supported: this server has no constrained decoding (JSON mode, JSON schemas)',
    (v) => typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'text',
  ),
  tools: refused(NO_TOOLS),
  tool_choice: refused(NO_TOOLS, (v) => v === 'none'),
  functions: refused(NO_TOOLS),
  function_call: refused(NO_TOOLS, (v) => v === 'none'),
});
export type ChatRequest = z.output<typeof ChatRequest>;
