import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Tokenizer, loadTokenizer, saveTokenizer, toTokenizerJson } from '../../../src/engine/tokenizer/index.js';

const VERDICTS = ['[[A]]', '[[B]]', '[[YES]]', '[[NO]]'];
const CORPUS = Array.from({ length: 30 }, (_, i) => `Answer ${i}: the thing there, then the other thinking [[A]] café ${i * 7}`);

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'genrm-tok-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

test('tokenizer.json has the Hugging Face byte-level BPE layout', () => {
  const tok = Tokenizer.train(CORPUS, 300, { specials: VERDICTS });
  const j = toTokenizerJson(tok) as J;
  assert.equal(j.model.type, 'BPE');
  assert.equal(j.pre_tokenizer.type, 'ByteLevel');
  assert.equal(j.pre_tokenizer.add_prefix_space, false);
  assert.equal(j.decoder.type, 'ByteLevel');
  // GPT-2's byte table: space is 'Ġ', newline 'Ċ', 'A' itself.
  assert.equal(j.model.vocab['Ġ'], 32);
  assert.equal(j.model.vocab['Ċ'], 10);
  assert.equal(j.model.vocab['A'], 65);
  assert.equal(Object.keys(j.model.vocab).length, tok.vocabSize);
  assert.deepEqual(
    j.added_tokens.map((a: J) => [a.id, a.content, a.special]),
    tok.specialTokens.map((s) => [tok.specialId(s), s, true]),
  );
  assert.equal(j.model.merges.length, tok.merges.length);
  // A merge's two halves joined are a vocab entry.
  for (const m of j.model.merges as string[]) {
    const [l, r] = m.split(' ');
    assert.ok(j.model.vocab[l! + r!] !== undefined, m);
  }
});

test('save then load gives the same tokenizer (also with merges as pairs)', () => {
  withDir((dir) => {
    const tok = Tokenizer.train(CORPUS, 300, { specials: VERDICTS });
    const file = join(dir, 'tokenizer.json');
    saveTokenizer(file, tok);
    assert.deepEqual(readdirSync(dir), ['tokenizer.json']); // no temp file left behind
    const back = loadTokenizer(file, { expectSpecials: VERDICTS });
    assert.equal(back.vocabSize, tok.vocabSize);
    assert.deepEqual(back.merges, tok.merges);
    const texts = ['the thing there [[A]] 123', 'café 😀 <|endoftext|>', ...CORPUS.slice(0, 3)];
    for (const s of texts)
      for (const specials of ['parse', 'plain'] as const) assert.deepEqual(back.encode(s, { specials }), tok.encode(s, { specials }));

    // Newer `tokenizers` writes merges as [left, right]; both read the same.
    const j = JSON.parse(readFileSync(file, 'utf8')) as J;
    j.model.merges = (j.model.merges as string[]).map((m) => m.split(' '));
    writeFileSync(file, JSON.stringify(j));
    assert.deepEqual(loadTokenizer(file).merges, tok.merges);
  });
});

test('loading names what is wrong', () => {
  withDir((dir) => {
    const file = join(dir, 'tokenizer.json');
    const good = toTokenizerJson(Tokenizer.train(CORPUS, 280, { specials: VERDICTS })) as J;
    const cases: Array<[string, (j: J) => void, RegExp]> = [
      [
        'missing byte',
        (j) => {
          delete j.model.vocab['Ġ'];
        },
        /id 32 is missing/,
      ],
      [
        'unknown merge token',
        (j) => {
          j.model.merges.push('zzz q');
        },
        /model\.merges\[\d+\] \('zzz q'\) uses a token that is not in model\.vocab/,
      ],
      [
        'normalizer',
        (j) => {
          j.normalizer = { type: 'NFC' };
        },
        /normalizer must be null/,
      ],
      [
        'prefix space',
        (j) => {
          j.pre_tokenizer.add_prefix_space = true;
        },
        /add_prefix_space must be false/,
      ],
      [
        'model type',
        (j) => {
          j.model.type = 'WordPiece';
        },
        /model\.type must be "BPE", got "WordPiece"/,
      ],
      [
        'non-special added token',
        (j) => {
          j.added_tokens[2].special = false;
        },
        /added_tokens\[2\] \('\[\[A\]\]'\) has special: false/,
      ],
      [
        'id mismatch',
        (j) => {
          j.added_tokens[0].id = 5;
        },
        /'<\|endoftext\|>' has id 5 in added_tokens but 256 in model\.vocab/,
      ],
      [
        'no eot',
        (j) => {
          j.added_tokens.shift();
          delete j.model.vocab['<|endoftext|>'];
        },
        /id 256 is missing/,
      ],
      [
        'duplicate id',
        (j) => {
          j.model.vocab['Ġ'] = 33;
        },
        /share id 33/,
      ],
    ];
    for (const [name, mutate, re] of cases) {
      const j = structuredClone(good);
      mutate(j);
      writeFileSync(file, JSON.stringify(j));
      assert.throws(
        () => loadTokenizer(file),
        (e: Error) => e.message.startsWith(file) && re.test(e.message),
        name,
      );
    }
    writeFileSync(file, '{"model": ');
    assert.throws(() => loadTokenizer(file), /tokenizer\.json: not valid JSON/);
    assert.throws(() => loadTokenizer(join(dir, 'nope.json')), /nope\.json: cannot read the tokenizer \(ENOENT\)/);
    writeFileSync(file, JSON.stringify(toTokenizerJson(Tokenizer.byteLevel())));
    assert.throws(
      () => loadTokenizer(file, { expectSpecials: VERDICTS }),
      /missing special token\(s\) \[\[A\]\] \[\[B\]\] \[\[YES\]\] \[\[NO\]\]/,
    );
  });
});
