// A row's generated text and its stop conditions.
//
// Stop strings are matched on the decoded text (not on token ids), so a stop string split over
// several tokens, or a token that carries more than the stop string, is still caught. As in the
// OpenAI API, the text ends just before the first occurrence of any stop string; the tokens (and
// their logprobs) keep every token generated, including the one that completed the stop string
// (as vLLM's token_ids do). A stop token (end of text by default) ends the row too: it is kept in
// tokens/logprobs (its probability is part of the sample's likelihood) but not in the text.
import type { EngineTokenizer } from '../tokenizer/index.js';

const decoder = new TextDecoder('utf-8'); // not fatal: a cut-off character becomes U+FFFD, as in Tokenizer.decode
const encoder = new TextEncoder();

/** The bytes of every token id (specials as their text), built once per tokenizer. */
export function tokenBytesTable(tok: EngineTokenizer): Uint8Array[] {
  return tok.tokens.map((t) => ('bytes' in t ? t.bytes : encoder.encode(t.special)));
}

export class RowText {
  private bytes = new Uint8Array(64);
  private nBytes = 0;
  private scannedChars = 0;
  /** Text before the stop string, once one matched. */
  private cut: string | null = null;
  /** Which stop string matched, if any. */
  matched: string | null = null;

  constructor(
    private readonly table: readonly Uint8Array[],
    private readonly stops: readonly string[],
    private readonly maxStopLen: number,
  ) {}

  /** Appends a generated (non-stop) token; returns true when a stop string now occurs. */
  push(id: number): boolean {
    const b = this.table[id];
    if (b === undefined)
      throw new RangeError(
        `sampling: token id ${id} is outside the tokenizer's vocabulary (${this.table.length}); does the tokenizer match the model?`,
      );
    if (this.nBytes + b.length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.nBytes + b.length));
      grown.set(this.bytes.subarray(0, this.nBytes));
      this.bytes = grown;
    }
    this.bytes.set(b, this.nBytes);
    this.nBytes += b.length;
    if (this.stops.length === 0) return false;
    const text = this.decode();
    // Only a match that ends in the new text is new. A few characters of margin: the previous
    // text's last character may have been an incomplete UTF-8 sequence (U+FFFD) now completed.
    const from = Math.max(0, this.scannedChars - this.maxStopLen - 4);
    let best = -1;
    for (const s of this.stops) {
      const at = text.indexOf(s, from);
      if (at >= 0 && (best < 0 || at < best)) {
        best = at;
        this.matched = s;
      }
    }
    this.scannedChars = text.length;
    if (best < 0) return false;
    this.cut = text.slice(0, best);
    return true;
  }

  private decode(): string {
    return decoder.decode(this.bytes.subarray(0, this.nBytes));
  }

  /** The row's text: everything generated, or what precedes the stop string. */
  text(): string {
    return this.cut ?? this.decode();
  }
}

/** Checks stop strings once per call; returns the longest length (for the scan margin). */
export function checkStops(stops: readonly string[]): number {
  stops.forEach((s, i) => {
    if (typeof s !== 'string' || s.length === 0) throw new RangeError(`generate options: stop[${i}] must be a non-empty string`);
  });
  return stops.reduce((m, s) => Math.max(m, s.length), 0);
}
