// The gguf backend: any GGUF model through llama.cpp (optional dependency node-llama-cpp).
export { GgufBackend, type GgufOptions } from './backend.js';
export { INSTALL_HINT, NODE_LLAMA_CPP_VERSION, nodeLlamaCpp, type NodeLlamaCpp } from './load.js';
