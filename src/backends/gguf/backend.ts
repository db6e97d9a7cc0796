// LanguageModel over a GGUF file through llama.cpp (node-llama-cpp), on the CPU.
//
//   prompts:             text as is (a BOS first when the model asks for one), special-token text
//                        parsed as llama.cpp parses it; chat messages rendered with the chat
//                        template the file carries (`tokenizer.chat_template`; genrm's export
//                        writes its compact chat form), which writes its own BOS.
//   verdicts:            read from the file's vocabulary: when each judge verdict ([[A]], [[B]],
//                        [[YES]], [[NO]]) is one control token (genrm's export), verdicts are
//                        single tokens and a judge scores them at one position, as in-process.
//   candidateLogprobs:   one evaluation of the prompt, the next-token distribution read once at
//                        its end for every candidate's first token; a longer candidate continues
//                        from the prompt's cache and is erased after. Exact (found: true).
//   continuationLogprob: one controlled evaluation of prompt + continuation, probabilities read
//                        at each continuation position.
//   generate:            token by token with controlledEvaluate, reading the full next-token
//                        distribution at each step (per-token logprobs, top alternatives) and
//                        sampling it with genrm's own seeded rule (temperature, top-k, top-p).
//   batching:            one llama.cpp context with `sequences` slots; concurrent items run on
//                        separate sequences, which llama.cpp decodes in shared batches.
//
// Probabilities come from node-llama-cpp's greedy sampler chain (no top-k, no temperature: the
// softmax of the raw logits over the whole vocabulary); node-llama-cpp has no call that returns
// fewer, so a candidate's probability is read out of that list.
import { Prng } from '../../engine/prng.js';
import { compileChatTemplate, type RenderChat } from '../../engine/hf/chatTemplate.js';
import { JUDGE_SPECIAL_TOKENS } from '../../data/judgeFormat.js';
import {
  CapabilityError,
  isChatPrompt,
  resolveGenerateOptions,
  type CandidateLogprob,
  type Capabilities,
  type GenerateOptions,
  type Generation,
  type LanguageModel,
  type Prompt,
  type Sample,
} from '../types.js';
import { nodeLlamaCpp, type EvaluateItem, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from './load.js';

export interface GgufOptions {
  /** Sequences decoded together (llama.cpp batch slots). Default 4: the 2-core machines here gain little beyond. */
  sequences?: number;
  /** Tokens per sequence. Default: the model's training context, at most 2048 (KV memory). */
  contextSize?: number;
  /**
   * CPU threads llama.cpp computes with. Default: node-llama-cpp's (the machine's cores). On a
   * machine whose cores are busy with other work use 1: llama.cpp's worker threads spin-wait for
   * each other, and a shared core turns that wait into most of the time.
   */
  threads?: number;
}

/** Next-token probabilities at one position (token -> p, the whole vocabulary). */
type Dist = Map<Token, number>;
const WITH_PROBS = { generateNext: { probabilities: true } } as const;

export class GgufBackend implements LanguageModel {
  readonly capabilities: Capabilities;
  private free: LlamaContextSequence[];
  private waiters: Array<(s: LlamaContextSequence) => void> = [];
  private readonly chat: RenderChat | null;
  /** Why chat prompts are refused: no template in the file, or one @huggingface/jinja cannot parse. */
  private readonly noChat: string;

  private constructor(
    readonly name: string,
    readonly model: LlamaModel,
    private readonly context: LlamaContext,
  ) {
    this.free = Array.from({ length: context.totalSequences }, () => context.getSequence());
    const src = model.fileInfo.metadata.tokenizer?.chat_template;
    let chat: RenderChat | null = null;
    let noChat =
      "the file carries no tokenizer.chat_template; pass text, or re-export the model with one (genrm export gguf writes genrm's)";
    if (typeof src === 'string' && src.trim() !== '')
      try {
        chat = compileChatTemplate(src, `${name} tokenizer.chat_template`);
      } catch (e) {
        noChat = `${(e as Error).message}; pass text prompts instead`; // the model still serves text
      }
    this.chat = chat;
    this.noChat = noChat;
    this.capabilities = {
      prompts: { text: true, chat: this.chat !== null },
      generate: true,
      candidateLogprobs: true,
      continuationLogprob: true,
      singleTokenVerdicts: JUDGE_SPECIAL_TOKENS.every((v) => this.verdictToken(v) !== null),
      contextLength: context.contextSize,
    };
  }

  static async load(path: string, opts: GgufOptions = {}): Promise<GgufBackend> {
    if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1))
      throw new RangeError(`gguf backend: threads must be an integer >= 1, got ${opts.threads}`);
    const { getLlama } = await nodeLlamaCpp();
    // Prebuilt binaries only: building llama.cpp from source would need cmake and a download.
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
    const model = await llama.loadModel({ modelPath: path });
    const contextSize = opts.contextSize ?? Math.min(model.trainContextSize, 2048);
    const context = await model.createContext({
      contextSize,
      sequences: opts.sequences ?? 4,
      ...(opts.threads ? { threads: opts.threads } : {}),
    });
    return new GgufBackend(`gguf:${path}`, model, context);
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }

  /** The id of a verdict when the vocabulary holds it as one control token; null otherwise. */
  verdictToken(text: string): Token | null {
    const ids = this.model.tokenize(text, true);
    return ids.length === 1 && this.model.isSpecialToken(ids[0]) ? ids[0]! : null;
  }

  /** Token ids of a prompt as this backend feeds it. */
  encode(prompt: Prompt): Token[] {
    if (isChatPrompt(prompt)) {
      if (this.chat === null) throw new CapabilityError(this.name, 'chat prompts', this.noChat);
      const t = this.model.tokens;
      return this.model.tokenize(this.chat(prompt, { bosToken: t.bosString ?? '', eosToken: t.eosString ?? '' }), true);
    }
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

  /** Evaluates tokens onto the sequence; the distributions after the positions in `at` (indices into tokens). */
  private async evaluate(s: LlamaContextSequence, tokens: readonly Token[], at: ReadonlySet<number>): Promise<Map<number, Dist>> {
    const input: EvaluateItem[] = tokens.map((t, i) => (at.has(i) ? [t, WITH_PROBS] : t));
    const out = await s.controlledEvaluate(input);
    const dists = new Map<number, Dist>();
    for (const i of at) {
      const d = out[i]?.next?.probabilities;
      if (!d) throw new Error(`${this.name}: llama.cpp returned no probabilities at position ${i}`);
      dists.set(i, d);
    }
    return dists;
  }

  /** log p(tokens[i] | tokens[<i]) for i in [from, tokens.length). */
  private async tokenLogprobs(tokens: Token[], from: number): Promise<number[]> {
    if (from < 1) throw new Error(`${this.name}: scoring needs at least one context token before position ${from}`);
    return this.withSequence(async (s) => {
      const at = new Set(Array.from({ length: tokens.length - from }, (_, k) => from - 1 + k));
      const d = await this.evaluate(s, tokens, at);
      return Array.from({ length: tokens.length - from }, (_, k) => Math.log(d.get(from - 1 + k)!.get(tokens[from + k]!) ?? 0));
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

  async candidateLogprobs(prompts: Prompt[], candidates: string[], options: { signal?: AbortSignal } = {}): Promise<CandidateLogprob[][]> {
    if (candidates.length === 0) throw new RangeError('candidateLogprobs: no candidates');
    const cands = candidates.map((c, j) => {
      const ids = this.tokensOf(c);
      if (ids.length === 0) throw new RangeError(`candidateLogprobs: candidate ${j} is empty`);
      return ids;
    });
    return Promise.all(
      prompts.map((prompt) =>
        this.withSequence(async (s) => {
          options.signal?.throwIfAborted();
          const p = this.encode(prompt);
          if (p.length === 0) throw new RangeError(`${this.name}: an empty prompt has no next-token distribution`);
          const first = (await this.evaluate(s, p, new Set([p.length - 1]))).get(p.length - 1)!;
          const out: CandidateLogprob[] = [];
          for (const c of cands) {
            let lp = Math.log(first.get(c[0]!) ?? 0);
            if (c.length > 1 && lp > -Infinity) {
              // The rest of the candidate after the prompt's cache, then dropped again for the next one.
              const rest = c.slice(0, -1);
              const d = await this.evaluate(s, rest, new Set(rest.map((_, k) => k)));
              for (let k = 1; k < c.length; k++) lp += Math.log(d.get(k - 1)!.get(c[k]!) ?? 0);
              await s.eraseContextTokenRanges([{ start: p.length, end: p.length + rest.length }]);
            }
            out.push({ logprob: lp, found: true });
          }
          return out;
        }),
      ),
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
                const out = await s.controlledEvaluate(
                  input.map((t, j) =>
                    j === input.length - 1
                      ? ([t, { generateNext: { probabilities: true } }] as [Token, { generateNext: { probabilities: boolean } }])
                      : t,
                  ),
                );
                const probs = out[input.length - 1]?.next?.probabilities;
                if (!probs) throw new Error(`${this.name}: llama.cpp returned no probabilities`);
                const tok = pick(probs, o.temperature, o.topK, o.topP, rng);
                if (tok === eos) {
                  finish = 'stop';
                  break;
                }
                tokens.push(tok);
                logprobs.push(Math.log(probs.get(tok) ?? 0));
                text = this.model.detokenize(tokens, true); // specials as text: the verdict tokens are what a judge parses
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
