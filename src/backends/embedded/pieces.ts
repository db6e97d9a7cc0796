// Token ids as the strings an OpenAI-style API reports: per token its text piece, its raw bytes,
// and its character offset. Byte-level tokens may split a UTF-8 character; the pieces come from a
// streaming decoder, so an incomplete character's first bytes have an empty piece and the token
// that completes it carries the whole character, and the pieces always concatenate to the text.
// Special tokens are their own text ("[[A]]"), which is how an HTTP client finds the verdict.
import type { EngineTokenizer } from '../../engine/tokenizer/index.js';

export interface TokenPiece {
  text: string;
  bytes: number[];
  /** Character offset of this piece from `start` (the text before the first token). */
  offset: number;
}

const encoder = new TextEncoder();

function bytesOf(tok: EngineTokenizer, id: number): Uint8Array {
  const t = tok.tokens[id];
  if (t === undefined) throw new RangeError(`token id ${id} is outside the vocabulary (${tok.vocabSize})`);
  return 'bytes' in t ? t.bytes : encoder.encode(t.special);
}

/** Pieces of a token sequence; offsets start at `start`. */
export function tokenPieces(tok: EngineTokenizer, ids: readonly number[], start = 0): TokenPiece[] {
  const dec = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  let at = start;
  return ids.map((id, i) => {
    const b = bytesOf(tok, id);
    const text = dec.decode(b, { stream: i < ids.length - 1 });
    const p = { text, bytes: Array.from(b), offset: at };
    at += text.length;
    return p;
  });
}

/** One token alone as a string (for top-logprob alternatives): lossy where it is part of a character. */
export function tokenString(tok: EngineTokenizer, id: number): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytesOf(tok, id));
}

export function tokenBytes(tok: EngineTokenizer, id: number): number[] {
  return Array.from(bytesOf(tok, id));
}
