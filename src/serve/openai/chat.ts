// POST /v1/chat/completions: messages rendered in genrm's compact chat form (by the embedded
// backend in the worker), n samples, logprobs in the chat shape
// choices[].logprobs.content[] = { token, logprob, bytes, top_logprobs: [{ token, logprob, bytes }] },
// and SSE streaming of chat.completion.chunk deltas ending with `data: [DONE]`.
import { randomUUID } from 'node:crypto';
import { readJson } from '../body.js';
import type { ModelWorker } from '../modelWorker.js';
import type { PromptGate } from '../promptGate.js';
import type { SampleResult } from '../protocol.js';
import type { Ctx } from '../router.js';
import { sendJson } from '../router.js';
import { ChatRequest } from '../schemas.js';
import { checkModel, jobOptions, now, Sse, usage } from './common.js';

function content(s: SampleResult, from = 0, to = s.pieces.length) {
  return s.pieces.slice(from, to).map((p, j) => {
    const t = from + j;
    return {
      token: p.text,
      logprob: s.logprobs[t]!,
      bytes: p.bytes,
      top_logprobs: (s.top?.[t] ?? []).map((a) => ({ token: a.token, logprob: a.logprob, bytes: a.bytes })),
    };
  });
}

export function chatHandler(worker: ModelWorker, gate: PromptGate, bodyLimit: number) {
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
    const r = await worker.run({ prompt: '', ids: ids!, options: opts, echo: false }, ctx.signal);

    const id = `chatcmpl-${randomUUID()}`;
    const created = now();
    const u = usage([r]);
    if (!b.stream) {
      const choices = r.samples.map((s, index) => ({
        index,
        message: { role: 'assistant', content: s.text },
        logprobs: wantLogprobs ? { content: content(s) } : null,
        finish_reason: s.finishReason,
      }));
      sendJson(ctx.res, 200, { id, object: 'chat.completion', created, model: info.id, choices, usage: u });
      return;
    }
    const sse = new Sse(ctx.res);
    const chunk = (c: object): void => sse.send({ id, object: 'chat.completion.chunk', created, model: info.id, choices: [c] });
    r.samples.forEach((s, index) => {
      chunk({ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null });
      s.pieces.forEach((p, t) => chunk({ index, delta: { content: p.text }, logprobs: wantLogprobs ? { content: content(s, t, t + 1) } : null, finish_reason: null }));
      chunk({ index, delta: {}, logprobs: null, finish_reason: s.finishReason });
    });
    if (b.stream_options?.include_usage) sse.send({ id, object: 'chat.completion.chunk', created, model: info.id, choices: [], usage: u });
    sse.done();
  };
}
