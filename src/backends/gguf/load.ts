// node-llama-cpp is an optional dependency (prebuilt llama.cpp binaries, ~30 MB for linux-x64):
// genrm installs, type-checks and runs without it, and says how to add it when a .gguf model is
// asked for. Hence no type import from it: the few parts genrm uses are declared here.
export const NODE_LLAMA_CPP_VERSION = '3.21.1';
export const INSTALL_HINT = `npm install --save-exact node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`;

export type Token = number;
export type EvaluateItem = Token | [Token, { generateNext?: { probabilities?: boolean } }];
export interface LlamaContextSequence {
  readonly nextTokenIndex: number;
  clearHistory(): Promise<void>;
  /** Drops cached tokens [start, end) (end exclusive); later evaluations continue from what is left. */
  eraseContextTokenRanges(ranges: Array<{ start: number; end: number }>): Promise<void>;
  controlledEvaluate(input: EvaluateItem[]): Promise<Array<{ next?: { probabilities?: Map<Token, number> } } | undefined>>;
}
export interface LlamaContext {
  readonly totalSequences: number;
  readonly contextSize: number;
  getSequence(): LlamaContextSequence;
  dispose(): Promise<void>;
}
export interface LlamaModel {
  readonly trainContextSize: number;
  readonly tokens: {
    readonly bos: Token | null;
    readonly eos: Token | null;
    readonly bosString: string | null;
    readonly eosString: string | null;
    readonly shouldPrependBosToken: boolean;
  };
  /** The GGUF's metadata as parsed (tokenizer.chat_template among it). */
  readonly fileInfo: { readonly metadata: { readonly tokenizer?: { readonly chat_template?: string } } };
  tokenize(text: string, specialTokens?: boolean): Token[];
  /** A control-type token (or one with no text of its own), e.g. a verdict genrm exported as a special. */
  isSpecialToken(token: Token | undefined): boolean;
  detokenize(tokens: readonly Token[], specialTokens?: boolean): string;
  createContext(o: { contextSize: number; sequences: number; threads?: number }): Promise<LlamaContext>;
  dispose(): Promise<void>;
}
export interface NodeLlamaCpp {
  getLlama(o: { gpu: false; build: 'never'; logLevel?: string }): Promise<{ loadModel(o: { modelPath: string }): Promise<LlamaModel> }>;
}

let cached: Promise<NodeLlamaCpp> | undefined;

/** The node-llama-cpp module, or an error that says how to install it. */
export function nodeLlamaCpp(): Promise<NodeLlamaCpp> {
  const specifier = 'node-llama-cpp'; // a variable, so tsc does not need the package to be installed
  cached ??= (import(specifier) as Promise<NodeLlamaCpp>).catch((e: unknown) => {
    cached = undefined;
    throw new Error(
      `the gguf backend needs node-llama-cpp, which is not installed or cannot load (${(e as Error).message.split('\n')[0]}); add it with: ${INSTALL_HINT}`,
    );
  });
  return cached;
}
