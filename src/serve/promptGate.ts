// Prompt checks on the HTTP thread, before a request enters the queue (as vLLM's frontend does):
// a `max_tokens` above the model's context, or a prompt longer than it, is a 400 at once, not
// after the batches queued ahead of it. The HTTP thread holds the model's tokenizer for that (not
// the model): the OpenAI endpoints' prompts are encoded here and their jobs carry the ids, so the
// worker does not encode them again (and streamed replies decode their tokens with it). A prompt whose UTF-8 bytes alone need more tokens than the
// context (at the tokenizer's longest token) is refused without being encoded; the others are
// encoded one at a time, yielding to the event loop between them, so a 1 MiB body does not hold
// /health for the ~100-200 ms its encoding takes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { modelKind } from '../backends/open.js';
import { encodePrompt, renderChat } from '../backends/embedded/render.js';
import { isChatPrompt, type Prompt } from '../backends/types.js';
import { hfEngineTokenizer, HfTokenizer, parseHfConfig } from '../engine/hf/index.js';
import { tokenBytesTable } from '../engine/sampling/index.js';
import { loadTokenizer, type EngineTokenizer } from '../engine/tokenizer/index.js';
import { HttpError } from './errors.js';

/** Encoding work between two yields to the event loop (UTF-8 bytes): ~1-2 ms of BPE. */
const YIELD_EVERY_BYTES = 8192;

export class PromptGate {
  /** The most bytes one token stands for (specials as their text): a prompt has at least bytes / this many tokens. */
  private readonly maxTokenBytes: number;

  constructor(
    /** The model's tokenizer (the streaming replies decode their tokens with it too). */
    readonly tokenizer: EngineTokenizer,
    readonly contextLength: number,
  ) {
    this.maxTokenBytes = Math.max(1, ...tokenBytesTable(tokenizer).map((b) => b.length));
  }

  /** The tokenizer of a genrm checkpoint or Hugging Face folder (the one the worker loads beside the weights). */
  static load(dir: string, contextLength: number): PromptGate {
    if (modelKind(dir) === 'genrm') return new PromptGate(loadTokenizer(join(dir, 'tokenizer.json')), contextLength);
    const cPath = join(dir, 'config.json');
    const hf = parseHfConfig(JSON.parse(readFileSync(cPath, 'utf8')), cPath, { maxSeqLen: contextLength });
    return new PromptGate(hfEngineTokenizer(HfTokenizer.load(dir), hf), contextLength);
  }

  /** 400 naming `field` when a request asks for more new tokens than the whole context holds. */
  checkMaxTokens(maxTokens: number | null | undefined, field: string): void {
    if (maxTokens != null && maxTokens > this.contextLength)
      throw new HttpError(
        400,
        `"${field}" is ${maxTokens}, more than the model's context of ${this.contextLength} tokens (prompt included); ask for at most ${this.contextLength}`,
        'invalid_request_error',
        field,
      );
  }

  /**
   * Each prompt's token ids (beginning of sequence first, as the worker would encode it); a 400
   * naming `field` (with its index for a list) when one does not fit the context. Stops early when
   * `signal` aborts (the client left): nothing is queued then.
   */
  async encode(prompts: readonly Prompt[], field: string, signal?: AbortSignal): Promise<number[][]> {
    const out: number[][] = [];
    let sinceYield = 0;
    for (const [i, p] of prompts.entries()) {
      const name = prompts.length > 1 ? `${field}[${i}]` : field;
      const text = isChatPrompt(p) ? (this.tokenizer.renderChat?.(p) ?? renderChat(p)) : p;
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > this.contextLength * this.maxTokenBytes)
        throw new HttpError(
          400,
          `"${name}" is ${bytes} bytes, at least ${Math.ceil(bytes / this.maxTokenBytes)} tokens (the tokenizer's longest token is ${this.maxTokenBytes} bytes), more than the model's context of ${this.contextLength}; shorten it`,
          'invalid_request_error',
          name,
        );
      if (sinceYield > YIELD_EVERY_BYTES) {
        await yieldLoop();
        sinceYield = 0;
        if (signal?.aborted) throw signal.reason;
      }
      sinceYield += bytes;
      const ids = encodePrompt(this.tokenizer, p);
      if (ids.length > this.contextLength)
        throw new HttpError(
          400,
          `"${name}": the prompt has ${ids.length} tokens (with the beginning-of-sequence token), more than the model's context of ${this.contextLength}; shorten it`,
          'invalid_request_error',
          name,
        );
      out.push(ids);
    }
    return out;
  }
}
