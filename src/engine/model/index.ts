// The transformer: config, parameters (HF names), training forward, cached inference.
export type { ModelConfig } from './config.js';
export { Llama } from './llama.js';
export { INIT_STD, validateConfig, type LayerParams } from './params.js';
export { KvCache, kvBuffer, type KvDtype } from './kv-cache.js';
export { forwardCached, type CachedForwardOptions } from './infer.js';
export { packLlama, PACKED_MIN_ROWS, type PackedLlama } from './packed.js';
