// `genrm export hf`: a genrm checkpoint as a plain Hugging Face folder, loaded back through genrm's
// own HF loader (src/engine/hf), which reads it the way transformers does (tokenizer.json's
// post-processor, tokenizer_config.json's specials and chat template). The numbers a user gets
// from the folder must be the native checkpoint's: same ids (BOS first), same log-probs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { Tokenizer as HfTok } from '@huggingface/tokenizers';
import { EmbeddedBackend } from '../../../src/backends/embedded/index.js';
import { modelKind, openEmbedded } from '../../../src/backends/open.js';
import { JUDGE_SPECIAL_TOKENS } from '../../../src/data/judgeFormat.js';
import { saveCheckpoint } from '../../../src/engine/checkpoint.js';
import { fromTokenizerJson, Tokenizer } from '../../../src/engine/tokenizer/index.js';
import { randomModel, tinyConfig } from './fixture.js';

const compiled = import.meta.url.endsWith('.js');
const CLI = compiled
  ? [fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url))]
  : ['--import', 'tsx', fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url))];
const root = mkdtempSync(join(tmpdir(), 'genrm-hf-export-'));
after(() => rmSync(root, { recursive: true, force: true }));

// A tokenizer with merges (so pre-tokenization matters) and the verdicts as specials, like genrm's bases.
const CORPUS = Array.from(
  { length: 40 },
  (_, i) => `Judge\nQuestion: What is ${i}+${2 * i}? The answer, then: ${3 * i}!! Don't stop... [[A]]`,
);
const TOK = Tokenizer.train(CORPUS, 330, { specials: [...JUDGE_SPECIAL_TOKENS] });
const CFG = tinyConfig({ vocabSize: TOK.vocabSize, maxSeqLen: 64 });
const model = randomModel(CFG, 11);
const ckpt = join(root, 'ckpt');
saveCheckpoint(ckpt, {
  config: CFG,
  kind: 'lm',
  weights: model.params,
  tokenizer: TOK,
  provenance: { command: 'test', config: null, seed: 1, dataHash: null, parent: null },
});
const out = join(root, 'hf');
const PROMPTS = ['Judge\nQuestion: What is 2+3?\nA: 5\nB: 6\nVerdict: ', "Don't stop!!! 12+34=46... ok"];
const CHAT = [
  { role: 'system' as const, content: 'Be brief.' },
  { role: 'user' as const, content: 'What is 2+3?' },
];

describe('genrm export hf', () => {
  it('writes a Hugging Face folder (no genrm.json) that genrm reads as one', () => {
    const stdout = execFileSync(process.execPath, [...CLI, 'export', 'hf', ckpt, '--out', out, '--json'], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(stdout), { out, dtype: 'F32', layers: CFG.nLayers, vocab: TOK.vocabSize, bos: TOK.eotId });
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) assert.ok(existsSync(join(out, f)), f);
    assert.equal(existsSync(join(out, 'genrm.json')), false);
    assert.equal(modelKind(out), 'hf');
    const tc = JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8'));
    assert.equal(tc.bos_token, '<|endoftext|>');
    assert.equal(tc.eos_token, '<|endoftext|>');
    assert.equal(tc.pad_token, '<|pad|>');
    assert.deepEqual(tc.additional_special_tokens, [...JUDGE_SPECIAL_TOKENS]);
    assert.equal(tc.added_tokens_decoder[String(TOK.specialId('[[A]]'))].content, '[[A]]');
    assert.equal(tc.model_max_length, 64);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.deepEqual([cfg.bos_token_id, cfg.eos_token_id, cfg.pad_token_id], [TOK.eotId, TOK.eotId, TOK.padId]);
  });

  it("tokenizer.json's post-processor puts end-of-text first, as tokenizers (transformers' backend) applies it", () => {
    const j = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8'));
    const tc = JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8'));
    const hf = new HfTok(j, tc);
    for (const p of PROMPTS) {
      const native = TOK.encode(p, { specials: 'parse' });
      assert.deepEqual(hf.encode(p, { add_special_tokens: true }).ids, [TOK.eotId, ...native]);
      assert.deepEqual(hf.encode(p, { add_special_tokens: false }).ids, native);
    }
  });

  it('loaded back through src/engine/hf: the same ids (BOS first), verdicts single tokens, chat rendered the same', () => {
    const native = new EmbeddedBackend(model, TOK);
    const hf = openEmbedded(out);
    assert.equal(hf.capabilities.singleTokenVerdicts, true);
    for (const p of PROMPTS) assert.deepEqual(hf.encode(p), native.encode(p));
    assert.deepEqual(hf.encode(CHAT), native.encode(CHAT));
  });

  it('log-probs equal the native path within 1e-5 (continuations and verdict candidates)', async () => {
    model.freeze();
    const native = new EmbeddedBackend(model, TOK);
    const hf = openEmbedded(out);
    const items = [...PROMPTS, CHAT].map((prompt) => ({ prompt, continuation: ' 5, so [[A]]' }));
    const [a, b] = [await native.continuationLogprob(items), await hf.continuationLogprob(items)];
    a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) <= 1e-5, `item ${i}: native ${x}, hf ${b[i]}`));
    const [ca, cb] = [await native.candidateLogprobs(PROMPTS, ['[[A]]', '[[B]]']), await hf.candidateLogprobs(PROMPTS, ['[[A]]', '[[B]]'])];
    ca.forEach((row, i) =>
      row.forEach((c, j) =>
        assert.ok(Math.abs(c.logprob - cb[i]![j]!.logprob) <= 1e-5, `prompt ${i} verdict ${j}: ${c.logprob} vs ${cb[i]![j]!.logprob}`),
      ),
    );
  });

  it('a folder without tokenizer_config.json still gets the BOS, from the post-processor', () => {
    const bare = join(root, 'bare');
    execFileSync(process.execPath, [...CLI, 'export', 'hf', ckpt, '--out', bare], { encoding: 'utf8' });
    rmSync(join(bare, 'tokenizer_config.json'));
    const hf = openEmbedded(bare);
    assert.deepEqual(hf.encode(PROMPTS[0]!), new EmbeddedBackend(model, TOK).encode(PROMPTS[0]!));
  });

  it('tokenizer.json: a null post-processor (older checkpoints) reads; another one is refused by name', () => {
    const j = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8'));
    assert.equal(fromTokenizerJson({ ...j, post_processor: null }).vocabSize, TOK.vocabSize);
    const other = {
      ...j,
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<|pad|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      },
    };
    assert.throws(
      () => fromTokenizerJson(other, 'x/tokenizer.json'),
      /x\/tokenizer\.json: post_processor must be null or TemplateProcessing/,
    );
  });

  it('refuses a bad --dtype and a reward-head checkpoint, naming them', () => {
    const run = (args: string[]): string => {
      try {
        execFileSync(process.execPath, [...CLI, 'export', 'hf', ...args], { encoding: 'utf8', stdio: 'pipe' });
        return '';
      } catch (e) {
        return String((e as { stderr: string }).stderr);
      }
    };
    assert.match(run([ckpt, '--out', join(root, 'x'), '--dtype', 'q4']), /--dtype must be f32, f16 or bf16, got "q4"/);
    assert.equal(existsSync(join(root, 'x')), false);
    const rm = randomModel(CFG, 12);
    rm.addScoreHead(1, 1);
    const bt = join(root, 'bt');
    saveCheckpoint(bt, {
      config: CFG,
      kind: 'bt',
      weights: rm.params,
      tokenizer: TOK,
      provenance: { command: 'test', config: null, seed: 1, dataHash: null, parent: null },
    });
    assert.match(run([bt, '--out', join(root, 'y')]), /a 'bt' checkpoint, but a 'lm' one is needed/);
    assert.equal(existsSync(join(root, 'y')), false);
  });
});
