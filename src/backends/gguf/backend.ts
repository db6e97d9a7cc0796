// LanguageModel over a GGUF file through llama.cpp (node-llama-cpp), on the CPU.
//
//   generate:            token by token with controlledEvaluate, reading the full next-token
//                        distribution at each step (per-token logprobs, top alternatives) and
//                        sampling it with genrm's own seeded rule (temperature, top-k, top-p).
//   candidateLogprobs:   one controlled evaluation of prompt + candidate per candidate; exact
//                        (found: true), multi-token candidates summed.
//   continuationLogprob: one controlled evaluation of prompt + continuation, probabilities read
//                        at each continuation position.
//   batching:            one llama.cpp context with `sequences` slots; concurrent items run on
//                        separate sequences, which llama.cpp decodes in shared batches.
//
// Prompts are raw text (a BOS first when the model asks for one); chat messages are refused:
// GGUF chat templates are the model's business and genrm does not guess them here.
import { Prng } from '../../engine/prng.js';
import { CapabilityError, resolveGenerateOptions, type CandidateLogprob, type Capabilities, type GenerateOptions, type Generation, type LanguageModel, type Prompt, type Sample } from '../types.js';
import { nodeLlamaCpp, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from './load.js';

export interface GgufOptions {
  /** Sequences decoded together (llama.cpp batch slots). Default 4: the 2-core machines here gain little beyond. */
  sequences?: number;
  /** Tokens per sequence. Default: the model's training context, at most 2048 (KV memory). */
  contextSize?: number;
  /** CPU threads; default: node-llama-cpp's choice (the machine's cores). */
  threads?: number;
}

export class GgufBackend implements LanguageModel {
  readonly capabilities: Capabilities;
  private free: LlamaContextSequence[];
  private waiters: Array<(s: LlamaContextSequence) => void> = [];

  private constructor(
    readonly name: string,
    readonly model: LlamaModel,
    private readonly context: LlamaContext,
  ) {
    this.free = Array.from({ length: context.totalSequences }, () => context.getSequence());
    this.capabilities = {
      prompts: { text: true, chat: false },
      generate: true,
      candidateLogprobs: true,
      continuationLogprob: true,
      singleTokenVerdicts: false,
      contextLength: context.contextSize,
    };
  }

  static async load(path: string, opts: GgufOptions = {}): Promise<GgufBackend> {
    const { getLlama } = await nodeLlamaCpp();
    // Prebuilt binaries only: building llama.cpp from source would need cmake and a download.
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
    const model = await llama.loadModel({ modelPath: path });
    const contextSize = opts.contextSize ?? Math.min(model.trainContextSize, 2048);
    const context = await model.createContext({ contextSize, sequences: opts.sequences ?? 4, ...(opts.threads ? { threads: opts.threads } : {}) });
    return new GgufBackend(`gguf:${path}`, model, context);
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }

  /** Token ids of a prompt as this backend feeds it. */
  encode(prompt: Prompt): Token[] {
    if (Array.isArray(prompt)) throw new CapabilityError(this.name, 'chat prompts', 'render the messages to text with the model\'s chat template and pass the text');
    const ids = this.model.tokenize(prompt, true);
    const bos = this.model.tokens.bos;
    return bos !== null && this.model.tokens.shouldPrependBosToken ? [bos, ...ids] : ids;
  }

  private tokensOf(text: string): Token[] {
    return this.model.tokenize(text, true);
  }

  /** Runs fn on a free sequence (cleared), waiting for one when all are busy. */
  private async withSequence<T>(fn: (s: LlamaContextSequence) => Promise<T>): Promise<T> {
    const s = this.free.pop() ?? (await new Promise<LlamaContextSequence>((r) => this.waiters.push(r)));
    try {
      await s.clearHistory();
      return await fn(s);
    } finally {
      const w = this.waiters.shift();
      if (w) w(s);
      else this.free.push(s);
    }
  }

  /** log p(tokens[i] | tokens[<i]) for i in [from, tokens.length). */
  private async tokenLogprobs(tokens: Token[], from: number): Promise<number[]> {
    if (from < 1) throw new Error(`${this.name}: scoring needs at least one context token before position ${from}`);
    return this.withSequence(async (s) => {
      const input = tokens.map((t, i) => (i >= from - 1 && i < tokens.length - 1 ? ([t, { generateNext: { probabilities: true } }] as const) : t));
      const out = await s.controlledEvaluate(input as Array<Token | [Token, { generateNext: { probabilities: boolean } }]>);
      const lps: number[] = [];
      for (let i = from; i < tokens.length; i++) {
        const p = out[i - 1]?.next?.probabilities?.get(tokens[i]!) ?? 0;
        lps.push(Math.log(p));
      }
      return lps;
    });
  }

  async continuationLogprob(items: { prompt: Prompt; continuation: string }[]): Promise<number[]> {
    return Promise.all(
      items.map(async ({ prompt, continuation }) => {
        const p = this.encode(prompt);
        const lps = await this.tokenLogprobs([...p, ...this.tokensOf(continuation)], p.length);
        return lps.reduce((a, b) => a + b, 0);
      }),
    );
  }

  async candidateLogprobs(prompts: Prompt[], candidates: string[]): Promise<CandidateLogprob[][]> {
    const cands = candidates.map((c) => this.tokensOf(c));
    return Promise.all(
      prompts.map(async (prompt) => {
        const p = this.encode(prompt);
        return Promise.all(cands.map(async (c) => ({ logprob: (await this.tokenLogprobs([...p, ...c], p.length)).reduce((a, b) => a + b, 0), found: true })));
      }),
    );
  }

  async generate(prompts: Prompt[], options: GenerateOptions = {}): Promise<Generation[]> {
    const o = resolveGenerateOptions(options);
    const eos = this.model.tokens.eos;
    return Promise.all(
      prompts.map(async (prompt) => {
        const ids = this.encode(prompt);
        const samples: Sample[] = await Promise.all(
          Array.from({ length: o.n }, (_, i) =>
            this.withSequence(async (s) => {
              const rng = new Prng((o.seed ?? Math.floor(Math.random() * 2 ** 31)) + i);
              const tokens: Token[] = [];
              const logprobs: number[] = [];
              let input: Token[] = ids;
              let finish: Sample['finishReason'] = 'length';
              let text = '';
              while (tokens.length < o.maxTokens && ids.length + tokens.length < this.context.contextSize) {
                o.signal?.throwIfAborted();
                const out = await s.controlledEvaluate(input.map((t, j) => (j === input.length - 1 ? ([t, { generateNext: { probabilities: true } }] as [Token, { generateNext: { probabilities: boolean } }]) : t)));
                const probs = out[input.length - 1]?.next?.probabilities;
                if (!probs) throw new Error(`${this.name}: llama.cpp returned no probabilities`);
                const tok = pick(probs, o.temperature, o.topK, o.topP, rng);
                if (tok === eos) {
                  finish = 'stop';
                  break;
                }
                tokens.push(tok);
                logprobs.push(Math.log(probs.get(tok) ?? 0));
                text = this.model.detokenize(tokens);
                const hit = o.stop.map((st) => text.indexOf(st)).filter((k) => k >= 0);
                if (hit.length > 0) {
                  text = text.slice(0, Math.min(...hit));
                  finish = 'stop';
                  break;
                }
                input = [tok];
              }
              return { text, tokens: tokens.map(Number), logprobs, finishReason: finish };
            }),
          ),
        );
        return { samples };
      }),
    );
  }

  async countTokens(text: string): Promise<number> {
    return this.tokensOf(text).length;
  }
}

/** A token from llama.cpp's (descending) probabilities: greedy at temperature 0, else top-k, top-p, then a draw. */
function pick(probs: Map<Token, number>, temperature: number, topK: number, topP: number, rng: Prng): Token {
  const entries = [...probs.entries()];
  if (temperature === 0) return entries[0]![0];
  // p^(1/T) renormalised = softmax(logits / T).
  let w = entries.map(([t, p]) => [t, Math.pow(p, 1 / temperature)] as [Token, number]).sort((a, b) => b[1] - a[1]);
  if (topK > 0) w = w.slice(0, topK);
  const z = w.reduce((a, [, p]) => a + p, 0);
  if (topP < 1) {
    let acc = 0;
    const keep: Array<[Token, number]> = [];
    for (const e of w) {
      keep.push(e);
      acc += e[1] / z;
      if (acc >= topP) break;
    }
    w = keep;
  }
  const total = w.reduce((a, [, p]) => a + p, 0);
  let r = rng.uniform() * total;
  for (const [t, p] of w) if ((r -= p) <= 0) return t;
  return w[w.length - 1]![0];
}
