// String families: count a letter in a word, reverse a word, the next letter of the alphabet.
// Words are random lowercase strings (so the instance space is large and no word is "known").
import type { Rng } from './rng.js';
import type { Family, Task, WrongAnswer } from './task.js';

const ALPHA = 'abcdefghijklmnopqrstuvwxyz';

function badKey(family: string, key: string): Error {
  return new Error(`${family}: bad instance key "${key}"`);
}

function countTask(letter: string, word: string): Task {
  const steps: string[] = [];
  let n = 0;
  for (const ch of word) {
    if (ch === letter) n++;
    steps.push(`${ch}${n}`);
  }
  const answer = String(n);
  return {
    family: 'count',
    difficulty: word.length,
    key: `${letter}|${word}`,
    prompt: `How many times does the letter ${letter} appear in ${word}?`,
    answer,
    worked: `Q: count ${letter} in ${word}= W: ${steps.join(' ')} =${answer}`,
    check: (core) => core.trim() === answer,
    wrong(rng, kind): WrongAnswer {
      if (kind === 'near') return { core: String(n === 0 || rng.bool() ? n + 1 : n - 1), error: 'off1' };
      const d = rng.int(2, 3);
      return { core: String(n - d >= 0 && rng.bool() ? n - d : n + d), error: 'far' };
    },
  };
}

export const count: Family = {
  name: 'count',
  group: 'string',
  levels: [3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  spaceSize: (n) => 26 * 26 ** n,
  sample(rng, n) {
    const letter = rng.pick([...ALPHA]);
    let word = '';
    // The asked letter is over-represented (30 %) so counts of 0..4 all occur.
    for (let i = 0; i < n; i++) word += rng.bool(0.3) ? letter : rng.pick([...ALPHA]);
    return countTask(letter, word);
  },
  fromKey(key) {
    const m = /^([a-z])\|([a-z]+)$/.exec(key);
    if (!m) throw badKey('count', key);
    return countTask(m[1] as string, m[2] as string);
  },
};

function reverseTask(word: string): Task {
  const chars = [...word];
  const fwd = chars.map((c, i) => `${c}${i + 1}`);
  const back = [...fwd].reverse();
  const answer = [...chars].reverse().join('');
  return {
    family: 'reverse',
    difficulty: word.length,
    key: word,
    prompt: `Reverse the word ${word}.`,
    answer,
    worked: `Q: reverse ${word}= W: ${fwd.join(' ')};${back.join(' ')} =${answer}`,
    check: (core) => core.trim() === answer,
    wrong(rng, kind): WrongAnswer | null {
      if (kind === 'far') return word !== answer ? { core: word, error: 'unreversed' } : null;
      const opts: string[] = [];
      for (let i = 0; i + 1 < answer.length; i++) {
        if (answer[i] === answer[i + 1]) continue;
        opts.push(answer.slice(0, i) + (answer[i + 1] as string) + (answer[i] as string) + answer.slice(i + 2));
      }
      return opts.length ? { core: rng.pick(opts), error: 'swap' } : null;
    },
  };
}

export const reverse: Family = {
  name: 'reverse',
  group: 'string',
  levels: [3, 4, 5, 6, 7, 8, 9, 10],
  spaceSize: (n) => 26 ** n,
  sample(rng: Rng, n) {
    let word = '';
    for (let i = 0; i < n; i++) word += rng.pick([...ALPHA]);
    return reverseTask(word);
  },
  fromKey(key) {
    if (!/^[a-z]{2,}$/.test(key)) throw badKey('reverse', key);
    return reverseTask(key);
  },
};

function nextTask(letter: string): Task {
  const i = ALPHA.indexOf(letter);
  const answer = ALPHA[i + 1] as string;
  return {
    family: 'nextletter',
    difficulty: 1,
    key: letter,
    prompt: `Which letter comes after ${letter}?`,
    answer,
    worked: `Q: after ${letter}? W: ${i > 0 ? `${ALPHA[i - 1]} ` : ''}${letter} ${answer} =${answer}`,
    check: (core) => core.trim() === answer,
    wrong(rng, kind): WrongAnswer {
      if (kind === 'near') {
        const opts: WrongAnswer[] = [];
        if (i > 0) opts.push({ core: ALPHA[i - 1] as string, error: 'prev' });
        if (i + 2 < ALPHA.length) opts.push({ core: ALPHA[i + 2] as string, error: 'skip' });
        return rng.pick(opts);
      }
      const far = [...ALPHA].filter((_, j) => Math.abs(j - (i + 1)) >= 4);
      return { core: rng.pick(far), error: 'far' };
    },
  };
}

export const nextletter: Family = {
  name: 'nextletter',
  group: 'string',
  levels: [1],
  spaceSize: () => 25,
  sample: (rng) => nextTask(ALPHA[rng.int(0, 24)] as string),
  fromKey(key) {
    if (!/^[a-y]$/.test(key)) throw badKey('nextletter', key);
    return nextTask(key);
  },
};
