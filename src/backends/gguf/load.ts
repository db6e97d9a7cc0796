// node-llama-cpp is an optional dependency (prebuilt llama.cpp binaries, ~30 MB for linux-x64):
// genrm installs, type-checks and runs without it, and says how to add it when a .gguf model is
// asked for. Hence no type import from it: the few parts genrm uses are declared here.
export const NODE_LLAMA_CPP_VERSION = '3.21.1';
export const INSTALL_HINT = `npm install --save-exact node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`;

export type Token = number;
export interface LlamaContextSequence {
  clearHistory(): Promise<void>;
  controlledEvaluate(input: Array<Token | [Token, { generateNext?: { probabilities?: boolean } }]>): Promise<Array<{ next?: { probabilities?: Map<Token, number> } } | undefined>>;
}
export interface LlamaContext {
  readonly totalSequences: number;
  readonly contextSize: number;
  getSequence(): LlamaContextSequence;
  dispose(): Promise<void>;
}
export interface LlamaModel {
  readonly trainContextSize: number;
  readonly tokens: { readonly bos: Token | null; readonly eos: Token | null; readonly shouldPrependBosToken: boolean };
  tokenize(text: string, specialTokens?: boolean): Token[];
  detokenize(tokens: readonly Token[]): string;
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
    throw new Error(`the gguf backend needs node-llama-cpp, which is not installed or cannot load (${(e as Error).message.split('\n')[0]}); add it with: ${INSTALL_HINT}`);
  });
  return cached;
}
