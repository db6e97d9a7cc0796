// List families: sort k digits, the largest / smallest of k two-digit numbers. Worked solutions
// count each digit (sort) or carry a running best (max, min) through the list.
import type { Rng } from './rng.js';
import type { ErrorKind, Family, Task, WrongAnswer } from './task.js';

const join = (xs: readonly number[]): string => xs.join(' ');

function badKey(family: string, key: string): Error {
  return new Error(`${family}: bad instance key "${key}"`);
}

function sortTask(xs: number[]): Task {
  const sorted = [...xs].sort((a, b) => a - b);
  const counts = new Map<number, number>();
  for (const x of sorted) counts.set(x, (counts.get(x) ?? 0) + 1);
  const steps = [...counts].map(([d, c]) => `${d}:${c}`);
  const answer = join(sorted);
  return {
    family: 'sort',
    difficulty: xs.length,
    key: join(xs),
    prompt: `Sort ${join(xs)} from smallest to largest.`,
    answer,
    worked: `Q: sort ${join(xs)}= W: ${steps.join(' ')} =${answer}`,
    check: (core) => core.trim().split(/\s+/).join(' ') === answer,
    wrong(rng: Rng, kind: ErrorKind): WrongAnswer | null {
      if (kind === 'far') {
        if (join(xs) !== answer) return { core: join(xs), error: 'unsorted' };
        const desc = [...sorted].reverse();
        return join(desc) !== answer ? { core: join(desc), error: 'descending' } : null;
      }
      const opts: WrongAnswer[] = [];
      for (let i = 0; i + 1 < sorted.length; i++) {
        if (sorted[i] === sorted[i + 1]) continue;
        const s = [...sorted];
        [s[i], s[i + 1]] = [s[i + 1] as number, s[i] as number];
        opts.push({ core: join(s), error: 'swap' });
      }
      // Drop and duplicate are equally likely, so length says nothing about which answer is right.
      const i = rng.int(0, sorted.length - 1);
      const drop = sorted.filter((_, j) => j !== i);
      const dup = [...sorted.slice(0, i + 1), sorted[i] as number, ...sorted.slice(i + 1)];
      const pool = [rng.pick(opts.length ? opts : [{ core: join(drop), error: 'drop' }])];
      pool.push(rng.bool() ? { core: join(drop), error: 'drop' } : { core: join(dup), error: 'dup' });
      return rng.pick(pool);
    },
  };
}

export const sort: Family = {
  name: 'sort',
  group: 'list',
  levels: [3, 4, 5, 6, 7, 8, 9, 10],
  spaceSize: (k) => 10 ** k,
  sample(rng, k) {
    const xs: number[] = [];
    for (let i = 0; i < k; i++) xs.push(rng.int(0, 9));
    return sortTask(xs);
  },
  fromKey(key) {
    if (!/^\d( \d)+$/.test(key)) throw badKey('sort', key);
    return sortTask(key.split(' ').map(Number));
  },
};

function bestTask(name: 'max' | 'min', xs: number[]): Task {
  const better = name === 'max' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  let cur = xs[0] as number;
  const steps: string[] = [];
  for (let i = 1; i < xs.length; i++) {
    const x = xs[i] as number;
    const next = better(x, cur) ? x : cur;
    steps.push(`${cur},${x}:${next}`);
    cur = next;
  }
  const ranked = [...xs].sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
  const answer = String(cur);
  const word = name === 'max' ? 'largest' : 'smallest';
  return {
    family: name,
    difficulty: xs.length,
    key: xs.join(','),
    prompt: `What is the ${word} of ${xs.join(', ')}?`,
    answer,
    worked: `Q: ${name} ${join(xs)}= W: ${steps.join(';')} =${answer}`,
    check: (core) => core.trim() === answer,
    wrong: (_rng, kind) =>
      kind === 'near'
        ? { core: String(ranked[1]), error: 'second' }
        : { core: String(ranked[ranked.length - 1]), error: name === 'max' ? 'smallest' : 'largest' },
  };
}

function bestFamily(name: 'max' | 'min'): Family {
  return {
    name,
    group: 'list',
    levels: [3, 4, 5, 6, 7, 8],
    // k distinct two-digit numbers in order: 90·89·…
    spaceSize: (k) => {
      let n = 1;
      for (let i = 0; i < k; i++) n *= 90 - i;
      return n;
    },
    sample(rng, k) {
      const xs: number[] = [];
      while (xs.length < k) {
        const x = rng.int(10, 99);
        if (!xs.includes(x)) xs.push(x);
      }
      return bestTask(name, xs);
    },
    fromKey(key) {
      if (!/^\d\d(,\d\d)+$/.test(key)) throw badKey(name, key);
      const xs = key.split(',').map(Number);
      if (new Set(xs).size !== xs.length) throw badKey(name, key);
      return bestTask(name, xs);
    },
  };
}

export const max = bestFamily('max');
export const min = bestFamily('min');
