// A Hugging Face tokenizer as the engine's EngineTokenizer, so a Hugging Face model runs through
// the same generation and backend code as genrm's own (src/engine/sampling, src/backends/embedded).
//
// The engine reads text back from per-id bytes (stop strings, streamed pieces), so each id's
// bytes are recovered from its vocabulary string:
//   byte-level BPE (Llama 3, Qwen2: a ByteLevel decoder)  every character stands for one byte
//                                                         through GPT-2's bytes_to_unicode table
//   SentencePiece-style BPE (Llama 2: byte fallback)      "<0xNN>" is byte NN, "▁" is a space
// Special added tokens are their own text. Ids past the tokenizer's vocabulary (padded embedding
// rows some models have) decode to nothing.
import type { EngineTokenizer, EncodeOptions, TokenDef } from '../tokenizer/index.js';
import type { HfModelConfig } from './config.js';
import type { HfTokenizer } from './tokenizer.js';

const encoder = new TextEncoder();

/** GPT-2's bytes_to_unicode, inverted: the character that stands for each byte -> that byte. */
function unicodeToBytes(): Map<string, number> {
  const out = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    out.set(String.fromCodePoint(printable ? b : 256 + extra++), b);
  }
  return out;
}

function isByteLevel(json: Record<string, unknown>): boolean {
  return JSON.stringify(json.decoder ?? null).includes('"ByteLevel"');
}

/** Each id's bytes (or special text), for ids 0 .. vocabSize - 1. */
function tokenTable(hf: HfTokenizer, vocabSize: number): TokenDef[] {
  const specials = new Map<number, string>();
  const added = hf.json.added_tokens;
  if (Array.isArray(added))
    for (const t of added as Array<{ id?: unknown; content?: unknown; special?: unknown }>)
      if (typeof t.id === 'number' && typeof t.content === 'string' && t.special === true) specials.set(t.id, t.content);
  const byteLevel = isByteLevel(hf.json) ? unicodeToBytes() : null;
  const table: TokenDef[] = [];
  for (let id = 0; id < vocabSize; id++) {
    const special = specials.get(id);
    if (special !== undefined) {
      table.push({ special });
      continue;
    }
    const s = hf.idToToken(id);
    if (s === undefined) table.push({ bytes: new Uint8Array(0) });
    else if (byteLevel)
      table.push({ bytes: Uint8Array.from([...s], (ch) => byteLevel.get(ch) ?? 0x3f) }); // '?' for a char outside the table
    else {
      const hex = /^<0x([0-9A-Fa-f]{2})>$/.exec(s);
      table.push({ bytes: hex ? Uint8Array.of(parseInt(hex[1]!, 16)) : encoder.encode(s.replace(/\u2581/g, ' ')) });
    }
  }
  return table;
}

/** The ids the tokenizer's post-processor puts before a text (transformers' add_special_tokens): a BOS, or nothing. */
function postProcessorPrefix(hf: HfTokenizer): number[] {
  const plain = hf.encode('x');
  const withSpecials = hf.encode('x', { addSpecialTokens: true });
  const at = withSpecials.length - plain.length;
  return at > 0 && plain.every((id, i) => withSpecials[at + i] === id) ? withSpecials.slice(0, at) : [];
}

/**
 * The EngineTokenizer of a loaded HF model. Specials in text are always parsed (as HF does; the
 * 'plain' mode of genrm's tokenizer has no HF counterpart). Generation ends at any eos id.
 * `verdicts` (the judge's indicator strings): singleTokenVerdicts is true when each is one
 * special added token, as in a folder genrm exported; false otherwise or when not given.
 */
export function hfEngineTokenizer(hf: HfTokenizer, cfg: HfModelConfig, verdicts: readonly string[] = []): EngineTokenizer {
  const vocabSize = cfg.config.vocabSize;
  const tokens = tokenTable(hf, vocabSize);
  const named = (t: string | null): number | undefined => (t === null ? undefined : hf.tokenToId(t));
  const eos = cfg.eosIds.length > 0 ? cfg.eosIds : [named(hf.eosToken)].filter((x): x is number => x !== undefined);
  if (eos.length === 0)
    throw new Error(
      'Hugging Face model: neither config.json "eos_token_id" nor tokenizer_config.json "eos_token" names an end-of-text token, so generation could not stop',
    );
  const bos = cfg.bosId ?? named(hf.bosToken) ?? null;
  // Llama 2 and 3 start every sequence with BOS; Qwen2 has none (bos_token null). Without a
  // tokenizer_config.json naming it, the BOS is what tokenizer.json's post-processor adds.
  const bosIds = bos !== null && hf.bosToken !== null ? [bos] : postProcessorPrefix(hf);
  const single =
    verdicts.length > 0 &&
    verdicts.every((v) => {
      const ids = hf.encode(v);
      return ids.length === 1 && 'special' in (tokens[ids[0]!] ?? { bytes: 0 });
    });
  return {
    vocabSize,
    tokens,
    eotId: eos[0]!,
    stopIds: eos,
    bosIds,
    singleTokenVerdicts: single,
    encode: (text: string, _o: EncodeOptions) => hf.encode(text),
    decode: (ids, o = {}) => hf.decode(ids, o),
    ...(hf.hasChatTemplate ? { renderChat: (messages) => hf.applyChatTemplate(messages, { addGenerationPrompt: true }) } : {}),
  };
}
