// SFT on (prompt, target) judge examples: the routine behind `genrm` (target = the verdict),
// `rationalize` and `star-sft` (target = rationale + verdict). Cross-entropy on the target tokens
// only (the prompt is masked: targets -1 there), examples right-padded one per row and bucketed
// by length, through the shared loop (checkpoints, resume, metrics).
//
//   const r = runSft({ model, tokenizer, examples, loop, overflow: 'error', outDir, saveModel, evaluate });
//
// The loss is the mean over trained tokens of the whole update (token-weighted accumulation),
// so a long rationale counts per token, as in standard SFT. `tokenAcc` is the share of trained
// tokens the model's argmax already predicts (for direct GenRM: the training accuracy).
import { crossEntropy } from '../../engine/autograd/index.js';
import type { Llama } from '../../engine/model/index.js';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import type { Tensor } from '../../engine/tensor.js';
import { padBatch, ShuffledStream, type LmBatch, type LmExample } from '../batches.js';
import type { TrainLoopConfig } from '../config.js';
import { train, type MetricsRecord, type TrainResult, type TrainTask } from '../trainer.js';
import type { TextExample } from './data.js';
import { tokenizeExamples } from './examples.js';

/** Share of rows r with targets[r] >= 0 whose argmax logit is the target. logits (N, V). */
export function argmaxAccuracy(logits: Tensor, targets: Int32Array): number {
  const V = logits.shape[1]!;
  const d = logits.data;
  let right = 0;
  let n = 0;
  for (let r = 0; r < targets.length; r++) {
    const t = targets[r]!;
    if (t < 0) continue;
    n++;
    const want = d[r * V + t]!;
    let best = true;
    for (let v = 0; v < V; v++) if (d[r * V + v]! > want) { best = false; break; }
    if (best) right++;
  }
  return n > 0 ? right / n : 0;
}

/** The training task for masked SFT over tokenized examples. */
export function sftTask(model: Llama, examples: readonly LmExample[], o: { batchSize: number; seed: number; padId: number }): TrainTask<LmBatch> {
  const maxSeqLen = model.config.maxSeqLen;
  const stream = new ShuffledStream(examples, (items: LmExample[]) => padBatch(items, o.padId, maxSeqLen), {
    batchSize: o.batchSize,
    seed: o.seed,
    length: (ex) => ex.tokens.length,
  });
  return {
    params: model.params,
    stream,
    loss: (b) => {
      const logits = model.logits(model.hidden(b.ids, b.batch, b.seqLen)); // (B*T, V)
      return { loss: crossEntropy(logits, b.targets), metrics: { tokenAcc: argmaxAccuracy(logits, b.targets) } };
    },
    weight: (b) => b.tokens,
    tokens: (b) => b.batch * b.seqLen,
  };
}

export interface SftOptions {
  model: Llama;
  tokenizer: Tokenizer;
  examples: readonly TextExample[];
  loop: TrainLoopConfig;
  /** Examples longer than the context: refuse ('error') or drop and count ('skip'). */
  overflow: 'error' | 'skip';
  /** Train end-of-text after the target (CoT recipes: sampled rationales learn to stop). */
  appendEot?: boolean;
  outDir?: string;
  resume?: boolean;
  progress?: boolean;
  label?: string;
  stopAfter?: number;
  evaluate?: (step: number) => Record<string, number>;
  saveModel?: (dir: string, info: { step: number; final: boolean }) => void;
  onLog?: (r: MetricsRecord) => void;
  extra?: () => unknown;
}

export interface SftResult {
  train: TrainResult;
  /** Examples trained on (after 'skip'). */
  examples: number;
  /** Sources of the examples dropped for length. */
  skipped: string[];
  /** Trained tokens per epoch. */
  targetTokens: number;
  /** The first logged training loss (NaN if none was logged in this process). */
  firstLoss: number;
}

/** Tokenizes the examples and trains the model on their targets through the shared loop. */
export function runSft(o: SftOptions): SftResult {
  const tk = tokenizeExamples(o.tokenizer, o.examples, { maxTokens: o.model.config.maxSeqLen, overflow: o.overflow, appendEot: o.appendEot ?? false });
  if (tk.examples.length === 0) throw new Error(`SFT: none of the ${o.examples.length} examples fits the context of ${o.model.config.maxSeqLen} tokens`);
  const task = sftTask(o.model, tk.examples, { batchSize: o.loop.batchSize, seed: o.loop.seed, padId: o.tokenizer.padId });
  if (o.evaluate) task.evaluate = o.evaluate;
  if (o.saveModel) task.saveModel = o.saveModel;
  let firstLoss = NaN;
  const result = train(task, {
    config: o.loop,
    ...(o.outDir !== undefined ? { outDir: o.outDir } : {}),
    ...(o.resume ? { resume: true } : {}),
    ...(o.stopAfter !== undefined ? { stopAfter: o.stopAfter } : {}),
    ...(o.extra ? { extra: o.extra } : {}),
    progress: o.progress ?? false,
    label: o.label ?? 'sft',
    onLog: (r) => {
      if (Number.isNaN(firstLoss) && r.loss !== undefined) firstLoss = r.loss;
      o.onLog?.(r);
    },
  });
  return { train: result, examples: tk.examples.length, skipped: tk.skipped, targetTokens: tk.targetTokens, firstLoss };
}
