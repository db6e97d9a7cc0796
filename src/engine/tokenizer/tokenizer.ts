// genrm's tokenizer: 256 byte tokens, special tokens, and optional BPE merges learned by genrm.
//
// Byte-level means any text encodes (nothing is "unknown") and decode(encode(s)) === s for every
// well-formed string. Special tokens (end of text, padding, and the caller's, e.g. the judge
// verdicts [[A]] / [[B]]) are single ids, so a direct GenRM reads its verdict from one position.
// Merges never involve a digit: small models do arithmetic digit by digit, so each digit stays
// its own token. Layout of a fresh tokenizer: ids 0..255 are the bytes, then the specials (end of
// text first, then padding, then the caller's, in order), then the merges; specials keep their
// ids whatever the number of merges. A tokenizer loaded from tokenizer.json may use any layout.
import { bytesToSymbols, fromUtf8, hasDigit, utf8 } from './bytes.js';
import { learnMerges, MergeTable, preTokenize, type Merge } from './bpe.js';

/** End of text; also the beginning-of-sequence token (as in GPT-2). */
export const END_OF_TEXT = '<|endoftext|>';
/** Padding for batches of unequal length. */
export const PAD = '<|pad|>';

/** A token is either a byte string or a special token's text. */
export type TokenDef = { bytes: Uint8Array } | { special: string };

export interface EncodeOptions {
  /**
   * 'parse': special-token text (e.g. "[[A]]") in the input becomes the special token; for the
   * model's own prompts. 'plain': it is encoded as ordinary bytes; for untrusted text such as an
   * answer under judgement, so that it cannot forge a verdict. No default: the caller decides.
   */
  specials: 'parse' | 'plain';
}

/**
 * What generation and the embedded backend need of a tokenizer. genrm's own Tokenizer is one; a
 * Hugging Face tokenizer plugs in through an adapter (src/engine/hf/engineTokenizer.ts).
 */
export interface EngineTokenizer {
  /** Rows of the token table; equal to the model's vocabSize. */
  readonly vocabSize: number;
  /** Every id's bytes (or special text): stop strings and pieces are read from these. */
  readonly tokens: readonly TokenDef[];
  /** The end-of-text id: ends a sample by default. */
  readonly eotId: number;
  encode(text: string, options: EncodeOptions): number[];
  decode(ids: readonly number[], options?: { skipSpecials?: boolean }): string;
  /** Ids every prompt starts with. Absent: [eotId] (genrm pretrains on documents separated by it). */
  readonly bosIds?: readonly number[];
  /** Ids that end a sample. Absent: [eotId]. */
  readonly stopIds?: readonly number[];
  /** Chat messages as the model's own template writes them, up to the assistant's reply. Absent: genrm's compact form. */
  renderChat?(messages: ReadonlyArray<{ role: string; content: string }>): string;
  /** Whether each judge verdict ([[A]], [[B]], ...) is one token. Absent: true (genrm's tokenizer; its loaders check the verdicts). */
  readonly singleTokenVerdicts?: boolean;
}

export interface TokenizerOptions {
  /** Extra special tokens beyond end of text and padding (e.g. the judge verdicts). */
  specials?: readonly string[];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class Tokenizer {
  private readonly byteIds: number[] = new Array<number>(256);
  private readonly specialIds = new Map<string, number>();
  private readonly specialPattern: RegExp;
  private readonly mergeTable: MergeTable;
  // Words repeat a lot in real text; caching their merged ids makes BPE encoding cheap.
  private readonly cache = new Map<string, number[]>();

  /** Builds a tokenizer from an explicit token table; checks that it is complete and consistent. */
  constructor(
    readonly tokens: readonly TokenDef[],
    merges: readonly Merge[],
  ) {
    this.byteIds.fill(-1);
    const seenSymbols = new Map<string, number>();
    tokens.forEach((t, id) => {
      if ('special' in t) {
        if (t.special.length === 0) throw new Error(`tokenizer: special token ${id} is empty`);
        if (this.specialIds.has(t.special))
          throw new Error(`tokenizer: special token '${t.special}' appears twice (ids ${this.specialIds.get(t.special)} and ${id})`);
        this.specialIds.set(t.special, id);
      } else {
        if (t.bytes.length === 0) throw new Error(`tokenizer: token ${id} has no bytes`);
        const sym = bytesToSymbols(t.bytes);
        if (seenSymbols.has(sym)) throw new Error(`tokenizer: tokens ${seenSymbols.get(sym)} and ${id} have the same bytes '${sym}'`);
        seenSymbols.set(sym, id);
        if (t.bytes.length === 1) this.byteIds[t.bytes[0]!] = id;
      }
    });
    const missing = this.byteIds.indexOf(-1);
    if (missing >= 0)
      throw new Error(`tokenizer: no token for byte 0x${missing.toString(16).padStart(2, '0')}; a byte-level tokenizer needs all 256`);
    for (const s of this.specialIds.keys()) {
      // tokenizer.json keys the vocabulary by text, so a special must not spell a byte token.
      if (seenSymbols.has(s)) throw new Error(`tokenizer: special token '${s}' has the same text as byte token ${seenSymbols.get(s)}`);
    }
    for (const s of [END_OF_TEXT, PAD]) if (!this.specialIds.has(s)) throw new Error(`tokenizer: the special token '${s}' is missing`);
    merges.forEach((m, i) => {
      const [l, r, o] = [tokens[m.left], tokens[m.right], tokens[m.id]];
      if (!l || !r || !o || !('bytes' in l) || !('bytes' in r) || !('bytes' in o))
        throw new Error(`tokenizer: merge ${i} (${m.left} + ${m.right} -> ${m.id}) refers to a token that is missing or special`);
      const joined = new Uint8Array([...l.bytes, ...r.bytes]);
      if (bytesToSymbols(joined) !== bytesToSymbols(o.bytes))
        throw new Error(
          `tokenizer: merge ${i} joins '${bytesToSymbols(l.bytes)}' + '${bytesToSymbols(r.bytes)}' but token ${m.id} is '${bytesToSymbols(o.bytes)}'`,
        );
    });
    this.mergeTable = new MergeTable(merges);
    // Longest first, so that a special that contains another wins.
    const alternatives = [...this.specialIds.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.specialPattern = new RegExp(alternatives.join('|'), 'g');
  }

  /** Bytes + specials, no merges. */
  static byteLevel(options: TokenizerOptions = {}): Tokenizer {
    return new Tokenizer(baseTokens(options.specials ?? []), []);
  }

  /**
   * Learns BPE merges from `texts` until the vocabulary (bytes + specials + merges) holds
   * `vocabSize` tokens, or fewer if the corpus has no pair left that occurs twice. Special-token
   * text in the corpus is cut out first, so no merge spells part of a special.
   */
  static train(texts: Iterable<string>, vocabSize: number, options: TokenizerOptions = {}): Tokenizer {
    const base = baseTokens(options.specials ?? []);
    if (!Number.isInteger(vocabSize) || vocabSize < base.length)
      throw new Error(`tokenizer: vocabSize ${vocabSize} is below the ${base.length} byte and special tokens`);
    const specialsOnly = Tokenizer.byteLevel(options);
    const words = new Map<string, number>();
    for (const text of texts) {
      for (const piece of specialsOnly.splitSpecials(text, 'parse')) {
        if (typeof piece === 'number') continue;
        for (const w of preTokenize(piece)) words.set(w, (words.get(w) ?? 0) + 1);
      }
    }
    const bytesOf = base.map((t) => ('bytes' in t ? t.bytes : utf8(t.special)));
    const { merges, tokenBytes } = learnMerges(
      words,
      (w) => Array.from(utf8(w)), // byte b has id b in a fresh layout
      bytesOf,
      (b) => !hasDigit(b),
      base.length,
      vocabSize - base.length,
    );
    const tokens: TokenDef[] = base.slice();
    for (const m of merges) tokens[m.id] = { bytes: tokenBytes[m.id]! };
    return new Tokenizer(tokens, merges);
  }

  /** Tokens in the vocabulary (the model's vocab_size must equal it). */
  get vocabSize(): number {
    return this.tokens.length;
  }

  get merges(): readonly Merge[] {
    return this.mergeTable.merges;
  }

  /** Special-token texts, in id order. */
  get specialTokens(): string[] {
    return [...this.specialIds.entries()].sort((a, b) => a[1] - b[1]).map(([s]) => s);
  }

  get eotId(): number {
    return this.specialId(END_OF_TEXT);
  }

  get padId(): number {
    return this.specialId(PAD);
  }

  /** The id of a special token; throws, listing the specials, if there is none by that text. */
  specialId(text: string): number {
    const id = this.specialIds.get(text);
    if (id === undefined) throw new Error(`tokenizer: no special token '${text}' (have: ${this.specialTokens.join(' ')})`);
    return id;
  }

  hasSpecial(text: string): boolean {
    return this.specialIds.has(text);
  }

  isSpecial(id: number): boolean {
    const t = this.tokens[id];
    return t !== undefined && 'special' in t;
  }

  encode(text: string, options: EncodeOptions): number[] {
    const out: number[] = [];
    for (const piece of this.splitSpecials(text, options.specials)) {
      if (typeof piece === 'number') out.push(piece);
      else for (const w of preTokenize(piece)) for (const id of this.encodeWord(w)) out.push(id);
    }
    return out;
  }

  /** The bytes the ids stand for (specials as their UTF-8 text unless skipped). */
  decodeBytes(ids: readonly number[], options: { skipSpecials?: boolean } = {}): Uint8Array {
    const parts: Uint8Array[] = [];
    let n = 0;
    for (const id of ids) {
      const t = this.tokens[id];
      if (t === undefined) throw new Error(`tokenizer: token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
      let b: Uint8Array;
      if ('bytes' in t) b = t.bytes;
      else if (options.skipSpecials) continue;
      else b = utf8(t.special);
      parts.push(b);
      n += b.length;
    }
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Text of the ids; bytes that do not form valid UTF-8 (a cut-off character) become U+FFFD. */
  decode(ids: readonly number[], options: { skipSpecials?: boolean } = {}): string {
    return fromUtf8(this.decodeBytes(ids, options));
  }

  /** Cuts text at special-token text ('parse') into strings and special ids. */
  private splitSpecials(text: string, mode: 'parse' | 'plain'): Array<string | number> {
    if (mode === 'plain') return [text];
    if (mode !== 'parse') throw new Error(`tokenizer: encode option specials must be 'parse' or 'plain', got ${String(mode)}`);
    const out: Array<string | number> = [];
    let end = 0;
    for (const m of text.matchAll(this.specialPattern)) {
      if (m.index > end) out.push(text.slice(end, m.index));
      out.push(this.specialIds.get(m[0])!);
      end = m.index + m[0].length;
    }
    if (end < text.length) out.push(text.slice(end));
    return out;
  }

  private encodeWord(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const ids = this.mergeTable.apply(Array.from(utf8(word), (b) => this.byteIds[b]!));
    if (this.cache.size > 100_000) this.cache.clear(); // bound memory on endless novel text
    this.cache.set(word, ids);
    return ids;
  }
}

/** Bytes 0..255 at ids 0..255, then end of text, padding and the caller's specials. */
function baseTokens(specials: readonly string[]): TokenDef[] {
  const tokens: TokenDef[] = [];
  for (let b = 0; b < 256; b++) tokens.push({ bytes: Uint8Array.of(b) });
  const names = [END_OF_TEXT, PAD];
  for (const s of specials) {
    if (typeof s !== 'string' || s.length === 0)
      throw new Error(`tokenizer: special tokens must be non-empty strings, got ${JSON.stringify(s)}`);
    if (names.includes(s)) {
      if (s === END_OF_TEXT || s === PAD) continue; // built in; listing it again is harmless
      throw new Error(`tokenizer: special token '${s}' is listed twice`);
    }
    names.push(s);
  }
  for (const s of names) tokens.push({ special: s });
  return tokens;
}
