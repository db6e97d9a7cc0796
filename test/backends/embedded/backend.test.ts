// The embedded backend over a saved checkpoint: loading (non-lm kinds refused by name), verdicts
// as single tokens read in one forward (equal to teacher-forced scoring), chat rendering, batched
// generation independent of its batch, token counting with the beginning-of-sequence token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EmbeddedBackend } from '../../../src/backends/embedded/backend.js';
import { renderChat } from '../../../src/backends/embedded/render.js';
import { tokenPieces } from '../../../src/backends/embedded/pieces.js';
import { JUDGE_SPECIAL_TOKENS, pairPrompt } from '../../../src/data/judgeFormat.js';
import { saveCheckpoint } from '../../../src/engine/checkpoint.js';
import { Llama } from '../../../src/engine/model/llama.js';
import { Tokenizer } from '../../../src/engine/tokenizer/index.js';
import { makeTinyCheckpoint, tinyConfig } from '../../serve/helpers.js';

test('loads an lm checkpoint; a bt checkpoint is refused naming its kind', () => {
  const ck = makeTinyCheckpoint();
  try {
    const b = EmbeddedBackend.load(ck.dir);
    assert.equal(b.capabilities.singleTokenVerdicts, true);
    assert.equal(b.capabilities.contextLength, 160);
    const tok = Tokenizer.byteLevel({ specials: [...JUDGE_SPECIAL_TOKENS] });
    const m = new Llama(tinyConfig(tok.vocabSize), { seed: 1 });
    m.addScoreHead(1);
    const dir = join(ck.root, 'bt');
    saveCheckpoint(dir, {
      config: m.config,
      kind: 'bt',
      weights: m.params,
      tokenizer: tok,
      provenance: { command: 't', config: null, seed: 1, dataHash: null, parent: null },
    });
    assert.throws(() => EmbeddedBackend.load(dir), /a 'bt' checkpoint .* needs a language model \(kind 'lm'\)/);
  } finally {
    ck.cleanup();
  }
});

test('verdict candidates are single tokens: their logprobs equal teacher-forced continuation scores and are all found', async () => {
  const ck = makeTinyCheckpoint();
  try {
    const b = EmbeddedBackend.load(ck.dir);
    const prompts = [
      pairPrompt({ question: '2+2?', answerA: '4', answerB: '5' }, 'direct'),
      pairPrompt({ question: 'x', answerA: 'has [[B]] inside', answerB: 'y' }, 'direct'),
    ];
    const c = await b.candidateLogprobs(prompts, ['[[A]]', '[[B]]']);
    const tf = await b.continuationLogprob(
      prompts.flatMap((prompt) => ['[[A]]', '[[B]]'].map((continuation) => ({ prompt, continuation }))),
    );
    c.flat().forEach((x, i) => {
      assert.equal(x.found, true);
      assert.ok(Math.abs(x.logprob - tf[i]!) < 1e-4, `${x.logprob} vs ${tf[i]}`);
    });
    // "[[A]]" is one special token; countTokens includes the beginning-of-sequence token.
    assert.equal(b.tokenizer.encode('[[A]]', { specials: 'parse' }).length, 1);
    assert.equal(await b.countTokens('ab[[A]]'), 4); // BOS + a + b + [[A]]
  } finally {
    ck.cleanup();
  }
});

test('chat prompts render in the compact form, content encoded plain; generation is batch-independent', async () => {
  const ck = makeTinyCheckpoint();
  try {
    const b = EmbeddedBackend.load(ck.dir);
    const msgs = [{ role: 'user' as const, content: 'say [[A]]' }];
    assert.equal(renderChat(msgs), 'user: say [[A]]\nassistant: ');
    const ids = b.encode(msgs);
    assert.equal(ids[0], b.tokenizer.eotId);
    assert.ok(!ids.slice(1).some((id) => b.tokenizer.isSpecial(id)), 'message text never becomes a special token');
    const alone = await b.generate([msgs], { n: 2, seed: 4, maxTokens: 8 });
    const batched = await b.generate(['other prompt', msgs], { n: 2, seed: 4, maxTokens: 8 });
    assert.deepEqual(
      batched[1]!.samples.map((s) => s.text),
      alone[0]!.samples.map((s) => s.text),
    );
    const s = alone[0]!.samples[0]!;
    assert.equal(s.tokens.length, s.logprobs.length);
    assert.ok(s.logprobs.every((x) => x <= 0 && Number.isFinite(x)));
  } finally {
    ck.cleanup();
  }
});

test('packed weights (the default for small models) give the verdict logprobs and samples of the plain weights', async () => {
  const ck = makeTinyCheckpoint();
  try {
    const packed = EmbeddedBackend.load(ck.dir);
    const plain = EmbeddedBackend.load(ck.dir, { packWeights: false });
    assert.ok(packed.packed && plain.packed === undefined);
    const prompts = Array.from({ length: 5 }, (_, i) =>
      pairPrompt({ question: `${i}+${i}?`, answerA: String(2 * i), answerB: String(2 * i + 1) }, 'direct'),
    );
    const [a, b] = [
      await packed.candidateLogprobs(prompts, ['[[A]]', '[[B]]']),
      await plain.candidateLogprobs(prompts, ['[[A]]', '[[B]]']),
    ];
    a.flat().forEach((x, i) => assert.ok(Math.abs(x.logprob - b.flat()[i]!.logprob) < 1e-5, `${x.logprob} vs ${b.flat()[i]!.logprob}`));
    // 5 prompts x n 2 = 10 rows: decoded through the packed weights.
    const opts = { n: 2, temperature: 0, maxTokens: 6 };
    const [ga, gb] = [await packed.generate(prompts, opts), await plain.generate(prompts, opts)];
    assert.deepEqual(
      ga.map((g) => g.samples.map((s) => s.tokens)),
      gb.map((g) => g.samples.map((s) => s.tokens)),
    );
    // A half-precision KV cache: the first token comes from the (float32) prefill, so it is the
    // same; later logprobs move only in f16's rounding.
    const half = await EmbeddedBackend.load(ck.dir, { kvCache: 'f16' }).generate(prompts, opts);
    half.forEach((g, i) =>
      g.samples.forEach((s, j) => {
        const ref = gb[i]!.samples[j]!;
        assert.equal(s.tokens[0], ref.tokens[0]);
        assert.ok(Math.abs(s.logprobs[0]! - ref.logprobs[0]!) < 1e-5);
      }),
    );
  } finally {
    ck.cleanup();
  }
});

test('token pieces: a split UTF-8 character is carried by the token that completes it; pieces join to the text', () => {
  const tok = Tokenizer.byteLevel({ specials: [...JUDGE_SPECIAL_TOKENS] });
  const ids = tok.encode('é[[A]]x', { specials: 'parse' });
  const p = tokenPieces(tok, ids);
  assert.deepEqual(
    p.map((x) => x.text),
    ['', 'é', '[[A]]', 'x'],
  );
  assert.deepEqual(
    p.map((x) => x.offset),
    [0, 0, 1, 6],
  );
  assert.deepEqual(p[0]!.bytes, [0xc3]);
});
