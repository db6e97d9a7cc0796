// The embedded backend: genrm's own checkpoints through the engine.
export { EmbeddedBackend, type EmbeddedOptions } from './backend.js';
export { loadHfLanguageModel, loadLanguageModel, type LoadedModel } from './load.js';
export { encodePrompt, encodeContinuation, renderChat, ASSISTANT_CUE } from './render.js';
export { tokenPieces, tokenString, tokenBytes, type TokenPiece } from './pieces.js';
