// LanguageModel over genrm's own engine (src/engine/sampling): a checkpoint's Llama on the CPU.
//
//   generate:            one engine `generate` call for all prompts × n (KV-cached, batched);
//                        sample i of a prompt draws from streamSeed(seed + i, prompt tokens).
//   candidateLogprobs:   candidates encoded with specials parsed, so the verdicts are single
//                        tokens: one forward over all prompts reads them at the last position.
//                        Every candidate is seen (found: true); nothing is cut to a top-k.
//   continuationLogprob: teacher-forced log-likelihood, one batched training-style forward.
//
// The engine is synchronous: a call holds the thread it runs on until it is done. The HTTP server
// therefore runs this backend in a worker thread (src/serve/), never on its event loop.
import {
  candidateLogprobs,
  continuationLogprobs,
  generate,
  type DecodeOptions,
  type GeneratedSample,
} from '../../engine/sampling/index.js';
import type { Llama } from '../../engine/model/llama.js';
import { packLlama, type PackedLlama } from '../../engine/model/packed.js';
import type { KvDtype } from '../../engine/model/kv-cache.js';
import type { HfLoadOptions } from '../../engine/hf/model.js';
import type { EngineTokenizer, Tokenizer } from '../../engine/tokenizer/index.js';
import {
  resolveGenerateOptions,
  type CandidateLogprob,
  type Capabilities,
  type GenerateOptions,
  type Generation,
  type LanguageModel,
  type Prompt,
  type Sample,
} from '../types.js';
import { loadHfLanguageModel, loadLanguageModel } from './load.js';
import { tokenString } from './pieces.js';
import { encodeContinuation, encodePrompt } from './render.js';

export interface EmbeddedOptions {
  /** Rows (prompt × sample) decoded in one batch. Default: the engine's (64). */
  maxBatchRows?: number;
  /**
   * Keep a packed copy of the weights (engine/model/packed.ts) for decoding and next-token
   * scoring: their products run ~1.3-1.6x faster from 9 rows up (and at any row count for an F16
   * checkpoint, whose panels are halves: batch-1 decoding ~1.5x), for as much memory again as the
   * weights (half that for halves). A snapshot taken when the backend is made: a model trained
   * afterwards needs a new backend. Default: on up to 50 M parameters (genrm's own), off above.
   */
  packWeights?: boolean;
  /** KV-cache precision of generation (engine DecodeOptions.kvCache): 'f32' (default) or 'f16'. */
  kvCache?: KvDtype;
}

const PACK_BY_DEFAULT_UP_TO = 50e6;

/** T: genrm's own Tokenizer (checkpoints) by default; any EngineTokenizer (Hugging Face folders). */
export class EmbeddedBackend<T extends EngineTokenizer = Tokenizer> implements LanguageModel {
  readonly name: string;
  readonly capabilities: Capabilities;
  /** The weights packed at construction (EmbeddedOptions.packWeights), or undefined. */
  readonly packed: PackedLlama | undefined;

  constructor(
    readonly model: Llama,
    readonly tokenizer: T,
    name = 'embedded',
    private readonly opts: EmbeddedOptions = {},
  ) {
    if (tokenizer.vocabSize !== model.config.vocabSize)
      throw new RangeError(
        `embedded backend: the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabSize is ${model.config.vocabSize}`,
      );
    this.name = name;
    const params = [...model.params.values()].reduce((n, t) => n + t.size, 0);
    this.packed = (opts.packWeights ?? params <= PACK_BY_DEFAULT_UP_TO) ? packLlama(model) : undefined;
    this.capabilities = {
      prompts: { text: true, chat: false }, // chat is rendered in genrm's compact form or the model's template (render.ts)
      generate: true,
      candidateLogprobs: true,
      continuationLogprob: true,
      singleTokenVerdicts: tokenizer.singleTokenVerdicts ?? true,
      contextLength: model.config.maxSeqLen,
    };
  }

  /** Loads a checkpoint folder (kind 'lm'). */
  static load(dir: string, opts: EmbeddedOptions = {}): EmbeddedBackend<Tokenizer> {
    const m = loadLanguageModel(dir);
    return new EmbeddedBackend(m.model, m.tokenizer, `embedded:${dir}`, opts);
  }

  /** Loads a Hugging Face Llama-family folder (its own tokenizer, BOS and chat template). */
  static loadHf(dir: string, opts: EmbeddedOptions & HfLoadOptions = {}): EmbeddedBackend<EngineTokenizer> {
    const m = loadHfLanguageModel(dir, opts.maxSeqLen !== undefined ? { maxSeqLen: opts.maxSeqLen } : {});
    return new EmbeddedBackend(m.model, m.tokenizer, `hf:${dir}`, opts);
  }

  /** A prompt's token ids as this backend feeds them (beginning of sequence first). */
  encode(prompt: Prompt): number[] {
    return encodePrompt(this.tokenizer, prompt);
  }

  /** The engine's samples for token-id prompts: [prompt][sample]. For the server's worker (`hooks`: the engine's DecodeOptions.cancelled and onTokens). */
  generateIds(
    prompts: number[][],
    options: GenerateOptions = {},
    hooks: Pick<DecodeOptions, 'cancelled' | 'onTokens'> = {},
  ): GeneratedSample[][] {
    const o = resolveGenerateOptions(options);
    return generate(this.model, this.tokenizer, prompts, {
      n: o.n,
      temperature: o.temperature,
      topP: o.topP,
      topK: o.topK,
      maxTokens: o.maxTokens,
      stop: o.stop,
      topLogprobs: o.topLogprobs,
      ...(this.tokenizer.stopIds ? { stopTokens: this.tokenizer.stopIds } : {}),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(this.opts.maxBatchRows !== undefined ? { maxBatchRows: this.opts.maxBatchRows } : {}),
      ...(this.packed ? { packed: this.packed } : {}),
      ...(this.opts.kvCache ? { kvCache: this.opts.kvCache } : {}),
      ...(hooks.cancelled ? { cancelled: hooks.cancelled } : {}),
      ...(hooks.onTokens ? { onTokens: hooks.onTokens } : {}),
    });
  }

  /**
   * Per prompt (ids, beginning of sequence first), log p(token_t | tokens_<t) for t >= 1: the
   * "echo" of an OpenAI completions request. One batched teacher-forced forward.
   */
  promptLogprobs(prompts: number[][], signal?: AbortSignal): number[][] {
    const items = prompts.map((p) => ({ prompt: p.slice(0, 1), continuation: p.slice(1) }));
    return continuationLogprobs(this.model, items, signal ? { signal } : {}).map((s) => s.tokens);
  }

  async generate(prompts: Prompt[], options: GenerateOptions = {}): Promise<Generation[]> {
    const out = this.generateIds(
      prompts.map((p) => this.encode(p)),
      options,
    );
    return out.map((samples) => ({ samples: samples.map((s) => this.toSample(s)) }));
  }

  private toSample(s: GeneratedSample): Sample {
    const out: Sample = { text: s.text, tokens: s.tokens, logprobs: s.logprobs, finishReason: s.finishReason };
    if (s.topLogprobs)
      out.topLogprobs = s.topLogprobs.map((alts) => alts.map((a) => ({ token: tokenString(this.tokenizer, a.id), logprob: a.logprob })));
    return out;
  }

  async candidateLogprobs(prompts: Prompt[], candidates: string[], options: { signal?: AbortSignal } = {}): Promise<CandidateLogprob[][]> {
    if (candidates.length === 0) throw new RangeError('candidateLogprobs: no candidates');
    const cands = candidates.map((c, j) => {
      const ids = encodeContinuation(this.tokenizer, c);
      if (ids.length === 0) throw new RangeError(`candidateLogprobs: candidate ${j} is empty`);
      return ids;
    });
    const r = this.candidateLogprobsIds(
      prompts.map((p) => this.encode(p)),
      cands,
      options.signal,
    );
    return r.map((row) => row.map((logprob) => ({ logprob, found: true })));
  }

  /** Per prompt (token ids), log p(candidate | prompt) per candidate (token ids). For the server's worker too. */
  candidateLogprobsIds(prompts: number[][], candidates: number[][], signal?: AbortSignal): number[][] {
    return candidateLogprobs(this.model, prompts, candidates, {
      ...(signal ? { signal } : {}),
      ...(this.packed ? { packed: this.packed } : {}),
    });
  }

  async continuationLogprob(items: { prompt: Prompt; continuation: string }[], options: { signal?: AbortSignal } = {}): Promise<number[]> {
    const enc = items.map((it) => ({ prompt: this.encode(it.prompt), continuation: encodeContinuation(this.tokenizer, it.continuation) }));
    return continuationLogprobs(this.model, enc, options.signal ? { signal: options.signal } : {}).map((s) => s.total);
  }

  /** Tokens a text takes as a prompt, the beginning-of-sequence token included. */
  async countTokens(text: string): Promise<number> {
    return (this.tokenizer.bosIds ?? [this.tokenizer.eotId]).length + this.tokenizer.encode(text, { specials: 'parse' }).length;
  }
}
