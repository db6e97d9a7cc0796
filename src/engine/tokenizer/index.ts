// genrm's tokenizer: byte-level BPE with special tokens, saved as Hugging Face tokenizer.json.
export {
  Tokenizer,
  END_OF_TEXT,
  PAD,
  type EncodeOptions,
  type EngineTokenizer,
  type TokenizerOptions,
  type TokenDef,
} from './tokenizer.js';
export {
  toTokenizerJson,
  toTokenizerConfig,
  bosPostProcessor,
  fromTokenizerJson,
  saveTokenizer,
  loadTokenizer,
  type LoadTokenizerOptions,
  type TokenizerConfigOptions,
} from './hfJson.js';
export { COMPACT_CHAT_TEMPLATE } from './chatTemplate.js';
export { preTokenize, type Merge } from './bpe.js';
