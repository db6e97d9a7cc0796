// POST /v1/chat/completions: messages rendered in genrm's compact chat form (by the embedded
// backend in the worker), n samples, logprobs in the chat shape
// choices[].logprobs.content[] = { token, logprob, bytes, top_logprobs: [{ token, logprob, bytes }] },
// and SSE streaming of chat.completion.chunk deltas as the tokens are decoded (stream.ts), ending
// with `data: [DONE]`. Messages may carry content-part arrays (text parts only) and the
// `developer` role; what the server cannot do (tools, response formats) is refused (schemas.ts).
import { randomUUID } from 'node:crypto';
import { readJson } from '../body.js';
import type { Ctx } from '../router.js';
import { sendJson } from '../router.js';
import { ChatRequest } from '../schemas.js';
import { checkModel, jobOptions, now, Sse, usage, type OpenAIDeps } from './common.js';
import { JobStream, type Span } from './stream.js';

function content(s: Span) {
  return s.pieces.map((p, t) => ({
    token: p.text,
    logprob: s.logprobs[t]!,
    bytes: p.bytes,
    top_logprobs: (s.top?.[t] ?? []).map((a) => ({ token: a.token, logprob: a.logprob, bytes: a.bytes })),
  }));
}

export function chatHandler(d: OpenAIDeps) {
  const { worker, gate, bodyLimit } = d;
  return async (ctx: Ctx): Promise<void> => {
    const b = await readJson(ctx.req, ChatRequest, bodyLimit);
    const info = worker.info;
    checkModel(b.model, info);
    gate.checkMaxTokens(b.max_completion_tokens, 'max_completion_tokens');
    gate.checkMaxTokens(b.max_tokens, 'max_tokens');
    const [ids] = await gate.encode([b.messages], 'messages', ctx.signal);
    const wantLogprobs = b.logprobs ?? false;
    const k = wantLogprobs ? (b.top_logprobs ?? 0) : 0;
    // Default: room up to the context's end (the engine stops there), as vLLM does for chat.
    const maxTokens = b.max_completion_tokens ?? b.max_tokens ?? info.contextLength;
    const opts = jobOptions(b, maxTokens, k, 'top_logprobs', info);
    const job = { prompt: '', ids: ids!, options: opts, echo: false };
    const head = { id: `chatcmpl-${randomUUID()}`, created: now(), model: info.id, system_fingerprint: d.fingerprint };

    if (!b.stream) {
      const r = await worker.run(job, ctx.signal);
      const choices = r.samples.map((s, index) => ({
        index,
        message: { role: 'assistant', content: s.text },
        logprobs: wantLogprobs ? { content: content(s) } : null,
        finish_reason: s.finishReason,
      }));
      sendJson(ctx.res, 200, { ...head, object: 'chat.completion', choices, usage: usage([r]) });
      return;
    }
    const chunk = (c: object): void => sse.send({ ...head, object: 'chat.completion.chunk', choices: [c] });
    // The stream opens with each choice's role, before its first text.
    const sse = new Sse(ctx.res, () => {
      for (let index = 0; index < opts.n; index++)
        chunk({ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null });
    });
    const text = (index: number, s: Span): void =>
      chunk({ index, delta: { content: s.text }, logprobs: wantLogprobs ? { content: content(s) } : null, finish_reason: null });
    const stream = new JobStream(gate.tokenizer, opts.stop, text);
    const r = await worker.run({ ...job, stream: true }, ctx.signal, stream.hear);
    stream.rest(r).forEach((s, index) => {
      if (s.text || s.pieces.length) text(index, s);
      chunk({ index, delta: {}, logprobs: null, finish_reason: r.samples[index]!.finishReason });
    });
    if (b.stream_options?.include_usage) sse.send({ ...head, object: 'chat.completion.chunk', choices: [], usage: usage([r]) });
    sse.done();
  };
}
