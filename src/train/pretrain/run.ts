// The pretrain recipe: genrm's tokenizer (bytes + end of text + padding + the judge verdicts,
// optional BPE merges) and a Llama-style model trained from scratch on PrefWorld's corpus with the
// shared loop: documents packed into full rows, a held-out slice for the eval loss, and at the end
// the worked-solution report (./workedEval.ts).
import { join } from 'node:path';
import { JUDGE_SPECIAL_TOKENS } from '../../data/judgeFormat.js';
import { CHECKPOINT_META_FILE, hasCheckpointMeta, readCheckpointMeta, saveCheckpoint } from '../../engine/checkpoint.js';
import { Llama } from '../../engine/model/index.js';
import { Prng } from '../../engine/prng.js';
import { Tokenizer } from '../../engine/tokenizer/index.js';
import { epochSeed, PackedStream, permutation, type LmBatch } from '../batches.js';
import { hasTrainerState, latestCheckpoint } from '../state.js';
import { meanLoss, train, type MetricsRecord, type TrainTask } from '../trainer.js';
import { loadBase } from '../recipes/model.js';
import { loopConfig, modelConfig, type PretrainConfig } from './config.js';
import { loadSpec } from '../../data/world/generate.js';
import { loadCorpus, loadTestPairs } from './data.js';
import { formatWorkedReport, heldOutTasks, workedReport, writeWorkedReport, type WorkedReport } from './workedEval.js';

export interface PretrainOptions {
  /** The command line, recorded in genrm.json. */
  command: string;
  resume?: boolean;
  progress?: boolean;
  /** Stop after this many updates without finishing (tests). */
  stopAfter?: number;
  /** Status lines (not metrics) for the person at the terminal. */
  say?: (line: string) => void;
  onLog?: (r: MetricsRecord) => void;
}

export interface PretrainResult {
  out: string;
  steps: number;
  params: number;
  vocabSize: number;
  /** Corpus bytes per token under this tokenizer. */
  bytesPerToken: number;
  corpusTokens: number;
  firstLoss: number;
  lastLoss: number;
  evalLoss: number;
  tokensPerSec: number;
  elapsedSec: number;
  report: WorkedReport | null;
}

/** Held-out evaluation budget: ~16k tokens keeps an eval pass to seconds at the base size. */
const EVAL_TOKENS = 16_384;

export function buildTokenizer(texts: readonly string[], merges: number): Tokenizer {
  const options = { specials: [...JUDGE_SPECIAL_TOKENS] };
  if (merges === 0) return Tokenizer.byteLevel(options);
  const base = Tokenizer.byteLevel(options).vocabSize;
  return Tokenizer.train(texts, base + merges, options);
}

/** A resumed run must read the same corpus (the tokenizer and data order derive from it). */
function checkSameData(out: string, hash: string): void {
  const ck = latestCheckpoint(out) ?? (hasCheckpointMeta(out) ? out : null); // out itself: a run of the earlier layout
  if (ck === null) return; // no checkpoint yet: the trainer reports the missing state
  const saved = readCheckpointMeta(ck).provenance.dataHash;
  if (saved !== null && saved !== `sha256:${hash}`)
    throw new Error(
      `${join(ck, CHECKPOINT_META_FILE)}: the run was trained on data ${saved}, but --data now hashes to sha256:${hash}; resume with the same corpus or start a new run`,
    );
}

export function pretrain(c: PretrainConfig, opts: PretrainOptions): PretrainResult {
  const say = opts.say ?? ((): void => {});
  // Fail before the minutes of tokenizing when the output folder is taken.
  if (!opts.resume && hasTrainerState(c.out))
    throw new Error(`${c.out}: holds a resumable run already; pass --resume to continue it, or choose another output folder`);
  const data = loadCorpus(c.data);
  if (opts.resume) checkSameData(c.out, data.hash);
  const texts = data.docs.map((d) => d.text);
  const tok = buildTokenizer(texts, c.merges);
  const docs = texts.map((t) => Int32Array.from(tok.encode(t, { specials: 'parse' })));
  const corpusTokens = docs.reduce((a, d) => a + d.length + 1, 0);
  const corpusBytes = texts.reduce((a, t) => a + Buffer.byteLength(t, 'utf8') + 1, 0);
  // A seeded held-out slice of the documents for the eval loss.
  const order = permutation(docs.length, new Prng(epochSeed(c.seed, 1_000_003)));
  const nHeld = Math.min(docs.length - 1, Math.round(docs.length * c.heldOutFrac));
  const held = new Set(order.subarray(0, nHeld));
  const trainDocs = docs.filter((_, i) => !held.has(i));
  const heldDocs = docs.filter((_, i) => held.has(i));
  say(
    `corpus ${data.corpusFile}: ${docs.length} documents, ${corpusTokens} tokens (${(corpusBytes / corpusTokens).toFixed(2)} bytes/token, vocab ${tok.vocabSize}); ${heldDocs.length} held out`,
  );

  const mc = modelConfig(c, tok.vocabSize);
  const model = new Llama(mc, { seed: c.seed });
  const nParams = model.parameters().reduce((a, p) => a + p.size, 0);
  const stream = new PackedStream(trainDocs, { batchSize: c.batchSize, seqLen: c.seqLen, seed: c.seed, separator: tok.eotId });
  const evalBatches: LmBatch[] = [];
  if (heldDocs.length > 0) {
    const hs = new PackedStream(heldDocs, { batchSize: c.batchSize, seqLen: c.seqLen, seed: c.seed, separator: tok.eotId });
    const n = Math.max(
      1,
      Math.min(Math.ceil(EVAL_TOKENS / (c.batchSize * c.seqLen)), Math.ceil(hs.epochTokens / (c.batchSize * c.seqLen))),
    );
    for (let i = 0; i < n; i++) evalBatches.push(hs.next());
  }
  say(
    `model ${(nParams / 1e6).toFixed(2)}M parameters: d ${c.dModel}, ${c.nLayers} layers, ${c.nHeads} heads, ffn ${c.ffnHidden}, context ${c.seqLen}; ${c.steps} steps x ${c.batchSize * c.gradAccum} x ${c.seqLen} tokens`,
  );

  const spec = data.worldDir ? loadSpec(data.worldDir) : null;
  const testPairs = data.worldDir ? loadTestPairs(data.worldDir) : [];
  const report = (perCell: number, samples = 0): WorkedReport | null =>
    spec && perCell > 0 && testPairs.length > 0
      ? workedReport(model, tok, spec, heldOutTasks(spec, testPairs, perCell), { seed: c.seed, samples })
      : null;

  const task: TrainTask<LmBatch> = {
    batchShape: { rows: c.batchSize, seqLen: c.seqLen },
    params: model.params,
    stream,
    loss: (b) => ({ loss: model.loss(b.ids, b.targets, b.batch, b.seqLen) }),
    weight: (b) => b.tokens,
    tokens: (b) => b.batch * b.seqLen,
    evaluate: (step) => {
      const m: Record<string, number> = {};
      if (evalBatches.length) m.evalLoss = meanLoss(task, evalBatches);
      if (step < c.steps && c.evalTasksPeriodic > 0) {
        const r = report(c.evalTasksPeriodic);
        if (r)
          Object.assign(m, { workedAcc: r.overall.worked, judgeWorkedAcc: r.overall.judgeWorked, judgeVerdictAcc: r.overall.judgeVerdict });
      }
      return m;
    },
    saveModel: (dir) =>
      saveCheckpoint(dir, {
        config: mc,
        kind: 'lm',
        weights: model.params,
        tokenizer: tok,
        dtype: c.dtype,
        provenance: { command: opts.command, config: c, seed: c.seed, dataHash: `sha256:${data.hash}`, parent: null },
      }),
  };
  let firstLoss = NaN;
  const r = train(task, {
    config: loopConfig(c),
    outDir: c.out,
    ...(opts.resume ? { resume: true } : {}),
    ...(opts.stopAfter !== undefined ? { stopAfter: opts.stopAfter } : {}),
    progress: opts.progress ?? false,
    label: 'pretrain',
    onLog: (rec) => {
      if (Number.isNaN(firstLoss) && rec.loss !== undefined) firstLoss = rec.loss;
      opts.onLog?.(rec);
    },
  });
  let final: WorkedReport | null = null;
  if (r.step === c.steps) {
    final = report(c.evalTasks, c.evalSamples);
    if (final) {
      writeWorkedReport(c.out, final);
      say(`worked solutions on held-out tasks (greedy; ${final.seconds.toFixed(0)} s):\n${formatWorkedReport(final)}`);
    }
  }
  return {
    out: c.out,
    steps: r.step,
    params: nParams,
    vocabSize: tok.vocabSize,
    bytesPerToken: corpusBytes / corpusTokens,
    corpusTokens,
    firstLoss,
    lastLoss: r.lastLoss,
    evalLoss: r.lastEval.evalLoss ?? NaN,
    tokensPerSec: r.elapsedSec > 0 ? r.tokensSeen / r.elapsedSec : 0,
    elapsedSec: r.elapsedSec,
    report: final,
  };
}

export interface ReportOptions {
  /** Held-out tasks per (family, difficulty). */
  tasks: number;
  /** Sampled zero-shot CoT judgments per task (0: greedy only). */
  samples: number;
  seed: number;
}

/**
 * The worked-solution report of an existing checkpoint on a world's held-out tasks, written
 * into the checkpoint folder (worked-report.json / .txt): `genrm pretrain --report-only`.
 */
export function reportCheckpoint(dir: string, worldDir: string, o: ReportOptions): WorkedReport {
  const base = loadBase(dir);
  const spec = loadSpec(worldDir);
  const pairs = loadTestPairs(worldDir);
  if (pairs.length === 0)
    throw new Error(
      `${worldDir}: holds no test-id/test-ood pairs to draw held-out tasks from (a PrefWorld folder from genrm world generate)`,
    );
  const r = workedReport(base.model, base.tokenizer, spec, heldOutTasks(spec, pairs, o.tasks), { seed: o.seed, samples: o.samples });
  writeWorkedReport(dir, r);
  return r;
}
