// The one model resolver (src/backends/open.ts): each kind of --model reaches its backend, and a
// Hugging Face folder runs through the embedded engine with its own tokenizer and chat template.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedBackend } from '../../src/backends/embedded/backend.js';
import { nodeLlamaCpp } from '../../src/backends/gguf/index.js';
import { modelKind, openEmbedded, openModel } from '../../src/backends/open.js';
import { writeLlamaGguf } from '../../src/engine/gguf.js';
import { HfTokenizer, saveHfModel } from '../../src/engine/hf/index.js';
import { makeTinyCheckpoint } from '../serve/helpers.js';
import { startServer } from '../../src/serve/server.js';
import { startFixture } from './fixtures/openaiServer.js';
import { randomModel, tinyConfig, tokenizerJson, TOK } from '../engine/hf/fixture.js';

const TEMPLATE = '{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}';

/** A tiny HF folder (genrm's byte-level tokenizer as tokenizer.json, a chat template, BOS = EOS = end of text). */
function hfFolder(root: string) {
  const model = randomModel(tinyConfig({ maxSeqLen: 64 }), 11);
  const dir = join(root, 'hf');
  saveHfModel(dir, model, {
    tokenizerJson: tokenizerJson(),
    tokenizerConfig: { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', chat_template: TEMPLATE },
    extraConfig: { bos_token_id: TOK.eotId, eos_token_id: TOK.eotId },
  });
  model.freeze();
  return { dir, model };
}

test('a genrm checkpoint folder opens the embedded backend', async () => {
  const ck = makeTinyCheckpoint();
  try {
    assert.equal(modelKind(ck.dir), 'genrm');
    const lm = await openModel(ck.dir);
    assert.ok(lm instanceof EmbeddedBackend);
    assert.equal(lm.name, `embedded:${ck.dir}`);
    assert.equal(lm.capabilities.singleTokenVerdicts, true);
  } finally {
    ck.cleanup();
  }
});

test('a Hugging Face folder runs in the engine with its own tokenizer: same samples as the engine on the same weights; chat through its template', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-open-'));
  try {
    const { dir, model } = hfFolder(root);
    assert.equal(modelKind(dir), 'hf');
    const lm = await openModel(dir);
    assert.ok(lm instanceof EmbeddedBackend);
    assert.match(lm.name, /^hf:/);
    assert.equal(lm.capabilities.singleTokenVerdicts, false);
    // The engine with genrm's own tokenizer on the same weights is the reference: the HF tokenizer
    // must give the same ids (BOS first), and the per-id bytes the same text.
    const ref = new EmbeddedBackend(model, TOK);
    const prompts = ['hello wörld', 'The answer is 42.'];
    for (const p of prompts) assert.deepEqual(lm.encode(p), ref.encode(p));
    const opts = { n: 2, temperature: 1, maxTokens: 12, seed: 5, stop: ['\n'] };
    const [a, b] = await Promise.all([lm.generate(prompts, opts), ref.generate(prompts, opts)]);
    assert.deepEqual(a, b);
    assert.ok(a.flatMap((g) => g.samples).some((s) => s.tokens.length > 0));
    // Chat: the template's text, specials parsed as HF does.
    const hf = HfTokenizer.load(dir);
    const chat = [{ role: 'user' as const, content: 'hi' }];
    assert.deepEqual(lm.encode(chat), hf.encode('<user>hi\n<assistant>'));
    assert.equal(await lm.countTokens('abc'), 1 + hf.encode('abc').length);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('genrm serve runs a Hugging Face folder: a greedy completion over HTTP equals the in-process one', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-open-serve-'));
  const { dir } = hfFolder(root);
  const srv = await startServer({ model: dir, port: 0, name: 'hf' });
  try {
    const local = openEmbedded(dir);
    const [g] = await local.generate(['hello'], { n: 1, temperature: 0, maxTokens: 6 });
    const r = await fetch(srv.url + '/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'hf', prompt: 'hello', max_tokens: 6, temperature: 0 }),
    });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { choices: Array<{ text: string }> };
    assert.equal(body.choices[0]?.text, g?.samples[0]?.text);
  } finally {
    await srv.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('a server URL opens the OpenAI-compatible backend (against the fixture server)', async () => {
  const fx = await startFixture({ text: () => 'Reasoning. [[B]]' });
  try {
    assert.equal(modelKind(fx.url), 'url');
    const lm = await openModel(fx.url, { probe: false, modelName: 'm', apiKeyEnv: 'GENRM_TEST_NO_KEY' });
    const [g] = await lm.generate(['Judge this'], { n: 1, maxTokens: 8 });
    assert.equal(g?.samples[0]?.text, 'Reasoning. [[B]]');
    assert.equal(fx.requests.at(-1)?.body.model, 'm');
    await assert.rejects(openModel(fx.url, { probe: false }), /served model's name is needed/);
  } finally {
    await fx.close();
  }
});

let noGguf: string | false = false;
try {
  await nodeLlamaCpp();
} catch (e) {
  noGguf = `node-llama-cpp does not load here: ${(e as Error).message}`;
}

test('a .gguf file opens the llama.cpp backend', { skip: noGguf }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-open-gguf-'));
  try {
    const cfg = tinyConfig({ dModel: 32, maxSeqLen: 64 });
    const path = join(root, 'm.gguf');
    writeLlamaGguf(path, cfg, randomModel(cfg, 5).params, TOK);
    assert.equal(modelKind(path), 'gguf');
    const lm = await openModel(path, { gguf: { sequences: 1, contextSize: 64, threads: 1 } });
    assert.match(lm.name, /^gguf:/);
    const [c] = await lm.candidateLogprobs(['hello'], ['a', 'b']);
    assert.equal(c?.length, 2);
    assert.ok(c!.every((x) => Number.isFinite(x.logprob) && x.logprob < 0));
    await (lm as unknown as { dispose(): Promise<void> }).dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('anything else is an error naming the path and what was expected; serving refuses URLs and .gguf', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-open-bad-'));
  try {
    const missing = join(root, 'nope');
    assert.throws(
      () => modelKind(missing),
      (e: Error) =>
        e.message.startsWith(`${missing}: no such file or folder; expected an http(s):// server URL, a genrm checkpoint folder`),
    );
    const empty = join(root, 'empty');
    mkdirSync(empty);
    assert.throws(() => modelKind(empty), new RegExp(`${empty}: a folder with neither genrm.json nor config.json \\+ model.safetensors`));
    const txt = join(root, 'model.bin');
    writeFileSync(txt, 'x');
    assert.throws(() => modelKind(txt), /model\.bin: a file, but not a \.gguf model/);
    await assert.rejects(openModel(missing), /no such file or folder/);
    assert.throws(() => openEmbedded('http://127.0.0.1:1/v1'), /a server URL runs outside genrm's engine/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
