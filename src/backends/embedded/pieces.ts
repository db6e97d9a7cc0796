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

/** Pieces one token at a time (what a server streams): the decoder holds an incomplete character's bytes until a later token completes it. */
export class PieceDecoder {
  private readonly dec = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  private at: number;

  constructor(
    private readonly tok: EngineTokenizer,
    start = 0,
  ) {
    this.at = start;
  }

  /** The next token's piece; `last`: no token follows, so an incomplete character ends as U+FFFD (as a whole decode does). */
  push(id: number, last = false): TokenPiece {
    const b = bytesOf(this.tok, id);
    const text = this.dec.decode(b, { stream: !last });
    const p = { text, bytes: Array.from(b), offset: this.at };
    this.at += text.length;
    return p;
  }
}

/** Pieces of a token sequence; offsets start at `start`. */
export function tokenPieces(tok: EngineTokenizer, ids: readonly number[], start = 0): TokenPiece[] {
  const d = new PieceDecoder(tok, start);
  return ids.map((id, i) => d.push(id, i === ids.length - 1));
}

/** One token alone as a string (for top-logprob alternatives): lossy where it is part of a character. */
export function tokenString(tok: EngineTokenizer, id: number): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytesOf(tok, id));
}

export function tokenBytes(tok: EngineTokenizer, id: number): number[] {
  return Array.from(bytesOf(tok, id));
}

/** A top-logprob alternative as the server reports it: the token's string, its bytes, its logprob. */
export function alternative(tok: EngineTokenizer, a: { id: number; logprob: number }): { token: string; bytes: number[]; logprob: number } {
  return { token: tokenString(tok, a.id), bytes: tokenBytes(tok, a.id), logprob: a.logprob };
}
