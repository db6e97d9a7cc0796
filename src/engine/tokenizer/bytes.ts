// Byte-level symbols: the reversible byte ↔ character table that GPT-2 introduced and Hugging
// Face's `ByteLevel` pre-tokenizer and decoder use. Every byte gets one printable character, so a
// token's bytes can be written as a JSON string in tokenizer.json (a space is written "Ġ").
//
// The table (a fact of the format, not code): bytes '!'..'~', '¡'..'¬' and '®'..'ÿ' stand for
// themselves; the other 68 bytes, in increasing order, take the code points 256, 257, ...

function buildTable(): { byteToChar: string[]; charToByte: Map<string, number> } {
  const byteToChar: string[] = new Array<string>(256);
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  for (let b = 0; b < 256; b++) byteToChar[b] = String.fromCodePoint(printable(b) ? b : next++);
  const charToByte = new Map<string, number>();
  byteToChar.forEach((c, b) => charToByte.set(c, b));
  return { byteToChar, charToByte };
}

const TABLE = buildTable();

/** The byte-level string of some bytes (what HF writes in `model.vocab` and `model.merges`). */
export function bytesToSymbols(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += TABLE.byteToChar[b]!;
  return s;
}

/** The bytes of a byte-level string, or null if a character is not a byte-level symbol. */
export function symbolsToBytes(symbols: string): Uint8Array | null {
  const out: number[] = [];
  for (const ch of symbols) {
    const b = TABLE.charToByte.get(ch);
    if (b === undefined) return null;
    out.push(b);
  }
  return Uint8Array.from(out);
}

const encoder = new TextEncoder();
// Not fatal: sampled token sequences can end mid-character; those bytes become U+FFFD.
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** UTF-8 bytes of a string. Lone surrogates (not valid Unicode) become U+FFFD, as in any UTF-8 tokenizer. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** A string from UTF-8 bytes; malformed sequences become U+FFFD. A leading BOM is kept. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Whether the bytes hold an ASCII digit: BPE never merges these (models do arithmetic digit by digit). */
export function hasDigit(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b >= 0x30 && b <= 0x39) return true;
  return false;
}
