// Training tokens/s through the shared training loop (src/train/trainer.ts) on the reference
// shape (vocab 512, d_model 256, 4 layers, 4 heads, SwiGLU 688, seq 128, batch 16): packed
// random documents, AdamW with clipping, the schedule and the bookkeeping, exactly as a recipe
// runs. Also the same at the base preset's shape and batch unless `shapes: ['ref']`.
// Called from bench/lm.ts (`npm run bench -- lm`); `engine` measures the bare step.
import { JUDGE_SPECIAL_TOKENS } from '../src/data/judgeFormat.js';
import { Llama, type ModelConfig } from '../src/engine/model/index.js';
import { Prng } from '../src/engine/prng.js';
import { PackedStream, type LmBatch } from '../src/train/batches.js';
import { trainLoopConfig } from '../src/train/config.js';
import { modelConfig, PRESET_VALUES } from '../src/train/pretrain/config.js';
import { train, type MetricsRecord } from '../src/train/trainer.js';

export interface TrainThroughput {
  shape: string;
  batch: number;
  seqLen: number;
  params: number;
  /** Median over the timed steps (the first `warmup` steps are not timed). */
  msPerStep: number;
  tokensPerSec: number;
}

const REF: ModelConfig = {
  vocabSize: 512,
  dModel: 256,
  nLayers: 4,
  nHeads: 4,
  nKvHeads: 4,
  ffnHidden: 688,
  maxSeqLen: 128,
  ropeTheta: 10000,
  normEps: 1e-5,
  tieEmbeddings: false,
};

function measure(shape: string, cfg: ModelConfig, batch: number, steps: number, warmup: number): TrainThroughput {
  const rng = new Prng(1);
  const docs = Array.from({ length: 400 }, () => Int32Array.from({ length: 50 + rng.int(300) }, () => rng.int(cfg.vocabSize - 1)));
  const model = new Llama(cfg, { seed: 1 });
  const stream = new PackedStream(docs, { batchSize: batch, seqLen: cfg.maxSeqLen, seed: 1, separator: cfg.vocabSize - 1 });
  const times: number[] = [];
  let last = performance.now();
  train(
    {
      params: model.params,
      stream,
      loss: (b: LmBatch) => ({ loss: model.loss(b.ids, b.targets, b.batch, b.seqLen) }),
      weight: (b) => b.tokens,
      tokens: (b) => b.batch * b.seqLen,
    },
    {
      config: trainLoopConfig({ steps: steps + warmup, batchSize: batch, warmupSteps: 2, logEvery: 1, evalEvery: 0, checkpointEvery: 0 }),
      onLog: (r: MetricsRecord) => {
        const now = performance.now();
        if (r.step > warmup) times.push(now - last);
        last = now;
      },
    },
  );
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)]!;
  return {
    shape,
    batch,
    seqLen: cfg.maxSeqLen,
    params: model.parameters().reduce((a, p) => a + p.size, 0),
    msPerStep: ms,
    tokensPerSec: (batch * cfg.maxSeqLen * 1000) / ms,
  };
}

/** Training tokens/s of the reference shape (and the base preset's, seq 512 batch 4, unless only 'ref'). */
export function trainingThroughput(opts: { steps?: number; shapes?: Array<'ref' | 'base'> } = {}): TrainThroughput[] {
  const steps = opts.steps ?? 6;
  const out = [measure('ref', REF, 16, steps, 2)];
  if ((opts.shapes ?? ['ref', 'base']).includes('base')) {
    // The base preset's shape and batch; its vocabulary is bytes + specials + merges.
    const b = { ...PRESET_VALUES.base, preset: 'base' as const, data: '', out: '' };
    const vocab = 256 + 2 + JUDGE_SPECIAL_TOKENS.length + b.merges;
    out.push(measure(`base preset (seq ${b.seqLen})`, modelConfig(b, vocab), b.batchSize, steps, 2));
  }
  return out;
}
