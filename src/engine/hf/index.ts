// Hugging Face Llama-family checkpoints in and out of the engine.
export { parseHfConfig, toHfModelConfig, type HfFamily, type HfModelConfig } from './config.js';
export { checkHfWeights, expectedHfTensors, readHfWeights } from './weights.js';
export { HfTokenizer, type ChatTurn } from './tokenizer.js';
export { hfEngineTokenizer } from './engineTokenizer.js';
export { DEFAULT_HF_MAX_SEQ, loadHfModel, saveHfModel, type HfLoadOptions, type HfModel, type HfSaveOptions } from './model.js';
export { exportHfFolder, type HfExportSummary } from './export.js';
export { compileChatTemplate, type ChatTemplateVars, type RenderChat } from './chatTemplate.js';
