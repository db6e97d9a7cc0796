// LanguageModel over an OpenAI-compatible server. Text prompts go to /v1/completions, chat
// prompts to /v1/chat/completions.
//
//   generate:            `n` per request; a server that refuses n > 1 (an HTTP 4xx on such a
//                        request) or answers with fewer choices (llama.cpp, Ollama) gets the
//                        missing samples as single requests with seeds seed+i, and is remembered
//                        (per base URL) so later calls go straight to single requests.
//   candidateLogprobs:   text: one greedy token with `logprobs: k` and the candidates read from its
//                        top_logprobs; chat: a few greedy tokens with `logprobs: true, top_logprobs: k`
//                        and the candidates read where the verdict was chosen (tokenAlign.ts).
//                        Candidates outside the top k come back found: false (an upper bound).
//                        A genrm server (candidatesExtension): /v1/completions with `candidates`,
//                        exact log-probs from one forward.
//   prompt lists:        a server that takes a list of prompts in one /v1/completions request (the
//                        OpenAI API allows it; genrm serve says so in /v1/models, vLLM does too)
//                        gets a batch's text prompts in few requests of at most `rowsPerRequest`
//                        rows (prompts × n) each, instead of one request per prompt: the HTTP and
//                        JSON work per judgment shrinks with the batch, as in-process.
//   continuationLogprob: completions with `echo: true, logprobs: 1, max_tokens: 0` (vLLM): the
//                        prompt's own token logprobs, summed over the tokens that hold continuation
//                        text. Servers without it get a CapabilityError, remembered per base URL.
import {
  BackendResponseError,
  CapabilityError,
  isChatPrompt,
  resolveGenerateOptions,
  type CandidateLogprob,
  type Capabilities,
  type ChatMessage,
  type GenerateOptions,
  type Generation,
  type LanguageModel,
  type Prompt,
  type Sample,
} from '../types.js';
import { candidatesAtPosition, verdictLogprobsFromSample } from '../tokenAlign.js';
import { OpenAIClient, type ClientOptions } from './client.js';
import { APIError } from './errors.js';
import { chatSamples, completionSamples, topAlternatives, type ChatChoice, type CompletionChoice, type ListReply } from './wire.js';

export interface OpenAIBackendOptions extends ClientOptions {
  /** The model name the server knows. */
  model: string;
  /** Context length if known (enables the judge's context policy only with a token counter; servers check it too). */
  contextLength?: number;
  /** Alternatives asked per position. 20: the OpenAI API's maximum for chat; vLLM allows more. */
  topLogprobs?: number;
  /** Greedy tokens generated to find a chat verdict. 16: a verdict-only reply fits. */
  chatVerdictTokens?: number;
  /**
   * The server scores candidates itself: /v1/completions with `candidates` (genrm serve's
   * extension, advertised in /v1/models). Exact log-probs from one forward, instead of one greedy
   * token whose top-k alternatives are searched (a vocabulary-sized reply per prompt).
   */
  candidatesExtension?: boolean;
  /**
   * The server takes `prompt` as a list in /v1/completions (OpenAI's API allows it; genrm serve
   * advertises `promptLists` in /v1/models; vLLM supports it). Text prompts of one call then share
   * requests. Off by default: llama.cpp's and Ollama's OpenAI endpoints differ here.
   */
  promptLists?: boolean;
  /** With promptLists: most rows (prompts × n) per request. 64: one engine batch of the default size, well inside a server's deadline. */
  rowsPerRequest?: number;
}

/** What we learned about a server, shared by every backend on the same base URL. */
interface ServerQuirks {
  refusesN?: boolean;
  noEcho?: string;
}
const quirks = new Map<string, ServerQuirks>();

export class OpenAIBackend implements LanguageModel {
  readonly name: string;
  readonly capabilities: Capabilities;
  readonly client: OpenAIClient;
  private readonly model: string;
  private readonly k: number;
  private readonly chatVerdictTokens: number;
  private readonly candidatesExtension: boolean;
  private readonly promptLists: boolean;
  private readonly rowsPerRequest: number;

  constructor(o: OpenAIBackendOptions) {
    if (!o.model) throw new RangeError('openai backend: model is required (the name the server serves)');
    this.client = new OpenAIClient(o);
    this.model = o.model;
    this.k = o.topLogprobs ?? 20;
    this.chatVerdictTokens = o.chatVerdictTokens ?? 16;
    this.candidatesExtension = o.candidatesExtension ?? false;
    this.promptLists = o.promptLists ?? false;
    this.rowsPerRequest = o.rowsPerRequest ?? 64;
    if (!(Number.isInteger(this.rowsPerRequest) && this.rowsPerRequest >= 1))
      throw new RangeError(`openai backend: rowsPerRequest must be an integer >= 1, got ${this.rowsPerRequest}`);
    this.name = `openai:${this.client.baseURL}#${o.model}`;
    this.capabilities = {
      prompts: { text: true, chat: true },
      generate: true,
      candidateLogprobs: true,
      continuationLogprob: true, // optimistic: a server without echo answers with a CapabilityError
      singleTokenVerdicts: false, // unknown tokenizer: judges use the common-prefix scheme
      maxTopLogprobs: this.k,
      ...(o.contextLength !== undefined ? { contextLength: o.contextLength } : {}),
    };
  }

  private get quirks(): ServerQuirks {
    let q = quirks.get(this.client.baseURL);
    if (!q) quirks.set(this.client.baseURL, (q = {}));
    return q;
  }

  private body(prompt: Prompt, o: ReturnType<typeof resolveGenerateOptions>, n: number, seed: number | undefined): Record<string, unknown> {
    const b: Record<string, unknown> = { model: this.model, n, temperature: o.temperature, top_p: o.topP, max_tokens: o.maxTokens };
    if (o.stop.length) b.stop = o.stop;
    if (seed !== undefined) b.seed = seed;
    if (o.topK > 0) b.top_k = o.topK; // vLLM/SGLang/llama.cpp extension; hosted APIs may reject it
    if (isChatPrompt(prompt)) {
      b.messages = prompt;
      b.logprobs = true;
      if (o.topLogprobs > 0) b.top_logprobs = o.topLogprobs;
    } else {
      b.prompt = prompt;
      b.logprobs = Math.max(1, o.topLogprobs); // completions: an int, the alternatives per position
    }
    return b;
  }

  private async call(prompt: Prompt, body: Record<string, unknown>, topK: number, signal?: AbortSignal): Promise<Sample[]> {
    if (isChatPrompt(prompt)) return chatSamples(await this.client.post<ListReply<ChatChoice>>('/chat/completions', body, signal), topK);
    return completionSamples(await this.client.post<ListReply<CompletionChoice>>('/completions', body, signal), topK);
  }

  async generate(prompts: Prompt[], options: GenerateOptions = {}): Promise<Generation[]> {
    const o = resolveGenerateOptions(options);
    if (this.promptLists) {
      return this.inLists(
        prompts,
        Math.max(1, Math.floor(this.rowsPerRequest / o.n)),
        async (texts) => {
          const samples = await this.call('', { ...this.body('', o, o.n, o.seed), prompt: texts }, o.topLogprobs, o.signal);
          if (samples.length !== texts.length * o.n)
            throw new BackendResponseError(
              this.name,
              `asked for ${texts.length} prompts × n ${o.n} = ${texts.length * o.n} choices, got ${samples.length}`,
            );
          return texts.map((_, k) => ({ samples: samples.slice(k * o.n, (k + 1) * o.n) }));
        },
        async (chat) => ({ samples: await this.samplesFor(chat, o) }),
      );
    }
    return Promise.all(prompts.map(async (p) => ({ samples: await this.samplesFor(p, o) })));
  }

  /**
   * Prompt lists: the text prompts go `per` to a request (concurrently; the client caps requests
   * in flight) through `texts`, each chat prompt alone through `chat`; results in prompt order.
   */
  private async inLists<T>(
    prompts: Prompt[],
    per: number,
    texts: (list: string[]) => Promise<T[]>,
    chat: (p: ChatMessage[]) => Promise<T>,
  ): Promise<T[]> {
    const out: T[] = new Array(prompts.length);
    const text: number[] = [];
    const chats: Promise<void>[] = [];
    prompts.forEach((p, i) => (isChatPrompt(p) ? chats.push(chat(p).then((r) => void (out[i] = r))) : text.push(i)));
    const lists: Promise<void>[] = [];
    for (let i = 0; i < text.length; i += per) {
      const idx = text.slice(i, i + per);
      lists.push(texts(idx.map((j) => prompts[j] as string)).then((rs) => idx.forEach((j, k) => (out[j] = rs[k]!))));
    }
    await Promise.all([...lists, ...chats]);
    return out;
  }

  private async samplesFor(p: Prompt, o: ReturnType<typeof resolveGenerateOptions>): Promise<Sample[]> {
    const single = (i: number): Promise<Sample[]> =>
      this.call(p, this.body(p, o, 1, o.seed === undefined ? undefined : o.seed + i), o.topLogprobs, o.signal);
    let samples: Sample[] = [];
    if (o.n === 1 || !this.quirks.refusesN) {
      try {
        samples = await this.call(p, this.body(p, o, o.n, o.seed), o.topLogprobs, o.signal);
      } catch (e) {
        // A 4xx on n > 1 may be the server refusing n; single requests tell us for sure.
        if (!(
          e instanceof APIError &&
          o.n > 1 &&
          e.status >= 400 &&
          e.status < 500 &&
          e.status !== 401 &&
          e.status !== 403 &&
          e.status !== 429
        ))
          throw e;
        samples = await single(0);
        this.quirks.refusesN = true;
      }
      if (o.n > 1 && samples.length < o.n) this.quirks.refusesN = true;
    }
    // Top up with seeded single requests (sample i uses seed + i, so reruns reproduce).
    const rest = await Promise.all(Array.from({ length: Math.max(0, o.n - samples.length) }, (_, k) => single(samples.length + k)));
    samples = [...samples, ...rest.flat()];
    if (samples.length < o.n) throw new BackendResponseError(this.name, `asked for ${o.n} samples, got ${samples.length}`);
    return samples.slice(0, o.n);
  }

  async candidateLogprobs(prompts: Prompt[], candidates: string[], options: { signal?: AbortSignal } = {}): Promise<CandidateLogprob[][]> {
    if (candidates.length === 0) throw new RangeError('candidateLogprobs: no candidates');
    if (this.candidatesExtension && this.promptLists)
      return this.inLists(
        prompts,
        this.rowsPerRequest,
        (texts) => this.extensionCandidates(texts, candidates, options.signal),
        (chat) => this.chatCandidates(chat, candidates, options.signal),
      );
    return Promise.all(
      prompts.map((p) =>
        isChatPrompt(p) ? this.chatCandidates(p, candidates, options.signal) : this.textCandidates(p, candidates, options.signal),
      ),
    );
  }

  private noLogprobs(what: string): CapabilityError {
    return new CapabilityError(
      this.name,
      'candidateLogprobs',
      `the server returned no ${what} logprobs; use a server that supports them (vLLM, SGLang, llama.cpp, OpenAI) or --mode cot`,
    );
  }

  private async textCandidates(prompt: string, candidates: string[], signal?: AbortSignal): Promise<CandidateLogprob[]> {
    if (this.candidatesExtension) return (await this.extensionCandidates([prompt], candidates, signal))[0]!;
    const body = { model: this.model, prompt, max_tokens: 1, temperature: 0, logprobs: this.k };
    const reply = await this.client.post<ListReply<CompletionChoice>>('/completions', body, signal);
    const top = reply.choices?.[0]?.logprobs?.top_logprobs?.[0];
    if (!top) throw this.noLogprobs('top');
    return candidatesAtPosition(topAlternatives(top), candidates, '') ?? this.unseen(topAlternatives(top), candidates);
  }

  /** The `candidates` extension: exact log-probs of each candidate after each prompt, one request. */
  private async extensionCandidates(prompts: string[], candidates: string[], signal?: AbortSignal): Promise<CandidateLogprob[][]> {
    const reply = await this.client.post<ListReply<CompletionChoice & { candidate_logprobs?: number[] }>>(
      '/completions',
      { model: this.model, prompt: prompts.length === 1 ? prompts[0] : prompts, max_tokens: 0, candidates },
      signal,
    );
    const choices = reply.choices ?? [];
    if (choices.length !== prompts.length)
      throw new BackendResponseError(this.name, `asked for candidate_logprobs of ${prompts.length} prompts, got ${choices.length} choices`);
    return prompts.map((_, p) => {
      const lps = choices.find((c) => (c.index ?? 0) === p)?.candidate_logprobs;
      if (!Array.isArray(lps) || lps.length !== candidates.length || !lps.every((x) => typeof x === 'number'))
        throw new BackendResponseError(
          this.name,
          `asked for ${candidates.length} candidate_logprobs, got ${JSON.stringify(lps)?.slice(0, 80)}`,
        );
      return lps.map((logprob) => ({ logprob, found: true }));
    });
  }

  private async chatCandidates(messages: ChatMessage[], candidates: string[], signal?: AbortSignal): Promise<CandidateLogprob[]> {
    const body = { model: this.model, messages, max_tokens: this.chatVerdictTokens, temperature: 0, logprobs: true, top_logprobs: this.k };
    const reply = await this.client.post<ListReply<ChatChoice>>('/chat/completions', body, signal);
    const s = chatSamples(reply, this.k)[0];
    if (!s || !s.topLogprobs || s.tokens.length === 0) throw this.noLogprobs('chat');
    const r = verdictLogprobsFromSample(s.tokens as string[], s.logprobs, s.topLogprobs, candidates);
    return r ?? this.unseen(s.topLogprobs.flat(), candidates);
  }

  /** No candidate visible: every one is bounded by the least likely alternative seen. */
  private unseen(alts: { logprob: number }[], candidates: string[]): CandidateLogprob[] {
    const floor = alts.length ? Math.min(...alts.map((a) => a.logprob)) : -Infinity;
    return candidates.map(() => ({ logprob: floor, found: false }));
  }

  async continuationLogprob(items: { prompt: Prompt; continuation: string }[], options: { signal?: AbortSignal } = {}): Promise<number[]> {
    return Promise.all(items.map((it) => this.oneContinuation(it.prompt, it.continuation, options.signal)));
  }

  private async oneContinuation(prompt: Prompt, continuation: string, signal?: AbortSignal): Promise<number> {
    const cap = 'continuationLogprob';
    if (isChatPrompt(prompt))
      throw new CapabilityError(this.name, cap, 'chat endpoints do not return prompt logprobs; give a text prompt (completions with echo)');
    if (this.quirks.noEcho) throw new CapabilityError(this.name, cap, this.quirks.noEcho);
    if (prompt.length === 0) throw new RangeError('continuationLogprob: the prompt is empty (the first token has no conditional log-prob)');
    const full = prompt + continuation;
    let reply: ListReply<CompletionChoice>;
    try {
      reply = await this.client.post<ListReply<CompletionChoice>>(
        '/completions',
        { model: this.model, prompt: full, echo: true, logprobs: 1, max_tokens: 0, temperature: 0 },
        signal,
      );
    } catch (e) {
      if (e instanceof APIError && e.status >= 400 && e.status < 500 && e.status !== 401 && e.status !== 403 && e.status !== 429) {
        this.quirks.noEcho = `the server refused completions with echo + logprobs (${e.status}); continuation log-likelihood needs one that returns prompt logprobs (e.g. vLLM)`;
        throw new CapabilityError(this.name, cap, this.quirks.noEcho);
      }
      throw e;
    }
    const lp = reply.choices?.[0]?.logprobs;
    const tokens = lp?.tokens;
    const offs = lp?.text_offset;
    const vals = lp?.token_logprobs;
    if (!tokens || !offs || !vals || tokens.length !== offs.length || tokens.length !== vals.length || (offs[0] ?? 1) !== 0) {
      this.quirks.noEcho =
        'the server did not echo the prompt with per-token logprobs and offsets; continuation log-likelihood needs one that does (e.g. vLLM)';
      throw new CapabilityError(this.name, cap, this.quirks.noEcho);
    }
    // Tokens that hold any continuation text count (one that straddles the boundary included:
    // the tokenizer merged the two, and its log-prob is the only one covering that text).
    let sum = 0;
    for (let i = 0; i < tokens.length; i++) {
      const start = offs[i] as number;
      if (start >= full.length) break; // generated tokens, if a server ignored max_tokens: 0
      const end = start + (tokens[i] as string).length;
      if (end <= prompt.length) continue;
      const v = vals[i];
      if (v === null || v === undefined || !Number.isFinite(v))
        throw new BackendResponseError(this.name, `no log-prob for continuation token ${i} (${JSON.stringify(tokens[i])})`);
      sum += v;
    }
    return sum;
  }
}

/** For tests: forget what was learned about servers. */
export function resetServerQuirks(): void {
  quirks.clear();
}
