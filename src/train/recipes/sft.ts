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
//
// With a recipe's loop (loopOf: early stopping and replay), `budget.valPairs` source pairs are
// held out (both orders, every rationale of a pair on one side) and their target NLL is the
// validation early stopping watches ("val/loss", "val/tokenAcc"); `replay.share` mixes corpus
// documents into every micro-batch (./replay.ts). CoT recipes trained on the model's own samples
// (rationalize, star-sft) watch the held-out pairs' greedy CoT verdict error instead
// (`cotValidation`): the NLL of a model's own rationales starts at its minimum (see CotValidation).
import { crossEntropy } from '../../engine/autograd/index.js';
import type { Llama } from '../../engine/model/index.js';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import type { Tensor } from '../../engine/tensor.js';
import { chunked, holdOutGroups, padBatch, ShuffledStream, type LmBatch, type LmExample } from '../batches.js';
import type { TrainLoopConfig } from '../config.js';
import { heldOutValidation, train, type MetricsRecord, type TrainResult, type TrainTask, type Validation } from '../trainer.js';
import { earlyStopOf, type RecipeLoop } from './config.js';
import type { PreferencePair } from '../../data/pair.js';
import type { TextExample } from './data.js';
import { cotErrorValidation } from './evalJudge.js';
import { tokenizeExamples } from './examples.js';
import { VAL_CTX } from './harness.js';
import { withReplay } from './replay.js';

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
    for (let v = 0; v < V; v++)
      if (d[r * V + v]! > want) {
        best = false;
        break;
      }
    if (best) right++;
  }
  return n > 0 ? right / n : 0;
}

/** The training task for masked SFT over tokenized examples. */
export function sftTask(
  model: Llama,
  examples: readonly LmExample[],
  o: { batchSize: number; seed: number; padId: number },
): TrainTask<LmBatch> {
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
    batchShape: { rows: o.batchSize, seqLen: maxSeqLen },
  };
}

/**
 * Early stopping for CoT judges trained on rationales the model sampled itself: the watched
 * metric is the greedy CoT verdict error on the held-out examples' pairs, both orders
 * ("val/cotError"; the target NLL is logged beside it). Their target NLL cannot see what such
 * training teaches: on the v5 base's own kept rationales it is lowest before the first update
 * (0.045 per token; 0.047–0.087 after 25–150 updates at lr 3e-5–3e-4), because the targets are
 * already the model's likeliest text and the verdict a filter selects is a token or two of them.
 */
export interface CotValidation {
  /** The pairs of the held-out examples (each pair once). */
  pairsOf(heldOut: readonly TextExample[]): PreferencePair[];
  /** Most tokens per greedy rationale. */
  maxTokens: number;
}

export interface SftOptions {
  model: Llama;
  tokenizer: Tokenizer;
  examples: readonly TextExample[];
  /** The loop; a recipe's (loopOf) also brings early stopping (budget) and replay. */
  loop: TrainLoopConfig & Partial<Pick<RecipeLoop, 'budget' | 'replay'>>;
  /** The source pair of an example, for the validation split. Default: its `source` without the order ("pair X (chosen as A)" -> "pair X"). */
  group?: (ex: TextExample) => string;
  /** Watch the held-out pairs' CoT verdict error instead of the target NLL (rationalize, star-sft). */
  cotValidation?: CotValidation;
  /** Examples longer than the context: refuse ('error') or drop and count ('skip'). */
  overflow: 'error' | 'skip';
  /** Train end-of-text after the target (CoT recipes: sampled rationales learn to stop). */
  appendEot?: boolean;
  /** Most tokens of an example, below the model's context (TRL's max_length); longer ones follow `overflow`. */
  maxTokens?: number;
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
  /** Examples held out for validation (0: no early stopping). */
  valExamples: number;
}

/** The held-out pairs' greedy CoT verdict error, with the target NLL logged beside it. */
function cotErrorWithNll(o: SftOptions, nll: Validation, pairs: readonly PreferencePair[], maxTokens: number): Validation {
  const cot = cotErrorValidation(o.model, o.tokenizer, pairs, maxTokens, 'SFT');
  return { metric: cot.metric, run: () => ({ ...nll.run(), ...cot.run() }) };
}

/** An example's source pair: its `source` without the order suffix that describe() adds. */
export const sourcePair = (ex: TextExample): string => ex.source.replace(/ \(chosen as [AB]\)$/, '');

/** Tokenizes the examples and trains the model on their targets through the shared loop. */
export function runSft(o: SftOptions): SftResult {
  const budget = o.loop.budget;
  const early = budget ? earlyStopOf(budget) : null;
  const split = early
    ? holdOutGroups(o.examples, o.group ?? sourcePair, budget!.valPairs, o.loop.seed)
    : { train: [...o.examples], val: [] };
  const maxTokens = Math.min(o.maxTokens ?? Infinity, o.model.config.maxSeqLen);
  const tk = tokenizeExamples(o.tokenizer, split.train, { maxTokens, overflow: o.overflow, appendEot: o.appendEot ?? false });
  if (tk.examples.length === 0) throw new Error(`SFT: none of the ${split.train.length} examples fits the context of ${maxTokens} tokens`);
  const val = tokenizeExamples(o.tokenizer, split.val, { maxTokens, overflow: 'skip', appendEot: o.appendEot ?? false }).examples;
  const task = sftTask(o.model, tk.examples, { batchSize: o.loop.batchSize, seed: o.loop.seed, padId: o.tokenizer.padId });
  if (o.evaluate) task.evaluate = o.evaluate;
  if (o.saveModel) task.saveModel = o.saveModel;
  const useEarly = early !== null && val.length > 0;
  if (useEarly) {
    const sorted = [...val].sort((a, b) => a.tokens.length - b.tokens.length); // less padding
    const batches = chunked(sorted, o.loop.batchSize, (part) => padBatch(part, o.tokenizer.padId, maxTokens));
    const nll = heldOutValidation(
      (b) => task.loss(b, VAL_CTX),
      (b) => b.tokens,
      batches,
    );
    task.validate = o.cotValidation ? cotErrorWithNll(o, nll, o.cotValidation.pairsOf(split.val), o.cotValidation.maxTokens) : nll;
  }
  const run =
    o.loop.replay && o.loop.replay.share > 0
      ? withReplay(task, o.model, {
          spec: o.loop.replay,
          tokenizer: o.tokenizer,
          batchSize: o.loop.batchSize,
          microBatches: o.loop.steps * o.loop.gradAccum,
          seed: o.loop.seed,
        })
      : task;
  let firstLoss = NaN;
  const result = train<unknown>(run as TrainTask<unknown>, {
    config: o.loop,
    ...(o.outDir !== undefined ? { outDir: o.outDir } : {}),
    ...(o.resume ? { resume: true } : {}),
    ...(o.stopAfter !== undefined ? { stopAfter: o.stopAfter } : {}),
    ...(o.extra ? { extra: o.extra } : {}),
    ...(useEarly ? { earlyStop: early } : {}),
    progress: o.progress ?? false,
    label: o.label ?? 'sft',
    onLog: (r) => {
      if (Number.isNaN(firstLoss) && r.loss !== undefined) firstLoss = r.loss;
      o.onLog?.(r);
    },
  });
  return {
    train: result,
    examples: tk.examples.length,
    skipped: tk.skipped,
    targetTokens: tk.targetTokens,
    firstLoss,
    valExamples: useEarly ? val.length : 0,
  };
}
