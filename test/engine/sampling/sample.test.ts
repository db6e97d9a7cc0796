// The per-row token picker (temperature, top-k, top-p on crafted distributions) and the
// stop-string scanner (matches across tokens, cut text, split UTF-8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sampler, streamSeed, RowText, tokenBytesTable } from '../../../src/engine/sampling/index.js';
import { Prng } from '../../../src/engine/prng.js';
import { Tokenizer } from '../../../src/engine/tokenizer/index.js';

const P = [0.5, 0.3, 0.15, 0.05, 0, 0]; // a crafted distribution over 6 ids (two impossible)
const lsm = Float32Array.from(P, (p) => Math.log(p)); // -Infinity for the zeros

function freqs(params: { temperature: number; topK: number; topP: number }, draws = 20000, seed = 1): number[] {
  const s = new Sampler(P.length);
  const rng = new Prng(seed);
  const f = new Array<number>(P.length).fill(0);
  for (let i = 0; i < draws; i++) f[s.pick(lsm, 0, params, rng)]! += 1 / draws;
  return f;
}

function near(got: number[], want: number[], tol = 0.015): void {
  got.forEach((g, i) =>
    assert.ok(
      Math.abs(g - want[i]!) <= tol,
      `id ${i}: frequency ${g.toFixed(4)}, expected ${want[i]!.toFixed(4)} (all: ${got.map((x) => x.toFixed(3))})`,
    ),
  );
}

test('plain sampling at temperature 1 follows the distribution; impossible ids never come', () => {
  near(freqs({ temperature: 1, topK: 0, topP: 1 }), P);
});

test('temperature 2 flattens: frequencies proportional to p^(1/2)', () => {
  const w = P.map((p) => Math.sqrt(p));
  const z = w.reduce((a, b) => a + b, 0);
  near(
    freqs({ temperature: 2, topK: 0, topP: 1 }),
    w.map((x) => x / z),
  );
});

// Masses are compared in floating point (at temperature 1 against the row's nominal total of 1),
// so the tests keep topP off the exact sums where rounding decides (0.5 + 0.3 vs 0.8).
test('top-p keeps the smallest likeliest set reaching the mass, renormalised', () => {
  // 0.5 + 0.3 = 0.8 reaches 0.79: ids 0 and 1 only.
  near(freqs({ temperature: 1, topK: 0, topP: 0.79 }), [0.5 / 0.8, 0.3 / 0.8, 0, 0, 0, 0]);
  // 0.81 needs the third id.
  near(freqs({ temperature: 1, topK: 0, topP: 0.81 }), [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0, 0, 0]);
  // The same at another temperature (the weights then come from exp((lsm - max) / T)): T = 0.5
  // squares the odds, p ∝ (0.25, 0.09, 0.0225, 0.0025), mass 0.365; the first two reach 0.9.
  const z = 0.25 + 0.09 + 0.0225 + 0.0025;
  near(freqs({ temperature: 0.5, topK: 0, topP: 0.9 }), [0.25 / 0.34, 0.09 / 0.34, 0, 0, 0, 0]);
  near(freqs({ temperature: 0.5, topK: 0, topP: 0.95 }), [0.25 / (z - 0.0025), 0.09 / (z - 0.0025), 0.0225 / (z - 0.0025), 0, 0, 0]);
  // Below the top token's mass: greedy-like.
  near(freqs({ temperature: 1, topK: 0, topP: 0.3 }), [1, 0, 0, 0, 0, 0]);
});

test('top-p on ties takes the lowest ids first; on a wide distribution the nucleus is the sorted one, renormalised', () => {
  const s = new Sampler(4);
  const flat = Float32Array.from([0.25, 0.25, 0.25, 0.25], Math.log);
  const rng = new Prng(3);
  const f = [0, 0, 0, 0];
  for (let i = 0; i < 20000; i++) f[s.pick(flat, 0, { temperature: 1, topK: 0, topP: 0.45 }, rng)]! += 1 / 20000;
  near(f, [0.5, 0.5, 0, 0]);
  // 300 ids with random weights (several equal): the nucleus found by partitions equals the one a
  // full sort gives (descending, lower id first on ties), and draws follow it renormalised.
  const V = 300;
  const g = new Prng(9);
  const w = Array.from({ length: V }, () => Math.floor(g.uniform() * 40) + 1);
  const z = w.reduce((a, b) => a + b, 0);
  const lp = Float32Array.from(w, (x) => Math.log(x / z));
  const probs = Array.from(lp, (x) => Math.exp(x));
  const total = probs.reduce((a, b) => a + b, 0);
  const order = probs.map((_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
  const nucleus = new Set<number>();
  let cum = 0;
  for (const i of order) {
    nucleus.add(i);
    cum += probs[i]!;
    if (cum >= 0.9 * total) break;
  }
  const big = new Sampler(V);
  const counts = new Array<number>(V).fill(0);
  const draws = 60000;
  for (let i = 0; i < draws; i++) counts[big.pick(lp, 0, { temperature: 1, topK: 0, topP: 0.9 }, rng)]! += 1;
  counts.forEach((c, i) => assert.ok(nucleus.has(i) || c === 0, `id ${i} is outside the nucleus but was drawn ${c} times`));
  const mass = [...nucleus].reduce((a, i) => a + probs[i]!, 0);
  for (const i of nucleus)
    assert.ok(Math.abs(counts[i]! / draws - probs[i]! / mass) < 0.006, `id ${i}: ${counts[i]! / draws} vs ${probs[i]! / mass}`);
});

test('top-k keeps k ids; top-p then applies to the renormalised top-k mass', () => {
  near(freqs({ temperature: 1, topK: 2, topP: 1 }), [0.5 / 0.8, 0.3 / 0.8, 0, 0, 0, 0]);
  // Over the top 3 (mass 0.95): 0.5/0.95 = 0.526 < 0.55, so id 1 joins; id 2 does not.
  near(freqs({ temperature: 1, topK: 3, topP: 0.55 }), [0.5 / 0.8, 0.3 / 0.8, 0, 0, 0, 0]);
  near(freqs({ temperature: 1, topK: 1, topP: 1 }), [1, 0, 0, 0, 0, 0]);
});

test('greedy takes the argmax (lowest id on a tie) and draws no randomness', () => {
  const s = new Sampler(4);
  const rng = new Prng(3);
  const before = new Prng(3).uniform();
  assert.equal(s.pick(Float32Array.from([-2, -1, -1, -3]), 0, { temperature: 0, topK: 0, topP: 1 }, rng), 1);
  assert.equal(rng.uniform(), before, 'greedy consumed a draw');
  assert.deepEqual(s.top(Float32Array.from([-2, -1, -0.5, -3]), 0, 2), [
    { id: 2, logprob: -0.5 },
    { id: 1, logprob: -1 },
  ]);
});

test('top alternatives equal a full sort (value descending, lower id first on a tie) for every count', () => {
  const rng = new Prng(12);
  const V = 300;
  const s = new Sampler(V);
  for (let trial = 0; trial < 20; trial++) {
    // Values from a few levels, so ties are common; -Infinity (a masked id) among them.
    const row = Float32Array.from({ length: V }, () => (rng.uniform() < 0.05 ? -Infinity : -Math.floor(rng.uniform() * 12) / 4));
    const sorted = [...row.keys()].sort((a, b) => row[b]! - row[a]! || a - b);
    for (const count of [1, 2, 5, 20, V, V + 5]) {
      const want = sorted.slice(0, count).map((id) => ({ id, logprob: row[id]! }));
      assert.deepEqual(s.top(row, 0, count), want, `trial ${trial} count ${count}`);
    }
  }
  assert.deepEqual(
    s.top(
      Float32Array.from({ length: V }, (_, i) => (i === 7 ? Number.NaN : -i)),
      0,
      2,
    ),
    [
      { id: 0, logprob: -0 },
      { id: 1, logprob: -1 },
    ],
  );
});

test('stream seeds differ by seed, sample index and prompt; equal inputs give equal seeds', () => {
  const a = streamSeed(7, 0, [1, 2, 3]);
  assert.equal(a, streamSeed(7, 0, [1, 2, 3]));
  assert.notEqual(a, streamSeed(8, 0, [1, 2, 3]));
  assert.notEqual(a, streamSeed(7, 1, [1, 2, 3]));
  assert.notEqual(a, streamSeed(7, 0, [1, 2, 4]));
});

test('stop strings match across token boundaries and cut the text before the earliest', () => {
  const tok = Tokenizer.byteLevel({ specials: ['[[A]]'] });
  const table = tokenBytesTable(tok);
  const row = new RowText(table, ['END', 'ab'], 3);
  const ids = tok.encode('xyEN', { specials: 'plain' });
  for (const id of ids) assert.equal(row.push(id), false);
  assert.equal(row.push(tok.encode('D', { specials: 'plain' })[0]!), true);
  assert.equal(row.text(), 'xy');
  assert.equal(row.matched, 'END');
  // A special token's text counts as text (a verdict can be a stop string).
  const r2 = new RowText(table, [']]'], 2);
  assert.equal(r2.push(tok.encode('v', { specials: 'plain' })[0]!), false);
  assert.equal(r2.push(tok.specialId('[[A]]')), true);
  assert.equal(r2.text(), 'v[[A');
});

test('a character split over tokens decodes whole once complete; no stop is seen in U+FFFD', () => {
  const tok = Tokenizer.byteLevel();
  const row = new RowText(tokenBytesTable(tok), ['é!'], 2);
  const bytes = new TextEncoder().encode('aé!');
  const pushed = Array.from(bytes, (b) => row.push(b)); // byte-level: byte b is id b
  assert.deepEqual(pushed, [false, false, false, true]);
  assert.equal(row.text(), 'a');
  const open = new RowText(tokenBytesTable(tok), [], 0);
  open.push(0xc3);
  assert.equal(open.text(), '\ufffd');
  open.push(0xa9);
  assert.equal(open.text(), 'é');
});
