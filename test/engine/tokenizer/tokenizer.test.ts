import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tokenizer, END_OF_TEXT, PAD, preTokenize } from '../../../src/engine/tokenizer/index.js';

// The judge format's verdict tokens (src/data/judgeFormat.ts exports them; the engine may not import it).
const VERDICTS = ['[[A]]', '[[B]]', '[[YES]]', '[[NO]]'];

// Seeded PRNG (mulberry32) so failures reproduce.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Pieces drawn to build hard strings: ASCII, whitespace of many kinds, Latin-1, CJK, emoji
// (surrogate pairs, ZWJ sequences, flags, skin tones), combining marks, a BOM, digits, and text
// that is or nearly is a special token.
const POOL = [
  'a',
  'Z',
  'the',
  ' cat',
  "'s",
  "'ll",
  '.',
  ',',
  '!?',
  '(',
  ')',
  '-',
  '_',
  '\\',
  '"',
  '{',
  '}',
  ' ',
  '  ',
  '\n',
  '\n\n',
  '\t',
  '\r\n',
  '\u00a0',
  '\u2028',
  '\u3000',
  '\u200b',
  '\ufeff',
  'é',
  'ß',
  'ñ',
  'Ø',
  'ÿ',
  '\u00ad',
  'Ġ',
  'Ċ',
  'е',
  'Ω',
  '中文',
  '日本語',
  '한국어',
  'العربية',
  'हिन्दी',
  '😀',
  '👍🏽',
  '👨‍👩‍👧',
  '🇫🇷',
  '𝔘',
  'e\u0301',
  '\u0000',
  '\u007f',
  '\u0085',
  '0',
  '7',
  '42',
  '3.14',
  '-12',
  '1000000',
  '٣',
  '½',
  '[[A]]',
  '[[B]]',
  '[[YES]]',
  '[[NO]]',
  '[[',
  ']]',
  '[[A]',
  '[A]]',
  '[[a]]',
  '<|endoftext|>',
  '<|pad|>',
  '<|endoftext',
  '|>',
  '<|',
  '[[[[A]]]]',
  '<|pad|><|pad|>',
];

function randomString(r: () => number): string {
  const n = Math.floor(r() * 24);
  let s = '';
  for (let i = 0; i < n; i++) {
    if (r() < 0.15) s += String.fromCodePoint(randomCodePoint(r));
    else s += POOL[Math.floor(r() * POOL.length)]!;
  }
  return s;
}

// Any scalar value (no lone surrogates: those are not well-formed Unicode and UTF-8 cannot hold them).
function randomCodePoint(r: () => number): number {
  for (;;) {
    const cp = r() < 0.5 ? Math.floor(r() * 0x800) : Math.floor(r() * 0x110000);
    if (cp < 0xd800 || cp > 0xdfff) return cp;
  }
}

const CORPUS = [
  'The answer is 12345. Answer A is correct because 7 + 8 = 15.',
  'Question: sort the list [3, 1, 2]. Solution: the sorted list is [1, 2, 3].',
  'Answer B counts the letters in "banana": there are 3 a letters.',
  'I cannot help with that request because it is dangerous. [[B]]',
  'Compare 41 and 14: 41 is larger. The better answer is [[A]].',
  'the the the then there their these those this that thing thinking',
  'Ünïcödé wörds like café and naïve appear too, with 中文 and emoji 😀😀.',
];

function trained(vocabSize = 420): Tokenizer {
  const texts: string[] = [];
  for (let i = 0; i < 20; i++) texts.push(...CORPUS);
  return Tokenizer.train(texts, vocabSize, { specials: VERDICTS });
}

test('decode(encode(s)) === s for random strings, byte-level and BPE, both special modes', () => {
  const r = rng(1234);
  const toks = [Tokenizer.byteLevel({ specials: VERDICTS }), trained()];
  for (let i = 0; i < 600; i++) {
    const s = randomString(r);
    for (const tok of toks) {
      for (const specials of ['parse', 'plain'] as const) {
        const ids = tok.encode(s, { specials });
        assert.equal(tok.decode(ids), s, `case ${i} (${specials}, ${tok.vocabSize} tokens): ${JSON.stringify(s)}`);
        for (const id of ids) assert.ok(Number.isInteger(id) && id >= 0 && id < tok.vocabSize);
      }
    }
  }
});

test('specials are single ids when parsed and plain bytes otherwise', () => {
  const tok = trained();
  assert.equal(tok.eotId, 256);
  assert.equal(tok.padId, 257);
  assert.deepEqual(tok.specialTokens, [END_OF_TEXT, PAD, ...VERDICTS]);
  VERDICTS.forEach((v, i) => assert.equal(tok.specialId(v), 258 + i));

  const text = 'Which is better? [[A]] or [[B]]<|endoftext|>';
  const parsed = tok.encode(text, { specials: 'parse' });
  assert.deepEqual(
    parsed.filter((id) => tok.isSpecial(id)),
    [tok.specialId('[[A]]'), tok.specialId('[[B]]'), tok.eotId],
  );

  // Untrusted answer text cannot forge a verdict or end the sequence.
  const plain = tok.encode(text, { specials: 'plain' });
  assert.equal(plain.filter((id) => tok.isSpecial(id)).length, 0);
  assert.ok(plain.length > parsed.length);
  assert.equal(tok.decode(plain), text);

  // Only exact special text is a special; near misses are bytes.
  assert.equal(
    tok.encode('[[a]] [[A] <|pad', { specials: 'parse' }).some((id) => tok.isSpecial(id)),
    false,
  );
  // Longest special wins where several could start at one place; adjacent specials stay separate.
  assert.deepEqual(tok.encode('[[YES]][[NO]]', { specials: 'parse' }), [tok.specialId('[[YES]]'), tok.specialId('[[NO]]')]);

  assert.equal(tok.decode([tok.specialId('[[A]]'), 72, 105], { skipSpecials: true }), 'Hi');
  assert.throws(() => tok.specialId('[[C]]'), /no special token '\[\[C\]\]'/);
  assert.throws(() => tok.decode([tok.vocabSize]), /outside the vocabulary/);
});

test('byte-level tokenizer: 256 bytes + specials, one token per UTF-8 byte', () => {
  const tok = Tokenizer.byteLevel({ specials: VERDICTS });
  assert.equal(tok.vocabSize, 256 + 2 + VERDICTS.length);
  assert.equal(tok.merges.length, 0);
  const s = 'héllo 😀';
  assert.deepEqual(tok.encode(s, { specials: 'plain' }), Array.from(new TextEncoder().encode(s)));
});

test('BPE training: reaches the vocab size, shortens text, never merges digits, is deterministic', () => {
  const tok = trained(420);
  assert.equal(tok.vocabSize, 420);
  const sample = 'the thing there is thinking about the answer';
  assert.ok(tok.encode(sample, { specials: 'plain' }).length < new TextEncoder().encode(sample).length / 2);
  for (const t of tok.tokens) {
    if ('bytes' in t && t.bytes.length > 1)
      assert.ok(!t.bytes.some((b) => b >= 0x30 && b <= 0x39), `merged token holds a digit: ${Buffer.from(t.bytes).toString()}`);
  }
  // Every digit is its own token, even in numbers seen often in training.
  const digits = '12345 and 41';
  const ids = tok.encode(digits, { specials: 'plain' });
  const digitTokens = ids.filter((id) => /[0-9]/.test(tok.decode([id])));
  assert.equal(digitTokens.length, 7);
  for (const id of digitTokens) assert.equal(tok.decode([id]).length, 1);
  // No merge spells part of a special (they were cut out of the corpus).
  assert.ok(!tok.tokens.some((t) => 'bytes' in t && Buffer.from(t.bytes).toString().includes('[[A')));
  assert.deepEqual(trained(420).merges, tok.merges);
  // A corpus too small for the requested size stops when no pair repeats.
  const small = Tokenizer.train(['ab ab'], 5000);
  assert.ok(small.vocabSize < 5000 && small.vocabSize > 258);
  assert.throws(() => Tokenizer.train(['x'], 100), /below the 258 byte and special tokens/);
});

test('pre-tokenizer splits like GPT-2 / HF ByteLevel', () => {
  // From Hugging Face's documentation of the gpt2 pre-tokenizer on this sentence.
  assert.deepEqual(preTokenize('Hello, how are  you?'), ['Hello', ',', ' how', ' are', ' ', ' you', '?']);
  assert.deepEqual(preTokenize("I'll pay 100 now"), ['I', "'ll", ' pay', ' 100', ' now']);
});

test('lone surrogates (not valid Unicode) decode as U+FFFD', () => {
  const tok = Tokenizer.byteLevel();
  assert.equal(tok.decode(tok.encode('a\ud800b', { specials: 'plain' })), 'a\ufffdb');
});

test('bad special-token lists are refused', () => {
  assert.throws(() => Tokenizer.byteLevel({ specials: ['[[A]]', '[[A]]'] }), /listed twice/);
  assert.throws(() => Tokenizer.byteLevel({ specials: [''] }), /non-empty/);
  // A one-character special would spell the same vocab key as a byte token.
  assert.throws(() => Tokenizer.byteLevel({ specials: ['x'] }), /same text as byte token/);
});
