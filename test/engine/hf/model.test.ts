import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadHfModel, saveHfModel, parseHfConfig } from '../../../src/engine/hf/index.js';
import { ropeInvFreq } from '../../../src/engine/model/bias.js';
import { backward, noGrad } from '../../../src/engine/autograd/index.js';
import { readSafetensors, encodeSafetensors, bf16BitsToF32, f32ToBf16Bits } from '../../../src/engine/safetensors.js';
import { allLogits, randomModel, tinyConfig, tokenizerJson, TOK } from './fixture.js';

const root = mkdtempSync(join(tmpdir(), 'genrm-hf-'));
after(() => rmSync(root, { recursive: true, force: true }));
const IDS = TOK.encode('hello, world: 12+34', { specials: 'plain' });
const LLAMA31 = { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 } as const;

describe('Hugging Face layout: save and load back', () => {
  const cases = {
    'llama, untied, GQA': tinyConfig(),
    'llama, tied, llama3 rope scaling': tinyConfig({ tieEmbeddings: true, ropeScaling: { ...LLAMA31, originalMaxPositionEmbeddings: 16 } }),
    'qwen2 (q/k/v bias), GQA 4:1': tinyConfig({ nKvHeads: 1, attentionBias: true, ropeTheta: 1e6 }),
  };
  for (const [label, cfg] of Object.entries(cases)) {
    it(`${label}: identical logits after a round trip`, () => {
      const m = randomModel(cfg);
      const dir = join(root, label.replace(/\W+/g, '_'));
      saveHfModel(dir, m, { tokenizerJson: tokenizerJson(), extraConfig: { bos_token_id: TOK.eotId, eos_token_id: TOK.eotId } });
      const back = loadHfModel(dir);
      assert.deepEqual(back.model.config, { ...cfg, maxSeqLen: cfg.maxSeqLen });
      assert.deepEqual(allLogits(back.model, IDS), allLogits(m, IDS));
      assert.equal(back.hf.family, cfg.attentionBias ? 'qwen2' : 'llama');
      // The tokenizer genrm wrote reads back through @huggingface/tokenizers with the same ids.
      assert.deepEqual(back.tokenizer!.encode('hello, world: 12+34'), IDS);
    });
  }

  it('the bias and the scaled RoPE change the logits (they are not dropped on the way)', () => {
    const cfg = tinyConfig({ attentionBias: true, ropeScaling: { type: 'linear', factor: 4 } });
    const m = randomModel(cfg);
    const base = allLogits(m, IDS);
    const noScale = randomModel(tinyConfig({ attentionBias: true }));
    assert.notDeepEqual(allLogits(noScale, IDS), base);
    m.layers[0]!.kBias!.data.fill(0);
    assert.notDeepEqual(allLogits(m, IDS), base);
  });

  it('the cached path and the training forward agree with biases (and bias gradients match finite differences)', () => {
    const m = randomModel(tinyConfig({ attentionBias: true, nKvHeads: 1 }));
    const T = IDS.length - 1;
    const ids = Int32Array.from(IDS.slice(0, T));
    const targets = Int32Array.from(IDS.slice(1));
    const train = noGrad(() => m.logits(m.hidden(ids, 1, T)).data);
    const cached = allLogits(m, IDS.slice(0, T));
    for (let i = 0; i < train.length; i++) assert.ok(Math.abs(train[i]! - cached[i]!) < 1e-4, `logit ${i}: ${train[i]} vs ${cached[i]}`);
    const loss = m.loss(ids, targets, 1, T);
    backward(loss);
    for (const b of [m.layers[0]!.qBias!, m.layers[1]!.vBias!, m.layers[0]!.kBias!]) {
      const g = b.grad!.slice();
      for (const j of [0, 3]) {
        const f = (): number => noGrad(() => m.loss(ids, targets, 1, T).data[0]!);
        const x0 = b.data[j]!;
        b.data[j] = x0 + 1e-2;
        const fp = f();
        b.data[j] = x0 - 1e-2;
        const fm = f();
        b.data[j] = x0;
        const fd = (fp - fm) / 2e-2;
        assert.ok(Math.abs(fd - g[j]!) <= 1e-3 + 2e-2 * Math.abs(fd), `${b.name}[${j}]: fd ${fd} vs grad ${g[j]}`);
      }
    }
  });

  it('a loaded model trains: SGD steps on one batch lower its loss', () => {
    const dir = join(root, 'train');
    saveHfModel(dir, randomModel(tinyConfig({ attentionBias: true })), { tokenizerJson: tokenizerJson() });
    const { model } = loadHfModel(dir);
    const T = IDS.length - 1;
    const ids = Int32Array.from(IDS.slice(0, T));
    const targets = Int32Array.from(IDS.slice(1));
    const first = noGrad(() => model.loss(ids, targets, 1, T).data[0]!);
    for (let s = 0; s < 5; s++) {
      for (const p of model.parameters()) p.grad = null;
      backward(model.loss(ids, targets, 1, T));
      for (const p of model.parameters()) for (let i = 0; i < p.size; i++) p.data[i]! -= 0.05 * p.grad![i]!;
    }
    const last = noGrad(() => model.loss(ids, targets, 1, T).data[0]!);
    assert.ok(last < first - 0.1, `loss ${first} -> ${last}`);
  });

  it('bf16 weights load as fp32 equal to the rounded originals; shards with an index load the same', () => {
    const m = randomModel(tinyConfig());
    const dir = join(root, 'bf16');
    saveHfModel(dir, m, { tokenizerJson: tokenizerJson(), dtype: 'BF16' });
    assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).torch_dtype, 'bfloat16');
    const back = loadHfModel(dir).model;
    const w = back.params.get('model.layers.1.mlp.down_proj.weight')!.data;
    const orig = m.params.get('model.layers.1.mlp.down_proj.weight')!.data;
    for (let i = 0; i < w.length; i++) assert.equal(w[i], bf16BitsToF32(f32ToBf16Bits(orig[i]!)));
    // Split the file into two shards listed by model.safetensors.index.json.
    const { tensors } = readSafetensors(join(dir, 'model.safetensors'));
    const names = [...tensors.keys()];
    const shards = [names.slice(0, 7), names.slice(7)];
    const sdir = join(root, 'sharded');
    saveHfModel(sdir, m, { tokenizerJson: tokenizerJson(), dtype: 'BF16' });
    rmSync(join(sdir, 'model.safetensors'));
    const weightMap: Record<string, string> = {};
    shards.forEach((list, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      writeFileSync(
        join(sdir, file),
        encodeSafetensors(
          list.map((n) => [n, tensors.get(n)!] as const),
          { dtype: 'BF16' },
        ),
      );
      for (const n of list) weightMap[n] = file;
    });
    writeFileSync(join(sdir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    assert.deepEqual(allLogits(loadHfModel(sdir).model, IDS), allLogits(back, IDS));
    // An index naming a tensor its shard lacks is an error naming both.
    writeFileSync(
      join(sdir, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { ...weightMap, 'model.extra.weight': 'model-00001-of-00002.safetensors' } }),
    );
    assert.throws(() => loadHfModel(sdir), /model-00001-of-00002\.safetensors: missing tensor 'model\.extra\.weight'/);
  });
});

describe('Hugging Face layout: mismatches are named', () => {
  const dir = join(root, 'bad');
  saveHfModel(dir, randomModel(tinyConfig()), { tokenizerJson: tokenizerJson() });
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const withConfig = (over: Record<string, unknown>): void => writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, ...over }));

  it('a wrong KV head count names the tensor and the expected shape', () => {
    withConfig({ num_key_value_heads: 4 });
    assert.throws(() => loadHfModel(dir), /tensor 'model\.layers\.0\.self_attn\.k_proj\.weight' has shape \[8, 16\], expected \[16, 16\]/);
  });
  it('a wrong attention head count (head_dim) is refused by name', () => {
    withConfig({ num_attention_heads: 2, num_key_value_heads: 2 });
    assert.throws(() => loadHfModel(dir), /"head_dim" 4 is not supported: the engine needs hidden_size \/ num_attention_heads = 8/);
    withConfig({ num_attention_heads: 2, num_key_value_heads: 2, head_dim: null });
    assert.throws(() => loadHfModel(dir), /'model\.layers\.0\.self_attn\.k_proj\.weight' has shape \[8, 16\], expected \[16, 16\]/);
  });
  it('a missing tensor is named with its expected shape', () => {
    withConfig({});
    const p = join(dir, 'model.safetensors');
    const { tensors } = readSafetensors(p);
    tensors.delete('model.layers.1.post_attention_layernorm.weight');
    writeFileSync(p, encodeSafetensors(tensors));
    assert.throws(() => loadHfModel(dir), /missing tensor 'model\.layers\.1\.post_attention_layernorm\.weight' \(expected shape \[16\]/);
  });
  it('unsupported config keys are refused by name', () => {
    const base = { ...cfg };
    assert.throws(
      () => parseHfConfig({ ...base, rope_scaling: { rope_type: 'yarn', factor: 4 } }, 'c.json'),
      /c\.json: "rope_scaling" type "yarn" is not supported/,
    );
    assert.throws(() => parseHfConfig({ ...base, attention_bias: true }, 'c.json'), /"attention_bias": true is not supported for llama/);
    assert.throws(() => parseHfConfig({ ...base, hidden_act: 'gelu' }, 'c.json'), /"hidden_act" "gelu"/);
    assert.throws(
      () => parseHfConfig({ ...base, model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], use_sliding_window: true }, 'c.json'),
      /use_sliding_window/,
    );
    assert.throws(() => parseHfConfig({ ...base, model_type: 'mistral' }, 'c.json'), /"model_type" "mistral" is not supported/);
  });
});

describe('llama3 RoPE scaling (Llama 3.1: theta 5e5, head_dim 128, factor 8, low 1, high 4, 8192)', () => {
  const plain = ropeInvFreq(128, 500000);
  const scaled = ropeInvFreq(128, 500000, LLAMA31);
  it('keeps high frequencies (wavelength < 8192/4), divides low ones (> 8192) by 8, blends between', () => {
    let kept = 0;
    let divided = 0;
    let blended = 0;
    plain.forEach((f, i) => {
      const wl = (2 * Math.PI) / f;
      const s = scaled[i]!;
      if (wl < 2048) (assert.equal(s, f), kept++);
      else if (wl > 8192) (assert.ok(Math.abs(s - f / 8) < 1e-18 + 1e-12 * f), divided++);
      else (assert.ok(s < f && s > f / 8, `i=${i}: ${s} not between ${f / 8} and ${f}`), blended++);
    });
    assert.ok(kept > 0 && divided > 0 && blended > 0, `${kept} kept, ${divided} divided, ${blended} blended`);
    assert.equal(scaled[0], 1); // position angle of the fastest pair is the position itself
  });
});
