import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../../../src/engine/checkpoint.js';
import { Llama, type ModelConfig } from '../../../src/engine/model/index.js';
import { JudgedModels, modelKey } from '../../../src/eval/repro/judged.js';
import { readRecordsAll, writeRecords, type JudgeRecord } from '../../../src/eval/records.js';
import { buildTokenizer } from '../../../src/train/pretrain/run.js';

test('repro reuses the records of an equal model: F16 and F32 copies share a key, a changed weight does not; records are relabelled', async () => {
  const root = mkdtempSync(join(tmpdir(), 'genrm-judged-'));
  try {
    const tok = buildTokenizer([], 0);
    const config: ModelConfig = {
      vocabSize: tok.vocabSize,
      dModel: 16,
      nLayers: 1,
      nHeads: 2,
      nKvHeads: 2,
      ffnHidden: 32,
      maxSeqLen: 64,
      ropeTheta: 10000,
      normEps: 1e-5,
      tieEmbeddings: true,
    };
    const model = new Llama(config, { seed: 5 });
    const save = (name: string, dtype: 'F32' | 'F16'): string => {
      const dir = join(root, name);
      saveCheckpoint(dir, {
        config,
        kind: 'lm',
        weights: model.params,
        tokenizer: tok,
        dtype,
        provenance: { command: 'test', config: null, seed: 5, dataHash: null, parent: null },
      });
      return dir;
    };
    // A base stored in F16, and a fine-tuning run that kept it, stored in F32: the same numbers, other bytes.
    const f16 = save('half', 'F16');
    const f32 = join(root, 'f32');
    const ck = loadCheckpoint(f16);
    const back = Llama.fromWeights(ck.config, ck.weights, 'half');
    saveCheckpoint(f32, {
      config,
      kind: 'lm',
      weights: back.params,
      tokenizer: tok,
      dtype: 'F32',
      provenance: { command: 'test', config: null, seed: 5, dataHash: null, parent: null },
    });
    assert.equal(modelKey(f32), modelKey(f16));
    const first = [...back.params.values()][0]!;
    first.data[0] = first.data[0]! + 0.5;
    const changed = join(root, 'changed');
    saveCheckpoint(changed, {
      config,
      kind: 'lm',
      weights: back.params,
      tokenizer: tok,
      dtype: 'F32',
      provenance: { command: 'test', config: null, seed: 5, dataHash: null, parent: null },
    });
    assert.notEqual(modelKey(changed), modelKey(f16));

    const recs = [
      {
        v: 1,
        pairId: 'p1',
        split: 'test-id',
        method: 'zero-shot-cot',
        mode: 'cot',
        shift: [],
        chosenFirst: { verdicts: ['A', 'B'] },
        chosenSecond: { verdicts: ['B', 'B'] },
      },
    ] as unknown as JudgeRecord[];
    const zs = join(root, 'zs.jsonl');
    await writeRecords(zs, recs);
    const judged = new JudgedModels();
    judged.add(f16, 'cot/2', zs);
    assert.equal(await judged.reuse(changed, 'cot/2', join(root, 'x.jsonl'), 'star-sft', 1), false);
    assert.equal(await judged.reuse(f32, 'direct/2', join(root, 'x.jsonl'), 'genrm'), false, 'another mode is another judgment');
    assert.equal(await judged.reuse(f32, 'cot/8', join(root, 'x.jsonl'), 'star-sft', 1), false, 'other votes are another judgment');
    const out = join(root, 'star.jsonl');
    assert.equal(await judged.reuse(f32, 'cot/2', out, 'star-sft', 2), true);
    const got = await readRecordsAll(out);
    assert.deepEqual(
      got.map((r) => [r.method, r.iteration, r.pairId]),
      [['star-sft', 2, 'p1']],
    );
    assert.deepEqual(got[0]!.chosenFirst, recs[0]!.chosenFirst);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
