// tokenizer.json: the Hugging Face `tokenizers` file format, as genrm writes and reads it.
//
// Written: model type "BPE" with the byte-level vocabulary (`model.vocab` maps each token's
// byte-level symbols to its id, `model.merges` lists merges in rank order as "left right"),
// `ByteLevel` pre-tokenizer (no prefix space, GPT-2 regex) and decoder, no normalizer, each
// special token in `added_tokens` with `special: true` (and in the vocab too, as GPT-2's file
// does), and a `TemplateProcessing` post-processor that puts end-of-text before every sequence:
// genrm's BOS, so `tokenizer(text)` in transformers feeds what genrm's engine and its GGUF feed.
// Read: the same, with merges as strings or as [left, right] pairs (newer `tokenizers`), and a
// post-processor of null (files written before it) or that one; anything genrm could not
// reproduce exactly (a normalizer, prefix spaces, non-special added tokens, unknown-token
// fallbacks, another post-processor) is refused with the field named, rather than half-honoured.
//
// tokenizer_config.json (transformers' side file) is written for exported Hugging Face folders:
// the special tokens by role, the chat template (./chatTemplate.ts) and the context length.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../atomic.js';
import { bytesToSymbols, symbolsToBytes } from './bytes.js';
import type { Merge } from './bpe.js';
import { END_OF_TEXT, PAD, Tokenizer, type TokenDef } from './tokenizer.js';
import { COMPACT_CHAT_TEMPLATE } from './chatTemplate.js';

/** The post-processor genrm writes: end-of-text (its BOS) before each sequence, as Llama 3's files do with theirs. */
export function bosPostProcessor(tok: Tokenizer): Record<string, unknown> {
  const bos = (typeId: number): Record<string, unknown> => ({ SpecialToken: { id: END_OF_TEXT, type_id: typeId } });
  const seq = (id: 'A' | 'B', typeId: number): Record<string, unknown> => ({ Sequence: { id, type_id: typeId } });
  return {
    type: 'TemplateProcessing',
    single: [bos(0), seq('A', 0)],
    pair: [bos(0), seq('A', 0), bos(1), seq('B', 1)],
    special_tokens: { [END_OF_TEXT]: { id: END_OF_TEXT, ids: [tok.eotId], tokens: [END_OF_TEXT] } },
  };
}

/** The tokenizer.json object for a tokenizer. */
export function toTokenizerJson(tok: Tokenizer): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  const added: Array<Record<string, unknown>> = [];
  tok.tokens.forEach((t, id) => {
    if ('special' in t) {
      vocab[t.special] = id;
      added.push({ id, content: t.special, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    } else {
      vocab[bytesToSymbols(t.bytes)] = id;
    }
  });
  const sym = (id: number): string => {
    const t = tok.tokens[id]!;
    return 'bytes' in t ? bytesToSymbols(t.bytes) : t.special;
  };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: bosPostProcessor(tok),
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: tok.merges.map((m) => `${sym(m.left)} ${sym(m.right)}`),
    },
  };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A tokenizer from a parsed tokenizer.json; `file` names the source in errors. */
export function fromTokenizerJson(json: unknown, file = 'tokenizer.json'): Tokenizer {
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg}`);
  };
  if (!isObj(json)) return fail('expected a JSON object at the top level');
  const need = (cond: boolean, msg: string): void => {
    if (!cond) fail(msg);
  };
  need(
    json.normalizer === null || json.normalizer === undefined,
    `normalizer must be null (genrm applies none), got ${JSON.stringify(json.normalizer)}`,
  );
  const pre = json.pre_tokenizer;
  need(isObj(pre) && pre.type === 'ByteLevel', `pre_tokenizer must be {"type": "ByteLevel", ...}, got ${JSON.stringify(pre)}`);
  const p = pre as Obj;
  need(p.add_prefix_space !== true, 'pre_tokenizer.add_prefix_space must be false (a prefix space would break decode(encode(s)) === s)');
  need(p.use_regex !== false, 'pre_tokenizer.use_regex must be true (genrm splits words with the GPT-2 pattern)');
  const post = json.post_processor;
  need(
    post === null ||
      post === undefined ||
      (isObj(post) &&
        post.type === 'TemplateProcessing' &&
        JSON.stringify(post.single) ===
          JSON.stringify([{ SpecialToken: { id: END_OF_TEXT, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }])),
    `post_processor must be null or TemplateProcessing with single = ${END_OF_TEXT} then $A (genrm starts every sequence with end-of-text, nothing else), got ${JSON.stringify(post)?.slice(0, 200)}`,
  );
  need(
    isObj(json.decoder) && (json.decoder as Obj).type === 'ByteLevel',
    `decoder must be {"type": "ByteLevel", ...}, got ${JSON.stringify(json.decoder)}`,
  );
  const model = json.model;
  need(isObj(model) && model.type === 'BPE', `model.type must be "BPE", got ${JSON.stringify(isObj(model) ? model.type : model)}`);
  const m = model as Obj;
  for (const k of ['dropout', 'unk_token', 'continuing_subword_prefix', 'end_of_word_suffix'])
    need(m[k] === null || m[k] === undefined, `model.${k} must be null, got ${JSON.stringify(m[k])}`);
  need(m.byte_fallback !== true, 'model.byte_fallback must be false (the vocabulary is byte-level already)');
  need(isObj(m.vocab), 'model.vocab must be an object mapping token text to id');
  need(Array.isArray(m.merges), 'model.merges must be an array');
  need(Array.isArray(json.added_tokens), 'added_tokens must be an array');

  // Specials first: their text is a vocab key too, and must not be read as byte symbols.
  const specials = new Map<string, number>();
  (json.added_tokens as unknown[]).forEach((a, i) => {
    if (!isObj(a) || typeof a.content !== 'string' || !Number.isInteger(a.id))
      return fail(`added_tokens[${i}] needs an integer "id" and a string "content"`);
    if (a.special !== true)
      return fail(
        `added_tokens[${i}] ('${a.content}') has special: ${JSON.stringify(a.special)}; genrm supports only special added tokens`,
      );
    if (specials.has(a.content)) return fail(`added_tokens[${i}] ('${a.content}') is listed twice`);
    specials.set(a.content, a.id as number);
  });

  const byId = new Map<number, TokenDef>();
  const idOfText = new Map<string, number>();
  const put = (id: number, def: TokenDef, what: string): void => {
    if (!Number.isInteger(id) || id < 0) fail(`${what} has id ${id}; ids must be non-negative integers`);
    if (byId.has(id)) fail(`${what} and another token share id ${id}`);
    byId.set(id, def);
  };
  for (const [text, id] of Object.entries(m.vocab as Obj)) {
    if (typeof id !== 'number') fail(`model.vocab['${text}'] must be a number, got ${JSON.stringify(id)}`);
    idOfText.set(text, id as number);
    const sid = specials.get(text);
    if (sid !== undefined) {
      if (sid !== id) fail(`special token '${text}' has id ${sid} in added_tokens but ${String(id)} in model.vocab`);
      continue;
    }
    const bytes = symbolsToBytes(text);
    if (bytes === null || bytes.length === 0) fail(`model.vocab token '${text}' (id ${String(id)}) is not a byte-level symbol string`);
    put(id as number, { bytes: bytes! }, `model.vocab token '${text}'`);
  }
  for (const [text, id] of specials) {
    if (!idOfText.has(text)) idOfText.set(text, id);
    put(id, { special: text }, `added token '${text}'`);
  }
  const n = byId.size;
  const tokens: TokenDef[] = [];
  for (let id = 0; id < n; id++) {
    const t = byId.get(id);
    if (t === undefined) fail(`token ids must run 0..${n - 1} without gaps; id ${id} is missing`);
    tokens.push(t!);
  }

  const merges: Merge[] = (m.merges as unknown[]).map((entry, i) => {
    let pair: unknown[];
    if (typeof entry === 'string') pair = entry.split(' ');
    else if (Array.isArray(entry)) pair = entry;
    else return fail(`model.merges[${i}] must be "left right" or [left, right], got ${JSON.stringify(entry)}`);
    if (pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string')
      return fail(`model.merges[${i}] must name exactly two tokens, got ${JSON.stringify(entry)}`);
    const [l, r] = pair as [string, string];
    const left = idOfText.get(l);
    const right = idOfText.get(r);
    const id = idOfText.get(l + r);
    if (left === undefined || right === undefined) return fail(`model.merges[${i}] ('${l} ${r}') uses a token that is not in model.vocab`);
    if (id === undefined) return fail(`model.merges[${i}] ('${l} ${r}') makes '${l + r}', which is not in model.vocab`);
    return { left, right, id };
  });
  try {
    return new Tokenizer(tokens, merges);
  } catch (e) {
    return fail((e as Error).message.replace(/^tokenizer: /, ''));
  }
}

export interface TokenizerConfigOptions {
  /** transformers' model_max_length: the model's context (maxSeqLen). */
  modelMaxLength: number;
  /** Jinja chat template; default genrm's compact chat form. */
  chatTemplate?: string;
}

/**
 * tokenizer_config.json for an exported Hugging Face folder (transformers' names): end-of-text as
 * BOS and EOS, padding, the judge verdicts as additional special tokens, every special in
 * added_tokens_decoder, the chat template, and tokenizer_class PreTrainedTokenizerFast so the
 * post-processor of tokenizer.json decides the BOS.
 */
export function toTokenizerConfig(tok: Tokenizer, o: TokenizerConfigOptions): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const s of tok.specialTokens)
    decoder[String(tok.specialId(s))] = { content: s, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  return {
    add_bos_token: true,
    add_eos_token: false,
    added_tokens_decoder: decoder,
    additional_special_tokens: tok.specialTokens.filter((s) => s !== END_OF_TEXT && s !== PAD),
    bos_token: END_OF_TEXT,
    eos_token: END_OF_TEXT,
    pad_token: PAD,
    unk_token: null,
    chat_template: o.chatTemplate ?? COMPACT_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    model_max_length: o.modelMaxLength,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
}

/** Writes tokenizer.json atomically (temp file, then rename). */
export function saveTokenizer(path: string, tok: Tokenizer): void {
  writeFileAtomic(path, JSON.stringify(toTokenizerJson(tok), null, 2) + '\n');
}

export interface LoadTokenizerOptions {
  /** Special tokens the caller relies on (e.g. the judge verdicts); a missing one is an error. */
  expectSpecials?: readonly string[];
}

/** Reads and validates a tokenizer.json; every error names the file and what is wrong. */
export function loadTokenizer(path: string, options: LoadTokenizerOptions = {}): Tokenizer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read the tokenizer (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const tok = fromTokenizerJson(json, path);
  const missing = (options.expectSpecials ?? []).filter((s) => !tok.hasSpecial(s));
  if (missing.length > 0) throw new Error(`${path}: missing special token(s) ${missing.join(' ')} (has ${tok.specialTokens.join(' ')})`);
  return tok;
}
