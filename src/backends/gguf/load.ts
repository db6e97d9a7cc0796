// node-llama-cpp is an optional dependency (prebuilt llama.cpp binaries, ~30 MB for linux-x64):
// genrm installs and runs without it, and says how to add it when a .gguf model is asked for.
import type * as NodeLlamaCpp from 'node-llama-cpp';

export const NODE_LLAMA_CPP_VERSION = '3.21.1';
export const INSTALL_HINT = `npm install --save-exact node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`;

let cached: Promise<typeof NodeLlamaCpp> | undefined;

/** The node-llama-cpp module, or an error that says how to install it. */
export function nodeLlamaCpp(): Promise<typeof NodeLlamaCpp> {
  cached ??= import('node-llama-cpp').catch((e: unknown) => {
    cached = undefined;
    throw new Error(`the gguf backend needs node-llama-cpp, which is not installed or cannot load (${(e as Error).message.split('\n')[0]}); add it with: ${INSTALL_HINT}`);
  });
  return cached;
}
