// What `genrm data inspect` reports about a set of pairs: counts, length statistics (chars) of
// prompt/chosen/rejected, exact duplicates, an example. Lengths are kept as compact typed arrays
// and duplicates as 52-bit hashes in a Set of numbers, so millions of pairs fit in memory.
import { createHash } from 'node:crypto';
import type { PreferencePair } from '../pair.js';
import { promptText } from '../judgeFormat.js';

export interface LengthStats {
  min: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
}

export interface PairStats {
  pairs: number;
  ties: number;
  lengths: { prompt: LengthStats; chosen: LengthStats; rejected: LengthStats };
  /** Pairs identical (prompt, chosen, rejected) to an earlier one. */
  duplicatePairs: number;
  /** Pairs whose prompt appeared in an earlier pair (many sets hold several pairs per prompt). */
  duplicatePrompts: number;
  example: PreferencePair | null;
}

class Lengths {
  private a = new Uint32Array(1024);
  n = 0;
  push(x: number): void {
    if (this.n === this.a.length) {
      const b = new Uint32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = x;
  }
  stats(): LengthStats {
    if (this.n === 0) return { min: 0, median: 0, p95: 0, max: 0, mean: 0 };
    const s = this.a.slice(0, this.n).sort();
    // Nearest-rank percentiles: an actual length from the data, never an interpolated one.
    const q = (p: number): number => s[Math.min(this.n - 1, Math.max(0, Math.ceil(p * this.n) - 1))] as number;
    let sum = 0;
    for (const x of s) sum += x;
    return { min: s[0] as number, median: q(0.5), p95: q(0.95), max: s[this.n - 1] as number, mean: sum / this.n };
  }
}

/** 52 bits of SHA-1: a collision among 10^7 items has odds ~10^-2 per pair of sets; fine for a count. */
export function hash52(...parts: string[]): number {
  const h = createHash('sha1');
  for (const p of parts) h.update(p).update('\u0000');
  return Number.parseInt(h.digest('hex').slice(0, 13), 16);
}

export class StatsCollector {
  private prompt = new Lengths();
  private chosen = new Lengths();
  private rejected = new Lengths();
  private seenPairs = new Set<number>();
  private seenPrompts = new Set<number>();
  private s = { pairs: 0, ties: 0, duplicatePairs: 0, duplicatePrompts: 0 };
  private example: PreferencePair | null = null;

  add(p: PreferencePair): void {
    this.s.pairs++;
    if (p.tie) this.s.ties++;
    this.example ??= p;
    const pt = typeof p.prompt === 'string' ? p.prompt : JSON.stringify(p.prompt);
    this.prompt.push(promptText(p.prompt).length);
    this.chosen.push(p.chosen.length);
    this.rejected.push(p.rejected.length);
    const ph = hash52(pt);
    if (this.seenPrompts.has(ph)) this.s.duplicatePrompts++;
    else this.seenPrompts.add(ph);
    const xh = hash52(pt, p.chosen, p.rejected);
    if (this.seenPairs.has(xh)) this.s.duplicatePairs++;
    else this.seenPairs.add(xh);
  }

  result(): PairStats {
    return {
      ...this.s,
      lengths: { prompt: this.prompt.stats(), chosen: this.chosen.stats(), rejected: this.rejected.stats() },
      example: this.example,
    };
  }
}
