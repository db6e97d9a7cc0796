// Arithmetic families: add and subtract d-digit numbers, multiply by one digit, compare two
// numbers, digit sum. Worked solutions go column by column from the right, the way the corpus
// teaches them ("Q: 47+85= W: 7+5=12;4+8+1=13 =132").
import type { Rng } from './rng.js';
import type { ErrorKind, Family, Task, WrongAnswer } from './task.js';
import { countDigits, digitOff, digitsLsb, farNumber, numLen, sampleDigits, swapAdjacent } from './numeric.js';

function badKey(family: string, key: string): Error {
  return new Error(`${family}: bad instance key "${key}"`);
}

/** Near slips shared by the column families: a dropped carry/borrow (given), a digit off, a swap. */
function numericWrong(rng: Rng, kind: ErrorKind, answer: number, slips: WrongAnswer[]): WrongAnswer | null {
  if (kind === 'far') return { core: String(farNumber(rng, answer)), error: 'far' };
  const s = String(answer);
  const opts = [...slips];
  const off = digitOff(rng, s);
  if (off !== null) opts.push({ core: off, error: 'digit' });
  const sw = swapAdjacent(rng, s);
  if (sw !== null) opts.push({ core: sw, error: 'swap' });
  const ok = opts.filter((o) => o.core !== s && /^\d+$/.test(o.core));
  return ok.length ? rng.pick(ok) : null;
}

function addTask(a: number, b: number): Task {
  const n = Math.max(numLen(a), numLen(b));
  const da = digitsLsb(a, n);
  const db = digitsLsb(b, n);
  const steps: string[] = [];
  const carrySlips: WrongAnswer[] = [];
  let c = 0;
  for (let i = 0; i < n; i++) {
    const s = (da[i] as number) + (db[i] as number) + c;
    steps.push(`${da[i]}+${db[i]}${c ? '+1' : ''}=${s}`);
    c = s >= 10 ? 1 : 0;
    // Dropping this column's carry loses 10^(i+1) from the sum.
    if (c) carrySlips.push({ core: String(a + b - 10 ** (i + 1)), error: 'carry' });
  }
  const answer = a + b;
  return {
    family: 'add',
    difficulty: numLen(a),
    key: `${a}+${b}`,
    prompt: `What is ${a}+${b}?`,
    answer: String(answer),
    worked: `Q: ${a}+${b}= W: ${steps.join(';')} =${answer}`,
    check: (core) => core.trim() === String(answer),
    wrong: (rng, kind) => numericWrong(rng, kind, answer, carrySlips),
  };
}

export const add: Family = {
  name: 'add',
  group: 'arith',
  levels: [1, 2, 3, 4, 5],
  spaceSize: (d) => countDigits(d) ** 2,
  sample: (rng, d) => addTask(sampleDigits(rng, d), sampleDigits(rng, d)),
  fromKey(key) {
    const m = /^(\d+)\+(\d+)$/.exec(key);
    if (!m) throw badKey('add', key);
    return addTask(Number(m[1]), Number(m[2]));
  },
};

function subTask(a: number, b: number): Task {
  const n = numLen(a);
  const da = digitsLsb(a, n);
  const db = digitsLsb(b, n);
  const steps: string[] = [];
  const borrowSlips: WrongAnswer[] = [];
  let bi = 0;
  for (let i = 0; i < n; i++) {
    const t = da[i] as number;
    const v = t - bi;
    const lhs = `${t}${bi ? '-1' : ''}-${db[i]}`;
    if (v < (db[i] as number)) {
      steps.push(`1${lhs}=${10 + v - (db[i] as number)}`);
      bi = 1;
      // Forgetting to pay this borrow back in the next column adds 10^(i+1).
      borrowSlips.push({ core: String(a - b + 10 ** (i + 1)), error: 'borrow' });
    } else {
      steps.push(`${lhs}=${v - (db[i] as number)}`);
      bi = 0;
    }
  }
  const answer = a - b;
  return {
    family: 'sub',
    difficulty: n,
    key: `${a}-${b}`,
    prompt: `What is ${a}-${b}?`,
    answer: String(answer),
    worked: `Q: ${a}-${b}= W: ${steps.join(';')} =${answer}`,
    check: (core) => core.trim() === String(answer),
    wrong: (rng, kind) => numericWrong(rng, kind, answer, borrowSlips),
  };
}

export const sub: Family = {
  name: 'sub',
  group: 'arith',
  levels: [1, 2, 3, 4, 5],
  spaceSize: (d) => (countDigits(d) * (countDigits(d) - 1)) / 2,
  sample(rng, d) {
    for (;;) {
      const a = sampleDigits(rng, d);
      const b = sampleDigits(rng, d);
      if (a > b) return subTask(a, b);
      if (b > a) return subTask(b, a);
    }
  },
  fromKey(key) {
    const m = /^(\d+)-(\d+)$/.exec(key);
    if (!m || Number(m[1]) <= Number(m[2])) throw badKey('sub', key);
    return subTask(Number(m[1]), Number(m[2]));
  },
};

function mulTask(a: number, b: number): Task {
  const n = numLen(a);
  const da = digitsLsb(a, n);
  const steps: string[] = [];
  const carrySlips: WrongAnswer[] = [];
  let c = 0;
  for (let i = 0; i < n; i++) {
    const p = (da[i] as number) * b + c;
    steps.push(`${da[i]}*${b}${c ? `+${c}` : ''}=${p}`);
    c = Math.floor(p / 10);
    // Dropping the carry into column i+1 loses c·10^(i+1).
    if (c && i + 1 < n) carrySlips.push({ core: String(a * b - c * 10 ** (i + 1)), error: 'carry' });
  }
  const answer = a * b;
  return {
    family: 'mul1',
    difficulty: n,
    key: `${a}*${b}`,
    prompt: `What is ${a}*${b}?`,
    answer: String(answer),
    worked: `Q: ${a}*${b}= W: ${steps.join(';')} =${answer}`,
    check: (core) => core.trim() === String(answer),
    wrong: (rng, kind) => numericWrong(rng, kind, answer, carrySlips),
  };
}

export const mul1: Family = {
  name: 'mul1',
  group: 'arith',
  levels: [1, 2, 3, 4, 5],
  spaceSize: (d) => countDigits(d) * 8,
  sample: (rng, d) => mulTask(sampleDigits(rng, d), rng.int(2, 9)),
  fromKey(key) {
    const m = /^(\d+)\*([2-9])$/.exec(key);
    if (!m) throw badKey('mul1', key);
    return mulTask(Number(m[1]), Number(m[2]));
  },
};

function compareTask(a: number, b: number): Task {
  const sa = String(a);
  const sb = String(b);
  const steps: string[] = [];
  for (let i = 0; i < sa.length; i++) {
    const x = sa[i] as string;
    const y = sb[i] as string;
    steps.push(`${x}${x === y ? '=' : x > y ? '>' : '<'}${y}`);
    if (x !== y) break;
  }
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  // A near miss: the two numbers agree in their leading digit (or differ by 1 for one digit).
  const near = sa.length === 1 ? hi - lo === 1 : sa[0] === sb[0];
  return {
    family: 'compare',
    difficulty: sa.length,
    key: `${a} vs ${b}`,
    prompt: `Which is larger, ${a} or ${b}?`,
    answer: String(hi),
    worked: `Q: ${a} vs ${b}? W: ${steps.join(';')} =${hi}`,
    check: (core) => core.trim() === String(hi),
    wrong: (_rng, kind) => ((kind === 'near') === near ? { core: String(lo), error: 'smaller' } : null),
  };
}

export const compare: Family = {
  name: 'compare',
  group: 'arith',
  levels: [1, 2, 3, 4, 5],
  spaceSize: (d) => countDigits(d) * (countDigits(d) - 1),
  sample(rng, d) {
    for (;;) {
      const a = sampleDigits(rng, d);
      const b = sampleDigits(rng, d);
      if (a !== b) return compareTask(a, b);
    }
  },
  fromKey(key) {
    const m = /^(\d+) vs (\d+)$/.exec(key);
    if (!m || m[1] === m[2] || (m[1] as string).length !== (m[2] as string).length) throw badKey('compare', key);
    return compareTask(Number(m[1]), Number(m[2]));
  },
};

function digitsumTask(x: number): Task {
  const ds = String(x).split('').map(Number);
  const steps: string[] = [];
  let acc = ds[0] as number;
  for (let i = 1; i < ds.length; i++) {
    steps.push(`${acc}+${ds[i]}=${acc + (ds[i] as number)}`);
    acc += ds[i] as number;
  }
  const answer = acc;
  return {
    family: 'digitsum',
    difficulty: ds.length,
    key: String(x),
    prompt: `What is the digit sum of ${x}?`,
    answer: String(answer),
    worked: `Q: digitsum ${x}= W: ${steps.join(';')} =${answer}`,
    check: (core) => core.trim() === String(answer),
    wrong(rng, kind) {
      const drops = ds.filter((d) => d > 0).map((d) => ({ core: String(answer - d), error: 'drop' }));
      return numericWrong(rng, kind, answer, drops);
    },
  };
}

export const digitsum: Family = {
  name: 'digitsum',
  group: 'arith',
  levels: [2, 3, 4, 5],
  spaceSize: (d) => countDigits(d),
  sample: (rng, d) => digitsumTask(sampleDigits(rng, d)),
  fromKey(key) {
    if (!/^[1-9]\d+$/.test(key)) throw badKey('digitsum', key);
    return digitsumTask(Number(key));
  },
};
