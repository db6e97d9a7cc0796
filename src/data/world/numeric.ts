// Shared helpers for families whose answers are numbers: operand sampling and the generic
// slips (one digit off, two adjacent digits swapped, a far-off number).
import type { Rng } from './rng.js';

/** A d-digit number; d = 1 includes 0 (so one-digit sums have 0..9 operands). */
export function sampleDigits(rng: Rng, d: number): number {
  if (d <= 1) return rng.int(0, 9);
  return rng.int(10 ** (d - 1), 10 ** d - 1);
}

/** How many d-digit numbers sampleDigits can make. */
export function countDigits(d: number): number {
  return d <= 1 ? 10 : 9 * 10 ** (d - 1);
}

/** Digits least-significant first, padded with zeros to length n. */
export function digitsLsb(x: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(x % 10);
    x = Math.floor(x / 10);
  }
  return out;
}

export function numLen(x: number): number {
  return String(x).length;
}

/** One digit of s moved by ±1 (no new leading zero); null if impossible. */
export function digitOff(rng: Rng, s: string): string | null {
  const options: string[] = [];
  for (let i = 0; i < s.length; i++) {
    const d = Number(s[i]);
    for (const nd of [d - 1, d + 1]) {
      if (nd < 0 || nd > 9) continue;
      if (i === 0 && nd === 0 && s.length > 1) continue;
      options.push(s.slice(0, i) + String(nd) + s.slice(i + 1));
    }
  }
  return options.length ? rng.pick(options) : null;
}

/** Two adjacent, different digits of s swapped (no new leading zero); null if none. */
export function swapAdjacent(rng: Rng, s: string): string | null {
  const options: string[] = [];
  for (let i = 0; i + 1 < s.length; i++) {
    if (s[i] === s[i + 1]) continue;
    if (i === 0 && s[1] === '0') continue;
    options.push(s.slice(0, i) + (s[i + 1] as string) + (s[i] as string) + s.slice(i + 2));
  }
  return options.length ? rng.pick(options) : null;
}

/** A non-negative number clearly far from x: off by at least max(5, 30 % of x). */
export function farNumber(rng: Rng, x: number): number {
  const gap = Math.max(5, Math.ceil(x * 0.3));
  const hi = Math.max(2 * x, x + 2 * gap);
  for (let tries = 0; tries < 100; tries++) {
    const y = rng.int(0, hi);
    if (Math.abs(y - x) >= gap) return y;
  }
  return x + gap;
}
