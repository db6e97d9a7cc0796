import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { saveCheckpoint } from '../../src/engine/checkpoint.js';
import { writeLlamaGguf } from '../../src/engine/gguf.js';
import { randomModel, tinyConfig, TOK } from './hf/fixture.js';
import { readGguf } from './ggufReader.js';

// The CLI as this test runs: compiled (dist/test -> dist/src) or from sources under tsx.
const compiled = import.meta.url.endsWith('.js');
const CLI = compiled
  ? [fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))]
  : ['--import', 'tsx', fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))];
const root = mkdtempSync(join(tmpdir(), 'genrm-gguf-'));
after(() => rmSync(root, { recursive: true, force: true }));
const CFG = tinyConfig({ ropeTheta: 5000, normEps: 1e-6 });
const model = randomModel(CFG);
const ckpt = join(root, 'ckpt');
saveCheckpoint(ckpt, {
  config: CFG,
  kind: 'lm',
  weights: model.params,
  tokenizer: TOK,
  provenance: { command: 'test', config: null, seed: 1, dataHash: null, parent: null },
});

describe('genrm export gguf', () => {
  it('writes GGUF v3 in the llama layout that an independent reader parses (metadata, tokenizer, dims, alignment)', () => {
    const out = join(root, 'm.gguf');
    const stdout = execFileSync(process.execPath, [...CLI, 'export', 'gguf', ckpt, '--out', out, '--json'], { encoding: 'utf8' });
    assert.equal(JSON.parse(stdout).bytes, readFileSync(out).length);
    const g = readGguf(readFileSync(out));
    const m = g.metadata;
    assert.equal(g.version, 3);
    assert.equal(m.get('general.architecture'), 'llama');
    assert.equal(m.get('general.alignment'), 32);
    const expectU32: Record<string, number> = {
      'llama.context_length': 32,
      'llama.embedding_length': 16,
      'llama.block_count': 2,
      'llama.feed_forward_length': 24,
      'llama.attention.head_count': 4,
      'llama.attention.head_count_kv': 2,
      'llama.vocab_size': TOK.vocabSize,
      'tokenizer.ggml.bos_token_id': TOK.eotId,
      'tokenizer.ggml.eos_token_id': TOK.eotId,
      'tokenizer.ggml.padding_token_id': TOK.padId,
    };
    for (const [k, v] of Object.entries(expectU32)) assert.equal(m.get(k), v, k);
    assert.equal(m.get('llama.rope.freq_base'), 5000);
    assert.equal(m.get('llama.attention.layer_norm_rms_epsilon'), Math.fround(1e-6));
    assert.equal(m.get('tokenizer.ggml.model'), 'gpt2');
    const tokens = m.get('tokenizer.ggml.tokens') as string[];
    assert.equal(tokens.length, TOK.vocabSize);
    assert.equal(tokens[0x41], 'A'); // printable bytes map to themselves in GPT-2's byte alphabet
    assert.equal(tokens[0x20], 'Ġ'); // space is U+0120
    assert.equal(tokens[TOK.eotId], '<|endoftext|>');
    const types = m.get('tokenizer.ggml.token_type') as number[];
    assert.equal(types[TOK.eotId], 3);
    assert.equal(types[0x41], 1);
    // Layout: every offset aligned, data start aligned, tensors tile the file in order.
    assert.equal(g.dataStart % 32, 0);
    for (const [name, t] of g.tensors) assert.equal(t.offset % 32, 0, name);
    assert.equal(g.tensors.size, 1 + 2 * 9 + 2);
    // Dims are GGML order (fastest first): an [out, in] matrix appears as [in, out].
    assert.deepEqual(g.tensors.get('blk.0.ffn_gate.weight')!.dims, [16, 24]);
    assert.deepEqual(g.tensors.get('blk.1.ffn_down.weight')!.dims, [24, 16]);
    assert.deepEqual(g.tensors.get('token_embd.weight')!.data, model.params.get('model.embed_tokens.weight')!.data);
    assert.deepEqual(g.tensors.get('output.weight')!.data, model.params.get('lm_head.weight')!.data);
    assert.deepEqual(g.tensors.get('blk.1.attn_v.weight')!.data, model.params.get('model.layers.1.self_attn.v_proj.weight')!.data);
    assert.deepEqual(g.tensors.get('output_norm.weight')!.data, model.params.get('model.norm.weight')!.data);
  });

  it('q/k rows are permuted to interleaved RoPE pairs: GGUF rows (2i, 2i+1) of a head are HF rows (i, i + hd/2)', () => {
    const g = readGguf(readFileSync(join(root, 'm.gguf')));
    const hd = 4;
    for (const [gg, hf, heads] of [
      ['blk.0.attn_q.weight', 'model.layers.0.self_attn.q_proj.weight', 4],
      ['blk.1.attn_k.weight', 'model.layers.1.self_attn.k_proj.weight', 2],
    ] as const) {
      const a = g.tensors.get(gg)!.data;
      const b = model.params.get(hf)!.data;
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < hd / 2; i++)
          for (let j = 0; j < 2; j++)
            assert.deepEqual(
              a.subarray((h * hd + 2 * i + j) * 16, (h * hd + 2 * i + j + 1) * 16),
              b.subarray((h * hd + j * (hd / 2) + i) * 16, (h * hd + j * (hd / 2) + i + 1) * 16),
              `${gg} head ${h} pair ${i}`,
            );
    }
  });

  it('--dtype f16 halves matrices (norms stay f32); a tied model has no output.weight; the write is atomic', () => {
    const tied = tinyConfig({ tieEmbeddings: true });
    const tm = randomModel(tied);
    const out = join(root, 'tied16.gguf');
    writeLlamaGguf(out, tied, tm.params, TOK, { dtype: 'F16' });
    const g = readGguf(readFileSync(out));
    assert.equal(g.tensors.has('output.weight'), false);
    assert.equal(g.tensors.get('blk.0.attn_v.weight')!.type, 1);
    assert.equal(g.tensors.get('blk.0.attn_norm.weight')!.type, 0);
    assert.equal(g.metadata.get('general.file_type'), 1);
    const w = g.tensors.get('blk.0.ffn_up.weight')!.data;
    const o = tm.params.get('model.layers.0.mlp.up_proj.weight')!.data;
    for (let i = 0; i < w.length; i++) assert.ok(Math.abs(w[i]! - o[i]!) <= 1e-3 * Math.abs(o[i]!) + 1e-7, `${i}: ${w[i]} vs ${o[i]}`);
    // A failing write (F16 overflow) leaves the old file and no temp files behind.
    const before = readFileSync(out);
    tm.params.get('model.layers.0.mlp.up_proj.weight')!.data[3] = 1e6;
    assert.throws(
      () => writeLlamaGguf(out, tied, tm.params, TOK, { dtype: 'F16' }),
      /tensor 'blk\.0\.ffn_up\.weight' value 1000000 at index 3 overflows F16/,
    );
    assert.deepEqual(readFileSync(out), before);
    assert.deepEqual(
      readdirSync(root).filter((f) => f.includes('.tmp-')),
      [],
    );
  });

  it('refuses a bad --dtype by name and writes nothing', () => {
    const run = (args: string[]): string => {
      try {
        execFileSync(process.execPath, [...CLI, 'export', 'gguf', ...args], { encoding: 'utf8', stdio: 'pipe' });
        return '';
      } catch (e) {
        return String((e as { stderr: string }).stderr);
      }
    };
    assert.match(run([ckpt, '--out', join(root, 'x.gguf'), '--dtype', 'q4']), /--dtype must be f32 or f16, got "q4"/);
    assert.equal(existsSync(join(root, 'x.gguf')), false);
  });
});
