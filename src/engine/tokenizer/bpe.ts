// Byte-pair encoding over byte tokens: the pre-tokenizer that cuts text into words, the merge
// rule that applies learned merges to a word, and the trainer that learns them from a corpus.
//
// The pre-tokenizer is GPT-2's pattern, as Hugging Face's `ByteLevel` pre-tokenizer runs it with
// `use_regex: true` (contractions, letters, numbers, other symbols, each with an optional leading
// space; then whitespace runs). `\s` is spelt as the Unicode White_Space property, which is what
// the Rust regex engine means by it; JavaScript's `\s` differs on a few code points.
const WORD =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/** Cuts text into the words BPE works inside (merges never cross a word boundary). */
export function preTokenize(text: string): string[] {
  const out: string[] = [];
  let end = 0;
  for (const m of text.matchAll(WORD)) {
    // The pattern covers every character; a gap would only be a lone surrogate. Keep it anyway
    // so that no text is ever dropped.
    if (m.index > end) out.push(text.slice(end, m.index));
    out.push(m[0]);
    end = m.index + m[0].length;
  }
  if (end < text.length) out.push(text.slice(end));
  return out;
}

/** One learned merge: tokens `left` and `right` side by side become token `id`. Lower rank applies first. */
export interface Merge {
  left: number;
  right: number;
  id: number;
}

// Pair key for maps; token ids stay far below 2^21.
const pairKey = (a: number, b: number): number => a * 2097152 + b;

/** Learned merges, indexed for encoding. */
export class MergeTable {
  private readonly byPair = new Map<number, { rank: number; id: number }>();

  constructor(readonly merges: readonly Merge[]) {
    merges.forEach((m, rank) => {
      const key = pairKey(m.left, m.right);
      if (!this.byPair.has(key)) this.byPair.set(key, { rank, id: m.id });
    });
  }

  get size(): number {
    return this.merges.length;
  }

  /** Applies the merges to a word's byte-token ids, lowest rank first, until none applies. */
  apply(ids: number[]): number[] {
    if (this.byPair.size === 0 || ids.length < 2) return ids;
    let word = ids;
    for (;;) {
      let best: { rank: number; id: number } | undefined;
      let bestLeft = -1;
      let bestRight = -1;
      for (let i = 0; i + 1 < word.length; i++) {
        const m = this.byPair.get(pairKey(word[i]!, word[i + 1]!));
        if (m !== undefined && (best === undefined || m.rank < best.rank)) {
          best = m;
          bestLeft = word[i]!;
          bestRight = word[i + 1]!;
        }
      }
      if (best === undefined) return word;
      word = mergePair(word, bestLeft, bestRight, best.id);
    }
  }
}

/** Replaces every non-overlapping (left, right) in `word`, scanning left to right, with `id`. */
function mergePair(word: number[], left: number, right: number, id: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < word.length; i++) {
    if (i + 1 < word.length && word[i] === left && word[i + 1] === right) {
      out.push(id);
      i++;
    } else {
      out.push(word[i]!);
    }
  }
  return out;
}

/**
 * Learns merges from words with counts, most frequent pair first (ties: smaller left id, then
 * smaller right id, so training is deterministic). `mergeable(id)` says whether a token may take
 * part in a merge (genrm keeps digits out); `firstId` is the id the first new token gets.
 * Stops after `maxMerges`, or earlier when no pair occurs at least twice (a merge seen once
 * shortens nothing in practice and only wastes a vocabulary slot).
 */
export function learnMerges(
  words: Map<string, number>,
  toIds: (word: string) => number[],
  tokenBytes: Uint8Array[],
  mergeable: (bytes: Uint8Array) => boolean,
  firstId: number,
  maxMerges: number,
): { merges: Merge[]; tokenBytes: Uint8Array[] } {
  const corpus: Array<{ ids: number[]; count: number }> = [];
  for (const [w, count] of words) corpus.push({ ids: toIds(w), count });
  const bytes = tokenBytes.slice();
  const canMerge: boolean[] = bytes.map((b) => mergeable(b));
  const merges: Merge[] = [];
  for (let nextId = firstId; merges.length < maxMerges; nextId++) {
    // Count every adjacent mergeable pair, weighted by word frequency.
    const counts = new Map<number, number>();
    for (const { ids, count } of corpus) {
      for (let i = 0; i + 1 < ids.length; i++) {
        const a = ids[i]!;
        const b = ids[i + 1]!;
        if (!canMerge[a] || !canMerge[b]) continue;
        const k = pairKey(a, b);
        counts.set(k, (counts.get(k) ?? 0) + count);
      }
    }
    let bestKey = -1;
    let bestCount = 1;
    for (const [k, c] of counts) if (c > bestCount || (c === bestCount && bestKey >= 0 && k < bestKey)) [bestKey, bestCount] = [k, c];
    if (bestKey < 0) break;
    const left = Math.floor(bestKey / 2097152);
    const right = bestKey % 2097152;
    const merged = new Uint8Array(bytes[left]!.length + bytes[right]!.length);
    merged.set(bytes[left]!, 0);
    merged.set(bytes[right]!, bytes[left]!.length);
    bytes[nextId] = merged;
    canMerge[nextId] = mergeable(merged);
    merges.push({ left, right, id: nextId });
    for (const w of corpus) if (w.ids.length > 1) w.ids = mergePair(w.ids, left, right, nextId);
  }
  return { merges, tokenBytes: bytes };
}
