// The Llama model: HF parameter names, deterministic init, KV-cache inference equal to the full
// forward, the scalar-head hook, and a tiny model learning a fixed batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backward, noGrad, sum } from '../../src/engine/autograd/index.js';
import { KvCache, Llama, PACKED_MIN_ROWS, forwardCached, packLlama } from '../../src/engine/model/index.js';
import { AdamW } from '../../src/engine/optim.js';
import { Prng } from '../../src/engine/prng.js';
import { assertClose, tiny } from './helpers.js';
import { fromHalfBits, toHalfBits } from '../../src/engine/kernels/half.js';
import { kernels, setKernels } from '../../src/engine/kernels/index.js';

function randomIds(rng: Prng, n: number, vocab: number): Int32Array {
  return Int32Array.from({ length: n }, () => rng.int(vocab));
}

test('parameters carry Hugging Face names and [out, in] shapes; init is seeded', () => {
  const m = new Llama(tiny, { seed: 3 });
  const names = [...m.params.keys()];
  assert.equal(names[0], 'model.embed_tokens.weight');
  assert.ok(names.includes('model.layers.1.self_attn.k_proj.weight'));
  assert.ok(names.includes('model.layers.0.mlp.down_proj.weight'));
  assert.ok(names.includes('model.layers.1.post_attention_layernorm.weight'));
  assert.equal(names.at(-1), 'lm_head.weight');
  assert.equal(names.length, 1 + 9 * tiny.nLayers + 2);
  assert.deepEqual(m.params.get('model.layers.0.self_attn.k_proj.weight')!.shape, [8, 16]); // 2 kv heads * 4
  assert.deepEqual(m.params.get('model.layers.0.mlp.down_proj.weight')!.shape, [16, 24]);
  const tied = new Llama({ ...tiny, tieEmbeddings: true }, { seed: 3 });
  assert.equal(tied.params.has('lm_head.weight'), false);
  assert.equal(tied.head, tied.embed);
  const again = new Llama(tiny, { seed: 3 });
  assert.deepEqual(again.params.get('lm_head.weight')!.data, m.params.get('lm_head.weight')!.data);
  const other = new Llama(tiny, { seed: 4 });
  assert.notDeepEqual(other.embed.data, m.embed.data);
  assert.throws(() => new Llama({ ...tiny, nKvHeads: 3 }), /nHeads 4 must be a multiple of nKvHeads 3/);
});

test('KV-cache inference (prefill, then one token at a time) equals the full forward', () => {
  const rng = new Prng(5);
  const m = new Llama(tiny, { seed: 1 });
  const B = 2,
    T = 7;
  const ids = randomIds(rng, B * T, tiny.vocabSize);
  const full = noGrad(() => m.logits(m.hidden(ids, B, T)).data); // (B*T, V)
  const V = tiny.vocabSize;
  const cache = new KvCache(tiny, B, 10);
  const P = 3;
  const prompt = Int32Array.from({ length: B * P }, (_, i) => ids[Math.floor(i / P) * T + (i % P)]!);
  const pre = forwardCached(m, cache, prompt, P, { logitsFor: 'all' });
  for (let b = 0; b < B; b++)
    assertClose(`prefill row ${b}`, pre.subarray(b * P * V, (b + 1) * P * V), full.subarray(b * T * V, (b * T + P) * V), 1e-5, 1e-3);
  for (let t = P; t < T; t++) {
    const step = Int32Array.from({ length: B }, (_, b) => ids[b * T + t]!);
    const lg = forwardCached(m, cache, step, 1);
    for (let b = 0; b < B; b++)
      assertClose(`step ${t} row ${b}`, lg.subarray(b * V, (b + 1) * V), full.subarray((b * T + t) * V, (b * T + t + 1) * V), 1e-5, 1e-3);
  }
  assert.equal(cache.length, T);
  assert.throws(() => forwardCached(m, cache, new Int32Array(B * 4), 4), /cache full: 7 filled \+ 4 new exceeds capacity 10/);
});

test('packed weights: a decode step of many rows gives the logits of the unpacked weights; a packed copy does not follow later weight changes', () => {
  const rng = new Prng(8);
  const m = new Llama(tiny, { seed: 2 });
  const B = PACKED_MIN_ROWS + 3,
    P = 4;
  const prompt = randomIds(rng, B * P, tiny.vocabSize);
  const step = randomIds(rng, B, tiny.vocabSize);
  const run = (packed?: ReturnType<typeof packLlama>): Float32Array[] => {
    const cache = new KvCache(tiny, B, P + 1);
    const opts = packed ? { packed } : {};
    return [forwardCached(m, cache, prompt, P, { ...opts, logitsFor: 'all' }), forwardCached(m, cache, step, 1, opts)];
  };
  const packed = packLlama(m);
  const [pre0, dec0] = run();
  const [pre1, dec1] = run(packed);
  assertClose('prefill', pre1!, pre0!, 1e-5, 1e-4);
  assertClose('decode step', dec1!, dec0!, 1e-5, 1e-4);
  // Native kernels: weights that are all exact halves pack to half panels, used at any row count
  // (here 2 rows). The JS kernels keep float copies.
  if (kernels().info().backend === 'native') {
    const h = new Llama(tiny, { seed: 2 });
    for (const t of h.params.values()) t.data.set(Float32Array.from(t.data, (x) => fromHalfBits(toHalfBits(x))));
    const hp = packLlama(h);
    assert.ok(hp.head.data instanceof Uint16Array && hp.layers[0]!.down.data instanceof Uint16Array);
    const two = (pk?: ReturnType<typeof packLlama>): Float32Array => {
      const cache = new KvCache(tiny, 2, P + 1);
      forwardCached(h, cache, prompt.subarray(0, 2 * P), P, pk ? { packed: pk } : {});
      return forwardCached(h, cache, step.subarray(0, 2), 1, pk ? { packed: pk } : {});
    };
    const inner = kernels();
    let packedCalls = 0;
    setKernels({ ...inner, matmulPacked: (...args) => (packedCalls++, inner.matmulPacked(...args)) });
    let viaHalf: Float32Array;
    try {
      viaHalf = two(hp);
    } finally {
      setKernels(inner);
    }
    assert.equal(packedCalls, 2 * (7 * tiny.nLayers + 1), 'every product of both calls went through the half panels');
    assertClose('2-row decode through half panels', viaHalf, two(), 1e-5, 1e-4);
  }
  m.layers[0]!.gate.data.fill(0); // a training step would change the weights in place
  const [, dec2] = run(packed);
  assert.deepEqual(dec2, dec1, 'the packed copy is a snapshot');
  assert.notDeepEqual(run()[1], dec1);
});

test("a half-precision cache: prefill logits exactly the float32 cache's, decoding within f16 rounding; fork, select and materialize keep the precision", () => {
  const rng = new Prng(9);
  const m = new Llama(tiny, { seed: 4 });
  const B = 3,
    P = 5;
  const prompt = randomIds(rng, B * P, tiny.vocabSize);
  const steps = [randomIds(rng, B, tiny.vocabSize), randomIds(rng, B, tiny.vocabSize)];
  const run = (dtype: 'f32' | 'f16'): Float32Array[] => {
    const cache = new KvCache(tiny, B, P, dtype);
    const out = [forwardCached(m, cache, prompt, P, { logitsFor: 'all' })];
    let fork = KvCache.fork(cache, [2, 0, 0, 1], P + 3);
    assert.equal(fork.dtype, dtype);
    assert.ok(fork.k[0] instanceof (dtype === 'f16' ? Uint16Array : Float32Array));
    out.push(forwardCached(m, fork, Int32Array.from([...steps[0]!, 7]), 1));
    fork = fork.select([3, 1, 0]);
    assert.equal(fork.dtype, dtype);
    fork.materialize();
    assert.ok(fork.k[1] instanceof (dtype === 'f16' ? Uint16Array : Float32Array));
    out.push(forwardCached(m, fork, steps[1]!, 1));
    return out;
  };
  const [f32, f16] = [run('f32'), run('f16')];
  assert.deepEqual(f16[0], f32[0], 'prefill attends over its own float32 keys');
  assertClose('decode through a half fork', f16[1]!, f32[1]!, 2e-2, 2e-2);
  assertClose('decode after select + materialize', f16[2]!, f32[2]!, 2e-2, 2e-2);
  assert.notDeepEqual(f16[1], f32[1], 'the halves are used');
  // More queries than the decoding path takes after a filled half cache: float32 copies of it.
  const c16 = new KvCache(tiny, B, P + 6, 'f16'),
    c32 = new KvCache(tiny, B, P + 6);
  forwardCached(m, c16, prompt, P);
  forwardCached(m, c32, prompt, P);
  const more = randomIds(rng, B * 6, tiny.vocabSize);
  assertClose(
    '6-token chunk on a half cache',
    forwardCached(m, c16, more, 6, { logitsFor: 'all' }),
    forwardCached(m, c32, more, 6, { logitsFor: 'all' }),
    2e-2,
    2e-2,
  );
});

test('left padding via valid mask gives the unpadded logits; select forks rows', () => {
  const rng = new Prng(6);
  const m = new Llama(tiny, { seed: 2 });
  const V = tiny.vocabSize;
  const a = randomIds(rng, 5, V);
  const b = randomIds(rng, 3, V);
  // Row 1 is b left-padded by 2 junk tokens.
  const ids = new Int32Array([...a, 9, 9, ...b]);
  const valid = new Uint8Array([1, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
  const cache = new KvCache(tiny, 2);
  const last = forwardCached(m, cache, ids, 5, { valid });
  const alone = forwardCached(m, new KvCache(tiny, 1), b, 3);
  assertClose('padded row', last.subarray(V, 2 * V), alone, 1e-5, 1e-3);
  // Fork row 1 twice and continue both with the same token: both match continuing b alone.
  const forked = cache.select([1, 1]);
  const soloCache = new KvCache(tiny, 1);
  forwardCached(m, soloCache, b, 3);
  const want = forwardCached(m, soloCache, new Int32Array([4]), 1);
  const got = forwardCached(m, forked, new Int32Array([4, 4]), 1);
  assertClose('fork 0', got.subarray(0, V), want, 1e-5, 1e-3);
  assertClose('fork 1', got.subarray(V, 2 * V), want, 1e-5, 1e-3);
});

test('KvCache.fork: rows share their prompt as a prefix (no copy); decoding equals a copied fork; select and materialize keep it', () => {
  const rng = new Prng(8);
  const m = new Llama(tiny, { seed: 4 });
  const V = tiny.vocabSize;
  // Two prompts, the second left-padded by 2, prefilled once at capacity 5 (their length).
  const ids = new Int32Array([...randomIds(rng, 5, V), 9, 9, ...randomIds(rng, 3, V)]);
  const valid = new Uint8Array([1, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
  const prompts = new KvCache(tiny, 2, 5);
  forwardCached(m, prompts, ids, 5, { valid });
  const copied = new KvCache(tiny, 2, 12);
  forwardCached(m, copied, ids, 5, { valid });
  const rows = [1, 0, 1, 1];
  let a = KvCache.fork(prompts, rows, 12); // shares prompts' buffers
  let b = copied.select(rows); // copies them
  const c = KvCache.fork(prompts, rows, 12); // compacted in place below
  assert.equal(a.prefixLen, 5);
  assert.equal(a.k[0]!.length, rows.length * 7 * a.kvDim, 'only the 7 own columns are allocated per row');
  assert.equal(a.prefix!.k[0], prompts.k[0], 'the prefix is the prompts cache itself');
  for (let t = 0; t < 4; t++) {
    const step = randomIds(rng, a.batch, V);
    const want = forwardCached(m, b, step, 1);
    assert.deepEqual(forwardCached(m, a, step, 1), want, `step ${t}`);
    assert.deepEqual(forwardCached(m, c, step, 1), want, `step ${t}, compacted in place`);
    if (t === 1) {
      // Compaction: drop rows 0 and 2; the prefix stays shared, rows remapped.
      a = a.select([1, 3]);
      b = b.select([1, 3]);
      c.compact([1, 3]);
      assert.deepEqual([...a.prefix!.rows], [0, 1]);
      assert.deepEqual([...c.prefix!.rows], [0, 1]);
      assert.equal(c.batch, 2);
    }
  }
  // Materialized (as shiftLeft does when the cache is full): the same logits next step.
  const m2 = a.select([0, 1]);
  m2.materialize();
  assert.equal(m2.prefix, null);
  const step = randomIds(rng, 2, V);
  assert.deepEqual(forwardCached(m, m2, step, 1), forwardCached(m, b, step, 1));
  assert.throws(() => forwardCached(m, a, new Int32Array(4), 2), /shared prefix takes one token per row per call/);
  assert.throws(() => KvCache.fork(prompts, [2], 12), /row 2 is outside \[0, 2\)/);
  assert.throws(() => c.compact([1, 0]), /ascending without repeats, got 1 then 0/);
  assert.throws(() => c.compact([2]), /row 2 is outside \[0, 2\)/);
});

test('scalar head hook: scoreAt reads the final hidden state at the given rows', () => {
  const m = new Llama(tiny, { seed: 7 });
  const w = m.addScoreHead(1);
  assert.equal(m.params.get('score.weight'), w);
  const ids = randomIds(new Prng(8), 2 * 4, tiny.vocabSize);
  const rows = new Int32Array([3, 6]);
  const h = noGrad(() => m.hidden(ids, 2, 4));
  const s = m.scoreAt(m.hidden(ids, 2, 4), rows);
  assert.deepEqual(s.shape, [2, 1]);
  for (let r = 0; r < 2; r++) {
    let dot = 0;
    for (let j = 0; j < tiny.dModel; j++) dot += h.data[rows[r]! * tiny.dModel + j]! * w.data[j]!;
    assert.ok(Math.abs(s.data[r]! - dot) < 1e-5);
  }
  backward(sum(s));
  assert.ok(w.grad && w.grad.some((g) => g !== 0), 'score head gets a gradient');
});

test('a tiny model learns a fixed batch: loss falls by more than half in 50 AdamW steps', () => {
  const rng = new Prng(9);
  const m = new Llama(tiny, { seed: 0 });
  const B = 4,
    T = 8;
  const ids = randomIds(rng, B * T, tiny.vocabSize);
  const targets = Int32Array.from({ length: B * T }, (_, i) => ((i + 1) % T === 0 ? -1 : ids[i + 1]!));
  const opt = new AdamW(m.parameters(), { lr: 1e-2, weightDecay: 0 });
  let first = 0,
    last = 0;
  for (let step = 0; step < 50; step++) {
    opt.zeroGrad();
    const loss = m.loss(ids, targets, B, T);
    const v = loss.item();
    backward(loss);
    opt.step();
    if (step === 0) first = v;
    last = v;
  }
  assert.ok(Math.abs(first - Math.log(tiny.vocabSize)) < 0.3, `initial loss ${first} near ln(vocab)`);
  assert.ok(last < 0.5 * first, `loss fell from ${first} to ${last}`);
});

test('frozen parameters get no gradient and no optimizer state; a frozen model records no tape', () => {
  const m = new Llama(tiny, { seed: 11 });
  const frozen = m.params.get('model.layers.0.self_attn.q_proj.weight')!;
  frozen.requiresGrad = false;
  const before = frozen.data.slice();
  const opt = new AdamW([...m.params.values()], { lr: 1e-2 });
  const ids = randomIds(new Prng(12), 8, tiny.vocabSize);
  backward(m.loss(ids, ids, 2, 4));
  opt.step();
  assert.equal(frozen.grad, null);
  assert.equal(opt.hasState(frozen), false);
  assert.deepEqual(frozen.data, before);
  const k = m.params.get('model.layers.0.self_attn.k_proj.weight')!;
  assert.ok(k.grad && opt.hasState(k), 'trainable neighbours do train');
  assert.equal(opt.stateSize(), m.params.size - 1);

  const ref = new Llama(tiny, { seed: 11 }).freeze();
  const loss = ref.loss(ids, ids, 2, 4); // grad mode on, yet nothing requires grad
  assert.equal(loss.requiresGrad, false);
  assert.ok([...ref.params.values()].every((p) => p.grad === null));
  assert.throws(() => backward(loss), /does not depend on any tensor with requiresGrad/);
});

test('outputs recorded on the tape are released after backward unless kept', () => {
  const m = new Llama(tiny, { seed: 13 });
  const ids = randomIds(new Prng(14), 8, tiny.vocabSize);
  const logits = m.logits(m.hidden(ids, 2, 4));
  const hidden = m.hidden(ids, 2, 4);
  const loss = sum(logits);
  backward(loss, { keep: [logits] });
  assert.equal(logits.data.length, 2 * 4 * tiny.vocabSize, 'kept');
  assert.throws(() => hidden.data, /was released after backward/);
});

test('Llama.fromWeights: the same logits as the model it copies, score head included; a missing tensor is named', () => {
  const c = tiny;
  const src = new Llama(c, { seed: 3 });
  src.addScoreHead(2, 5);
  const copy = Llama.fromWeights(c, src.params, 'mem', { scoreLabels: 2 });
  for (const [name, t] of src.params) assert.deepEqual(copy.params.get(name)!.data, t.data, name);
  const ids = new Int32Array([1, 2, 3, 4]);
  const logits = (m: Llama): Float32Array => noGrad(() => m.logits(m.hidden(ids, 1, 4)).data);
  assertClose('logits', logits(copy), logits(src), 0, 0);
  const partial = new Map(src.params);
  partial.delete('model.layers.0.mlp.up_proj.weight');
  assert.throws(
    () => Llama.fromWeights(c, partial, 'x.safetensors', { scoreLabels: 2 }),
    /x\.safetensors: missing tensor 'model\.layers\.0\.mlp\.up_proj\.weight'/,
  );
  // Without the source's random draws: an empty model is zeros but for its norms.
  const empty = new Llama(c, { empty: true });
  assert.ok(empty.embed.data.every((v) => v === 0) && empty.norm.data.every((v) => v === 1));
});
