// A streamed sample's text (serve/openai/stream.ts) token by token: whole characters only, text
// that could begin a stop string held until it cannot, nothing after a stop string or a stop token,
// and the rest taken from the final answer so the parts add up to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenPieces } from '../../src/backends/embedded/pieces.js';
import { Tokenizer } from '../../src/engine/tokenizer/index.js';
import { SampleText } from '../../src/serve/openai/stream.js';
import type { SampleResult } from '../../src/serve/protocol.js';

const tok = Tokenizer.byteLevel({ specials: [] });
const ids = (s: string): number[] => [...new TextEncoder().encode(s)];
const feed = (st: SampleText, xs: number[]): (string | null)[] =>
  xs.map((id) => st.push({ sample: 0, id, logprob: -1, stop: false })?.text ?? null);
const final = (xs: number[], text: string): SampleResult => ({
  text,
  pieces: tokenPieces(tok, xs),
  logprobs: xs.map(() => -1),
  finishReason: 'length',
  generatedTokens: xs.length,
});

test('a character split over tokens goes out whole with the token that completes it', () => {
  const st = new SampleText(tok, []);
  const xs = ids('hé!');
  assert.deepEqual(feed(st, xs), ['h', null, 'é', '!']);
  const r = st.rest(final(xs, 'hé!'));
  assert.equal(r.text, '');
  assert.equal(r.pieces.length, 0);
});

test('text that could begin a stop string waits; a near miss goes out, a match ends the sample before it', () => {
  const st = new SampleText(tok, ['lo!', 'zz']);
  assert.deepEqual(feed(st, ids('hello?')), ['h', 'e', null, 'l', null, 'lo?']);
  assert.deepEqual(feed(st, ids('xlo!yy')), ['x', null, null, null, null, null]);
  const sent = 'hello?x';
  const r = st.rest(final(ids('hello?xlo!yy'), sent));
  assert.equal(r.text, '', 'the answer ends where the stream stopped');
});

test('a stop token ends the text; the final answer’s rest completes what was held (a cut-off character as U+FFFD)', () => {
  const st = new SampleText(tok, []);
  const xs = [...ids('a'), 0xc3];
  assert.deepEqual(feed(st, xs), ['a', null]);
  assert.equal(st.push({ sample: 0, id: tok.eotId, logprob: -1, stop: true }), null);
  assert.equal(st.push({ sample: 0, id: ids('b')[0]!, logprob: -1, stop: false }), null, 'nothing after the stop token');
  const r = st.rest(final(xs, 'a\ufffd'));
  assert.equal(r.text, '\ufffd');
  assert.deepEqual(
    r.pieces.map((p) => p.bytes),
    [[0xc3]],
  );
});
