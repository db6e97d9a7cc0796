// What the OpenAI endpoints share: their dependencies, the model check, sampling options, the
// system fingerprint, SSE output.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { genrmVersion } from '../../engine/checkpoint.js';
import { HttpError } from '../errors.js';
import type { ModelWorker } from '../modelWorker.js';
import type { PromptGate } from '../promptGate.js';
import type { JobOptions, JobResult, ModelInfo } from '../protocol.js';

export interface OpenAIDeps {
  worker: ModelWorker;
  gate: PromptGate;
  bodyLimit: number;
  /** `system_fingerprint` of every reply and chunk (systemFingerprint). */
  fingerprint: string;
  /** genrm's extensions of the OpenAI API (`candidates`, the `genrm` block of /v1/models); off: `--no-extensions`. */
  extensions: boolean;
}

/** 404 in OpenAI's shape (type invalid_request_error, code model_not_found) unless `model` is absent or the served one. */
export function checkModel(model: string | undefined, info: ModelInfo): void {
  if (model !== undefined && model !== info.id)
    throw new HttpError(
      404,
      `the model "${model}" does not exist here; this server serves "${info.id}"`,
      'invalid_request_error',
      'model',
      'model_not_found',
    );
}

/**
 * What OpenAI's `system_fingerprint` stands for, the configuration that answers: genrm's version,
 * the model folder's files (names, sizes, modification times: new weights, a new fingerprint,
 * without hashing gigabytes) and the settings that change numbers (KV-cache precision, batch rows).
 */
export function systemFingerprint(dir: string, settings: Record<string, unknown>): string {
  const files = readdirSync(dir)
    .sort()
    .map((name) => {
      const st = statSync(join(dir, name));
      return st.isFile() ? [name, st.size, Math.round(st.mtimeMs)] : [name];
    });
  return `fp_${createHash('sha256')
    .update(JSON.stringify({ genrm: genrmVersion(), files, settings }))
    .digest('hex')
    .slice(0, 12)}`;
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
    throw new HttpError(
      400,
      `"${topLogprobsField}": at most ${info.vocabSize} alternatives (the vocabulary size), got ${topLogprobs}`,
      'invalid_request_error',
      topLogprobsField,
    );
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

/**
 * Server-sent events: `data: {json}` records, closed by `data: [DONE]` (the OpenAI streaming
 * format). The 200 and its headers go with the first record (then `onOpen` sends what leads the
 * stream), so a request refused before any token still gets its error status. Nothing is written
 * once the response has ended (a deadline's error event) or its client has gone.
 */
export class Sse {
  /** undefined: not yet opened; false: someone else answered first. */
  private opened: boolean | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly onOpen?: () => void,
  ) {}

  send(obj: unknown): void {
    if (!this.open()) return;
    this.res.write(`data: ${JSON.stringify(obj)}\n\n`);
  }

  done(): void {
    if (this.open()) this.res.end('data: [DONE]\n\n');
  }

  private open(): boolean {
    if (this.res.writableEnded || this.res.destroyed) return false;
    if (this.opened === undefined) {
      this.opened = !this.res.headersSent;
      if (!this.opened) return false;
      this.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      this.onOpen?.();
    }
    return this.opened;
  }
}

export const now = (): number => Math.floor(Date.now() / 1000);
