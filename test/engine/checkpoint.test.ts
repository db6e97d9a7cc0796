import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import {
  expectedTensors,
  loadCheckpoint,
  readCheckpointMeta,
  saveCheckpoint,
  type CheckpointKind,
  type NamedWeights,
} from '../../src/engine/checkpoint.js';
import { encodeSafetensors } from '../../src/engine/safetensors.js';
import type { ModelConfig } from '../../src/engine/model/config.js';
import { Llama } from '../../src/engine/model/llama.js';
import { f16BitsToF32, f32ToF16Bits, writeSafetensors } from '../../src/engine/safetensors.js';
import { Tokenizer } from '../../src/engine/tokenizer/index.js';

const VERDICTS = ['[[A]]', '[[B]]', '[[YES]]', '[[NO]]'];
const TOK = Tokenizer.byteLevel({ specials: VERDICTS });
const CONFIG: ModelConfig = {
  vocabSize: TOK.vocabSize,
  dModel: 8,
  nLayers: 2,
  nHeads: 2,
  nKvHeads: 1,
  ffnHidden: 12,
  maxSeqLen: 16,
  ropeTheta: 10000,
  normEps: 1e-5,
  tieEmbeddings: false,
};
const PROV = { command: 'genrm pretrain --preset tiny', config: { lr: 1e-3 }, seed: 3, dataHash: 'sha256:abc', parent: null };

function weightsFor(config: ModelConfig, kind: CheckpointKind, seed = 1): NamedWeights {
  let s = seed;
  const next = (): number => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const w: NamedWeights = new Map();
  for (const { name, shape } of expectedTensors(config, { kind })) {
    const n = shape.reduce((a, b) => a * b, 1);
    w.set(name, { shape, data: Float32Array.from({ length: n }, next) });
  }
  return w;
}

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'genrm-ck-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

test('expectedTensors: HF names, [out, in] shapes, GQA, tying and the score head', () => {
  const lm = expectedTensors(CONFIG, { kind: 'lm' });
  assert.equal(lm.length, 1 + 9 * CONFIG.nLayers + 1 + 1);
  const shape = (list: typeof lm, name: string): number[] | undefined => list.find((t) => t.name === name)?.shape;
  assert.deepEqual(shape(lm, 'model.embed_tokens.weight'), [262, 8]);
  assert.deepEqual(shape(lm, 'model.layers.1.self_attn.q_proj.weight'), [8, 8]);
  assert.deepEqual(shape(lm, 'model.layers.1.self_attn.k_proj.weight'), [4, 8]); // one kv head of dim 4
  assert.deepEqual(shape(lm, 'model.layers.0.self_attn.o_proj.weight'), [8, 8]);
  assert.deepEqual(shape(lm, 'model.layers.0.mlp.down_proj.weight'), [8, 12]);
  assert.deepEqual(shape(lm, 'model.layers.0.mlp.gate_proj.weight'), [12, 8]);
  assert.deepEqual(shape(lm, 'lm_head.weight'), [262, 8]);
  const tied = expectedTensors({ ...CONFIG, tieEmbeddings: true }, { kind: 'lm' });
  assert.equal(shape(tied, 'lm_head.weight'), undefined);
  const bt = expectedTensors(CONFIG, { kind: 'bt', numLabels: 2 });
  assert.deepEqual(shape(bt, 'score.weight'), [2, 8]);
  assert.throws(() => expectedTensors({ ...CONFIG, nHeads: 3 }, { kind: 'lm' }), /dModel 8 must be divisible by nHeads 3/);
});

test('save then load: F32 exact, HF config keys, provenance, no temp folders', () => {
  withDir((root) => {
    const dir = join(root, 'ck');
    const weights = weightsFor(CONFIG, 'lm');
    saveCheckpoint(dir, { config: CONFIG, kind: 'lm', weights, tokenizer: TOK, provenance: PROV });
    assert.deepEqual(readdirSync(root), ['ck']);
    assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'genrm.json', 'model.safetensors', 'tokenizer.json']);
    const hf = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(hf.architectures, ['LlamaForCausalLM']);
    assert.equal(hf.model_type, 'llama');
    assert.equal(hf.hidden_size, 8);
    assert.equal(hf.num_key_value_heads, 1);
    assert.equal(hf.vocab_size, 262);
    assert.equal(hf.eos_token_id, TOK.eotId);
    assert.equal(hf.pad_token_id, TOK.padId);

    const ck = loadCheckpoint(dir, { expectKind: 'lm', expectSpecials: VERDICTS });
    assert.deepEqual(ck.config, CONFIG);
    assert.equal(ck.kind, 'lm');
    assert.deepEqual(
      [...ck.weights.keys()],
      expectedTensors(CONFIG, { kind: 'lm' }).map((t) => t.name),
    );
    for (const [name, t] of weights) assert.deepEqual(ck.weights.get(name)!.data, t.data, name);
    assert.equal(ck.tokenizer.specialId('[[B]]'), TOK.specialId('[[B]]'));
    assert.equal(ck.genrm.provenance.command, PROV.command);
    assert.equal(ck.genrm.provenance.seed, 3);
    assert.equal(ck.genrm.provenance.genrmVersion, packageVersion());
    assert.ok(!Number.isNaN(Date.parse(ck.genrm.provenance.createdAt)));
  });
});

test('F16 save halves the weights file and rounds each value to binary16', () => {
  withDir((root) => {
    const weights = weightsFor(CONFIG, 'bt');
    saveCheckpoint(join(root, 'f32'), { config: CONFIG, kind: 'bt', weights, tokenizer: TOK, provenance: PROV });
    saveCheckpoint(join(root, 'f16'), { config: CONFIG, kind: 'bt', weights, tokenizer: TOK, provenance: PROV, dtype: 'F16' });
    const size = (d: string): number => statSync(join(root, d, 'model.safetensors')).size;
    assert.ok(size('f16') < size('f32') * 0.55, `${size('f16')} vs ${size('f32')}`);
    const ck = loadCheckpoint(join(root, 'f16'), { expectKind: 'bt' });
    assert.equal(ck.numLabels, 1);
    const hf = JSON.parse(readFileSync(join(root, 'f16', 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(hf.architectures, ['LlamaForSequenceClassification']);
    assert.equal(hf.torch_dtype, 'float16');
    for (const [name, t] of weights) {
      const back = ck.weights.get(name)!;
      assert.equal(back.dtype, 'F16');
      assert.deepEqual(
        back.data,
        t.data.map((x) => f16BitsToF32(f32ToF16Bits(x))),
        name,
      );
    }
  });
});

test("the model's own params map saves and loads unchanged", () => {
  withDir((root) => {
    const model = new Llama({ ...CONFIG, tieEmbeddings: true }, { seed: 5 });
    const dir = join(root, 'm');
    saveCheckpoint(dir, { config: model.config, kind: 'lm', weights: model.params, tokenizer: TOK, provenance: PROV });
    const ck = loadCheckpoint(dir);
    assert.deepEqual([...ck.weights.keys()], [...model.params.keys()]);
    for (const [name, t] of model.params) assert.deepEqual(ck.weights.get(name)!.data, t.data, name);
  });
});

test('replacing a checkpoint is atomic; a failed save leaves the old one intact', () => {
  withDir((root) => {
    const dir = join(root, 'ck');
    saveCheckpoint(dir, { config: CONFIG, kind: 'lm', weights: weightsFor(CONFIG, 'lm', 1), tokenizer: TOK, provenance: PROV });
    const w2 = weightsFor(CONFIG, 'lm', 2);
    saveCheckpoint(dir, { config: CONFIG, kind: 'lm', weights: w2, tokenizer: TOK, provenance: PROV });
    assert.deepEqual(loadCheckpoint(dir).weights.get('model.norm.weight')!.data, w2.get('model.norm.weight')!.data);
    const before = readFileSync(join(dir, 'model.safetensors'));
    const big = weightsFor(CONFIG, 'lm', 3);
    big.get('model.norm.weight')!.data[2] = 1e6;
    assert.throws(
      () => saveCheckpoint(dir, { config: CONFIG, kind: 'lm', weights: big, tokenizer: TOK, provenance: PROV, dtype: 'F16' }),
      /tensor 'model\.norm\.weight' value 1000000 at index 2 overflows F16/,
    );
    assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), before);
    assert.deepEqual(readdirSync(root), ['ck']);
    mkdirSync(join(root, 'other'));
    writeFileSync(join(root, 'other', 'notes.txt'), 'keep me');
    assert.throws(
      () => saveCheckpoint(join(root, 'other'), { config: CONFIG, kind: 'lm', weights: w2, tokenizer: TOK, provenance: PROV }),
      /refusing to replace .*other: it is not empty and not a genrm checkpoint/,
    );
    assert.equal(readFileSync(join(root, 'other', 'notes.txt'), 'utf8'), 'keep me');
  });
});

test('bad weights are refused at save, naming the tensor and the expected shape', () => {
  const save = (weights: NamedWeights, config = CONFIG, tokenizer = TOK): void =>
    saveCheckpoint(join(tmpdir(), 'genrm-never-written'), { config, kind: 'lm', weights, tokenizer, provenance: PROV });
  const missing = weightsFor(CONFIG, 'lm');
  missing.delete('model.layers.1.mlp.up_proj.weight');
  assert.throws(() => save(missing), /missing tensor 'model\.layers\.1\.mlp\.up_proj\.weight' \(expected shape \[12, 8\]\)/);
  const wrong = weightsFor(CONFIG, 'lm');
  wrong.set('model.layers.0.self_attn.k_proj.weight', { shape: [8, 8], data: new Float32Array(64) });
  assert.throws(() => save(wrong), /tensor 'model\.layers\.0\.self_attn\.k_proj\.weight' has shape \[8, 8\], expected \[4, 8\]/);
  const extra = weightsFor(CONFIG, 'lm');
  extra.set('score.weight', { shape: [1, 8], data: new Float32Array(8) });
  assert.throws(() => save(extra), /unexpected tensor 'score\.weight'/);
  const nan = weightsFor(CONFIG, 'lm');
  nan.get('lm_head.weight')!.data[7] = NaN;
  assert.throws(() => save(nan), /tensor 'lm_head\.weight' holds NaN at index 7/);
  const bigger = Tokenizer.train(['the the the then'], 270, { specials: VERDICTS });
  assert.throws(() => save(weightsFor(CONFIG, 'lm'), CONFIG, bigger), /tokenizer has 2\d\d tokens but the model's vocabSize is 262/);
  assert.ok(!existsSync(join(tmpdir(), 'genrm-never-written')));
});

test('corrupt or mismatched folders are refused, naming the file', () => {
  withDir((root) => {
    const fresh = (name: string, kind: CheckpointKind = 'lm'): string => {
      const dir = join(root, name);
      saveCheckpoint(dir, { config: CONFIG, kind, weights: weightsFor(CONFIG, kind), tokenizer: TOK, provenance: PROV });
      return dir;
    };
    let d = fresh('a');
    rmSync(join(d, 'config.json'));
    assert.throws(() => loadCheckpoint(d), /a\/config\.json: missing \(is this a genrm checkpoint folder\?\)/);
    d = fresh('b');
    writeFileSync(join(d, 'genrm.json'), '{"kind": ');
    assert.throws(() => loadCheckpoint(d), /b\/genrm\.json: not valid JSON/);
    d = fresh('c');
    truncateSync(join(d, 'model.safetensors'), statSync(join(d, 'model.safetensors')).size - 10);
    assert.throws(() => loadCheckpoint(d), /c\/model\.safetensors: truncated/);
    d = fresh('d');
    saveCheckpoint(join(root, 'other-vocab'), {
      config: { ...CONFIG, vocabSize: 258 },
      kind: 'lm',
      weights: weightsFor({ ...CONFIG, vocabSize: 258 }, 'lm'),
      tokenizer: Tokenizer.byteLevel(),
      provenance: PROV,
    });
    writeFileSync(join(d, 'tokenizer.json'), readFileSync(join(root, 'other-vocab', 'tokenizer.json')));
    assert.throws(() => loadCheckpoint(d), /d\/tokenizer\.json: the tokenizer has 258 tokens but config\.json says vocab_size 262/);
    d = fresh('e');
    const w = weightsFor(CONFIG, 'lm');
    w.set('model.norm.weight', { shape: [9], data: new Float32Array(9) });
    writeSafetensors(join(d, 'model.safetensors'), w);
    assert.throws(() => loadCheckpoint(d), /e\/model\.safetensors: tensor 'model\.norm\.weight' has shape \[9\], expected \[8\]/);
    d = fresh('f', 'pairrm');
    assert.throws(() => loadCheckpoint(d, { expectKind: 'lm' }), /a 'pairrm' checkpoint, but a 'lm' one is needed here/);
    const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, architectures: ['LlamaForCausalLM'] }));
    assert.throws(() => loadCheckpoint(d), /f\/config\.json: architectures\[0\] is "LlamaForCausalLM" but genrm\.json says kind 'pairrm'/);
    writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, hidden_size: -8 }));
    assert.throws(() => loadCheckpoint(d), /f\/config\.json: "hidden_size" must be a positive integer, got -8/);
    writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, pad_token_id: 0 }));
    assert.throws(() => loadCheckpoint(d), /"pad_token_id" is 0 but the tokenizer's token is 257/);
    assert.throws(() => loadCheckpoint(join(root, 'nope')), /nope: no such checkpoint folder/);
  });
});

test('non-finite weights are refused at load, naming the file, the tensor and how many values', () => {
  withDir((root) => {
    const dir = join(root, 'nan');
    saveCheckpoint(dir, { config: CONFIG, kind: 'lm', weights: weightsFor(CONFIG, 'lm'), tokenizer: TOK, provenance: PROV });
    // Written past saveCheckpoint's own check, as a diverged run or a bit flip would leave it.
    const w = weightsFor(CONFIG, 'lm');
    const t = w.get('model.layers.1.mlp.down_proj.weight')!;
    t.data[3] = NaN;
    t.data[5] = -Infinity;
    writeFileSync(
      join(dir, 'model.safetensors'),
      encodeSafetensors(expectedTensors(CONFIG, { kind: 'lm' }).map(({ name }) => [name, w.get(name)!])),
    );
    assert.throws(
      () => loadCheckpoint(dir),
      /nan\/model\.safetensors: tensor 'model\.layers\.1\.mlp\.down_proj\.weight' holds NaN at index 3 \(2 of its 96 values are not finite\)/,
    );
  });
});

test('readCheckpointMeta: kind and provenance without the weights; a bad genrm.json names the field', () => {
  withDir((root) => {
    const dir = join(root, 'm');
    saveCheckpoint(dir, { config: CONFIG, kind: 'pairrm', weights: weightsFor(CONFIG, 'pairrm'), tokenizer: TOK, provenance: PROV });
    const g = readCheckpointMeta(dir);
    assert.equal(g.kind, 'pairrm');
    assert.equal(g.provenance.dataHash, 'sha256:abc');
    writeFileSync(join(dir, 'genrm.json'), JSON.stringify({ ...g, kind: 'rm' }));
    assert.throws(() => readCheckpointMeta(dir), /m\/genrm\.json: "kind" must be one of lm, bt, pairrm, got "rm"/);
    writeFileSync(join(dir, 'genrm.json'), JSON.stringify({ ...g, provenance: null }));
    assert.throws(() => readCheckpointMeta(dir), /"provenance" must be an object/);
  });
});

test('a save killed between its two renames: the next load puts the old folder back; leftovers of dead processes go', () => {
  withDir((root) => {
    const dir = join(root, 'ck');
    saveCheckpoint(dir, { config: CONFIG, kind: 'lm', weights: weightsFor(CONFIG, 'lm'), tokenizer: TOK, provenance: PROV });
    // What swapFolderAtomic leaves when killed after moving the old folder aside (pid 4000000: not running).
    renameSync(dir, join(root, '.ck.old-4000000-1-aaa'));
    mkdirSync(join(root, '.ck.tmp-4000000-1-aaa'));
    mkdirSync(join(root, `.ck.tmp-${process.pid}-1-live`)); // a swap of this process, still going: kept
    assert.equal(loadCheckpoint(dir).kind, 'lm');
    assert.deepEqual(readdirSync(root).sort(), [`.ck.tmp-${process.pid}-1-live`, 'ck']);
  });
});
