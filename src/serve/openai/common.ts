// What the completions and chat endpoints share: the model check, sampling options, SSE output.
import type { ServerResponse } from 'node:http';
import { HttpError } from '../errors.js';
import type { JobOptions, JobResult, ModelInfo } from '../protocol.js';

export function checkModel(model: string | undefined, info: ModelInfo): void {
  if (model !== undefined && model !== info.id)
    throw new HttpError(404, `the model "${model}" does not exist here; this server serves "${info.id}"`, 'not_found_error', 'model', 'model_not_found');
}

interface Sampling {
  temperature?: number | null | undefined;
  top_p?: number | null | undefined;
  top_k?: number | null | undefined;
  n?: number | null | undefined;
  stop?: string | string[] | null | undefined;
  seed?: number | null | undefined;
}

/** Request fields -> job options. Defaults are OpenAI's (temperature 1, top_p 1, n 1). */
export function jobOptions(b: Sampling, maxTokens: number, topLogprobs: number, topLogprobsField: string, info: ModelInfo): JobOptions {
  if (topLogprobs > info.vocabSize)
    throw new HttpError(400, `"${topLogprobsField}": at most ${info.vocabSize} alternatives (the vocabulary size), got ${topLogprobs}`, 'invalid_request_error', topLogprobsField);
  const o: JobOptions = {
    n: b.n ?? 1,
    temperature: b.temperature ?? 1,
    topP: b.top_p ?? 1,
    topK: Math.max(0, b.top_k ?? 0),
    maxTokens,
    stop: b.stop == null ? [] : typeof b.stop === 'string' ? [b.stop] : b.stop,
    topLogprobs,
  };
  if (b.seed != null) o.seed = b.seed;
  return o;
}

export function usage(results: JobResult[]): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const prompt = results.reduce((s, r) => s + r.promptTokens, 0);
  const completion = results.reduce((s, r) => s + r.samples.reduce((t, x) => t + x.generatedTokens, 0), 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Server-sent events: `data: {json}` records, closed by `data: [DONE]` (the OpenAI streaming format). */
export class Sse {
  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  }

  send(obj: unknown): void {
    this.res.write(`data: ${JSON.stringify(obj)}\n\n`);
  }

  done(): void {
    this.res.end('data: [DONE]\n\n');
  }
}

export const now = (): number => Math.floor(Date.now() / 1000);
