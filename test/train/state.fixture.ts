// A training run that kills itself (SIGKILL) at its k-th file-system change, for the
// fault-injection test (state.test.ts). Every call that changes the disk (rename, link, unlink,
// rm, mkdir, write, copy, append) counts one; at the k-th the process writes half of what it was
// asked (a torn write) and kills itself before the call returns, as kill -9 or a power cut would.
//
//   node state.fixture.js <outDir> <k | 0: never> [--trace]
//
// The run: a tiny Llama, 12 updates, a checkpoint every 3, early stopping's validation every 2
// (so best.safetensors is kept across checkpoints), resumed from <outDir> when it holds a run.
// On a normal exit it prints {"ops": n} (and with --trace every change as {i, op, path} lines).
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const [outDir, killArg, traceFlag] = process.argv.slice(2);
const killAt = Number(killArg ?? 0);
const trace = traceFlag === '--trace';
let ops = 0;
let counting = true;
const log: { i: number; op: string; path: string }[] = [];

function tear(op: string, args: unknown[]): void {
  // A write cut in the middle: half the bytes reach the file.
  if (op === 'writeSync' && typeof args[0] === 'number' && ArrayBuffer.isView(args[1])) {
    const b = args[1] as Uint8Array;
    orig.writeSync!(args[0], b, 0, Math.floor(b.byteLength / 2));
  } else if ((op === 'writeFileSync' || op === 'appendFileSync') && typeof args[0] === 'string') {
    const data = args[1];
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data as Uint8Array);
    (op === 'writeFileSync' ? orig.writeFileSync! : orig.appendFileSync!)(args[0], bytes.subarray(0, Math.floor(bytes.length / 2)));
  }
}

const MUTATING = [
  'renameSync',
  'linkSync',
  'unlinkSync',
  'rmSync',
  'mkdirSync',
  'writeFileSync',
  'writeSync',
  'copyFileSync',
  'appendFileSync',
] as const;
const orig: Record<string, (...a: any[]) => any> = {};
for (const name of MUTATING) {
  orig[name] = (fs as any)[name];
  (fs as any)[name] = (...args: unknown[]) => {
    if (!counting) return orig[name]!(...args);
    ops++;
    if (trace) log.push({ i: ops, op: name, path: String(typeof args[0] === 'number' ? `fd${args[0]}` : args[0]) });
    if (ops === killAt) {
      tear(name, args);
      process.kill(process.pid, 'SIGKILL');
    }
    return orig[name]!(...args);
  };
}
syncBuiltinESMExports();

const { Llama } = await import('../../src/engine/model/index.js');
const { Tokenizer } = await import('../../src/engine/tokenizer/index.js');
const { saveCheckpoint } = await import('../../src/engine/checkpoint.js');
const { PackedStream } = await import('../../src/train/batches.js');
const { trainLoopConfig } = await import('../../src/train/config.js');
const { train } = await import('../../src/train/trainer.js');
const { hasTrainerState } = await import('../../src/train/state.js');
const { Prng } = await import('../../src/engine/prng.js');

const tok = Tokenizer.byteLevel();
const cfg = {
  vocabSize: tok.vocabSize,
  dModel: 16,
  nLayers: 2,
  nHeads: 2,
  nKvHeads: 1,
  ffnHidden: 32,
  maxSeqLen: 32,
  ropeTheta: 10000,
  normEps: 1e-5,
  tieEmbeddings: true,
};
const rng = new Prng(7);
const docs = Array.from({ length: 30 }, () => {
  const start = rng.int(10);
  return Int32Array.from({ length: 6 + rng.int(10) }, (_, i) => 97 + ((start + i) % 16));
});
const config = trainLoopConfig({
  steps: 12,
  batchSize: 2,
  gradAccum: 2,
  lr: 5e-3,
  warmupSteps: 2,
  checkpointEvery: 3,
  logEvery: 1,
  evalEvery: 0,
  seed: 4,
});
const model = new Llama(cfg, { seed: 11 });
const stream = new PackedStream(docs, { batchSize: 2, seqLen: 12, seed: config.seed, separator: tok.eotId });
const held = new PackedStream(docs.slice(0, 8), { batchSize: 2, seqLen: 12, seed: 9, separator: tok.eotId });
const val = [held.next(), held.next()];
const loss = (b: { ids: Int32Array; targets: Int32Array; batch: number; seqLen: number; tokens: number }) => ({
  loss: model.loss(b.ids, b.targets, b.batch, b.seqLen),
});
if (!outDir) throw new Error('usage: state.fixture.js <outDir> <k> [--trace]');
train(
  {
    params: model.params,
    stream,
    loss,
    weight: (b) => b.tokens,
    validate: { metric: 'val/loss', run: () => ({ 'val/loss': val.reduce((s, b) => s + loss(b).loss.item(), 0) / val.length }) },
    saveModel: (dir) =>
      saveCheckpoint(dir, {
        config: cfg,
        kind: 'lm',
        weights: model.params,
        tokenizer: tok,
        provenance: { command: 'crash-fixture', config, seed: 4, dataHash: null, parent: null, createdAt: 'fixed' },
      }),
  },
  { config, outDir, resume: hasTrainerState(outDir), earlyStop: { every: 2, patience: 100, minDelta: 0 } },
);
counting = false;
if (trace) for (const l of log) console.log(JSON.stringify(l));
console.log(JSON.stringify({ ops }));
