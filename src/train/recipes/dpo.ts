// Direct Preference Optimization (Rafailov et al. 2023), the training half of STaR-DPO:
//
//   loss = −log σ(β [(log π(y_w|x) − log π_ref(y_w|x)) − (log π(y_l|x) − log π_ref(y_l|x))])
//
// log π(y|x) is the SEQUENCE log-likelihood: the sum of per-token log-probs over the completion
// (rationale and verdict) only; the prompt is masked. The reference model is frozen: its
// log-likelihoods are either precomputed once for the whole dataset under noGrad (the default:
// cheaper, and the reference can be dropped before training) or computed per batch under noGrad.
// Either way it holds no gradients and no optimizer state.
//
// With `nllWeight` α > 0 (RPO, Pang et al. 2024, arXiv 2404.19733) the loss adds α times the
// chosen completion's length-normalised NLL, −log π(y_w|x) / |y_w|, which keeps the chosen
// likelihood from falling with the rejected one.
//
// Metrics, as TRL's DPOTrainer logs them: rewards/chosen = β(log π(y_w) − log π_ref(y_w)) (mean),
// rewards/rejected likewise, rewards/margins = their mean difference, rewards/accuracies = share
// of pairs with chosen reward > rejected reward; logps/chosen, logps/rejected = policy sums;
// and nll/chosen = the chosen completions' mean per-token NLL (RPO's term, logged always).
import { add, gatherRows, logSigmoid, mean, mul, noGrad, scale, sub, sumRows, Tensor } from '../../engine/autograd/index.js';
import type { Llama } from '../../engine/model/llama.js';
import { chunked, completionExample, padBatch, ShuffledStream, type LmBatch } from '../batches.js';
import { heldOutValidation, type LossOutput, type TrainTask, type Validation } from '../trainer.js';

/** One preference example as token ids: the shared prompt, the chosen and the rejected completion. */
export interface DpoExample {
  prompt: readonly number[];
  chosen: readonly number[];
  rejected: readonly number[];
  /** log π_ref(chosen | prompt), once precomputed. */
  refChosen?: number;
  refRejected?: number;
}

/** B pairs as one LM batch of 2B rows: chosen rows 0..B-1, rejected rows B..2B-1; prompts masked. */
export interface DpoBatch {
  lm: LmBatch; // (2B*T)
  pairs: number;
  /** (B) tokens of each chosen completion (the trained targets of its row). */
  chosenTokens: Float64Array;
  /** (B) reference log-likelihoods, when precomputed for every example of the batch. */
  refChosen: Float64Array | null;
  refRejected: Float64Array | null;
}

/**
 * Which encoded DPO examples fit `maxLen` tokens (the prompt and the longer completion, less the
 * last token, which is never fed); the rest are refused by `overflow` 'error' (the message names
 * the example by `what` and the bound by `limit`) or counted by 'skip'. Never truncated.
 */
export function fitDpo(
  examples: readonly DpoExample[],
  maxLen: number,
  overflow: 'error' | 'skip',
  what: (i: number) => string,
  limit: string,
): { kept: number[]; skipped: number } {
  const kept: number[] = [];
  examples.forEach((e, i) => {
    const n = e.prompt.length + Math.max(e.chosen.length, e.rejected.length);
    if (n - 1 <= maxLen) kept.push(i);
    else if (overflow === 'error')
      throw new Error(
        `${what(i)}: ${n} tokens (prompt ${e.prompt.length} + longer completion ${n - e.prompt.length}), more than ${limit}; set overflow: skip to drop such pairs (never truncated)`,
      );
  });
  return { kept, skipped: examples.length - kept.length };
}

export function collateDpo(examples: readonly DpoExample[], padId: number, maxSeqLen = Infinity): DpoBatch {
  const rows = [
    ...examples.map((e) => completionExample(e.prompt, e.chosen)),
    ...examples.map((e) => completionExample(e.prompt, e.rejected)),
  ];
  const pre = examples.every((e) => e.refChosen !== undefined && e.refRejected !== undefined);
  return {
    lm: padBatch(rows, padId, maxSeqLen),
    pairs: examples.length,
    chosenTokens: Float64Array.from(examples, (e) => e.chosen.length),
    refChosen: pre ? Float64Array.from(examples, (e) => e.refChosen!) : null,
    refRejected: pre ? Float64Array.from(examples, (e) => e.refRejected!) : null,
  };
}

/** Per row of an LM batch, the sum of the trained tokens' log-probs: (R*T) -> (R, 1), on the tape. */
export function sequenceLogprobs(model: Llama, b: LmBatch): Tensor {
  const tok = model.tokenLogprobs(b.ids, b.targets, b.batch, b.seqLen); // (R*T), 0 where masked
  return sumRows(tok.reshape([b.batch, b.seqLen])).reshape([b.batch, 1]); // (R, 1)
}

const range = (from: number, n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => from + i);

/** The reference's sequence log-likelihoods for a batch, without gradients: chosen (B), rejected (B). */
export function referenceLogprobs(ref: Llama, b: DpoBatch): { chosen: Float64Array; rejected: Float64Array } {
  const s = noGrad(() => sequenceLogprobs(ref, b.lm).data); // (2B)
  const B = b.pairs;
  return { chosen: Float64Array.from(s.subarray(0, B)), rejected: Float64Array.from(s.subarray(B, 2 * B)) };
}

/**
 * The DPO loss of a batch under `policy` (mean over pairs) and TRL's reward metrics. The
 * reference log-likelihoods come from the batch (precomputed) or from `ref` (per batch, noGrad).
 */
export function dpoLoss(policy: Llama, b: DpoBatch, beta: number, ref: Llama | null = null, nllWeight = 0): LossOutput {
  const B = b.pairs;
  let refC = b.refChosen;
  let refR = b.refRejected;
  if (!refC || !refR) {
    if (!ref) throw new Error('dpoLoss: the batch has no precomputed reference log-likelihoods and no reference model was given');
    ({ chosen: refC, rejected: refR } = referenceLogprobs(ref, b));
  }
  const seq = sequenceLogprobs(policy, b.lm); // (2B, 1)
  const pc = gatherRows(seq, range(0, B)); // (B, 1) log π(y_w|x)
  const pr = gatherRows(seq, range(B, B)); // (B, 1) log π(y_l|x)
  const refDiff = new Tensor(
    Float32Array.from({ length: B }, (_, i) => refC![i]! - refR![i]!),
    [B, 1],
  ); // constant
  const logits = scale(sub(sub(pc, pr), refDiff), beta); // (B, 1)
  const dpo = scale(mean(logSigmoid(logits)), -1);
  const perToken = new Tensor(
    Float32Array.from(b.chosenTokens, (n) => 1 / n),
    [B, 1],
  ); // constant
  const loss = nllWeight > 0 ? add(dpo, scale(mean(mul(pc, perToken)), -nllWeight)) : dpo;
  let nll = 0;
  for (let i = 0; i < B; i++) nll -= pc.data[i]! / b.chosenTokens[i]!;

  let rc = 0;
  let rr = 0;
  let acc = 0;
  let lc = 0;
  let lr = 0;
  for (let i = 0; i < B; i++) {
    const c = beta * (pc.data[i]! - refC[i]!);
    const r = beta * (pr.data[i]! - refR[i]!);
    rc += c;
    rr += r;
    acc += c > r ? 1 : 0;
    lc += pc.data[i]!;
    lr += pr.data[i]!;
  }
  return {
    loss,
    metrics: {
      'rewards/chosen': rc / B,
      'rewards/rejected': rr / B,
      'rewards/margins': (rc - rr) / B,
      'rewards/accuracies': acc / B,
      'logps/chosen': lc / B,
      'logps/rejected': lr / B,
      'nll/chosen': nll / B,
    },
  };
}

/**
 * Fills refChosen/refRejected of every example with the reference's log-likelihoods (noGrad,
 * `batchSize` pairs per forward). Afterwards the reference model is no longer needed.
 */
export function precomputeReference(ref: Llama, examples: DpoExample[], padId: number, batchSize: number): void {
  for (let s = 0; s < examples.length; s += batchSize) {
    const part = examples.slice(s, s + batchSize);
    const r = referenceLogprobs(ref, collateDpo(part, padId, ref.config.maxSeqLen));
    part.forEach((e, i) => {
      e.refChosen = r.chosen[i]!;
      e.refRejected = r.rejected[i]!;
    });
  }
}

export interface DpoTaskOptions {
  beta: number;
  batchSize: number;
  seed: number;
  padId: number;
  /** Per-batch reference (when examples carry no precomputed log-likelihoods). */
  ref?: Llama | null;
  /** RPO's weight on the chosen completion's per-token NLL (0: plain DPO). */
  nllWeight?: number;
}

/** The shared loop's task for DPO on `examples` (pair-mean loss: weight = pairs). */
export function dpoTask(
  policy: Llama,
  examples: readonly DpoExample[],
  o: DpoTaskOptions,
): Omit<TrainTask<DpoBatch>, 'saveModel' | 'evaluate' | 'validate'> {
  const stream = new ShuffledStream(examples, (items) => collateDpo(items, o.padId, policy.config.maxSeqLen), {
    batchSize: o.batchSize,
    seed: o.seed,
    length: (e) => e.prompt.length + Math.max(e.chosen.length, e.rejected.length),
  });
  return {
    params: policy.params,
    stream,
    loss: (b) => dpoLoss(policy, b, o.beta, o.ref ?? null, o.nllWeight ?? 0),
    weight: (b) => b.pairs,
    tokens: (b) => b.lm.batch * b.lm.seqLen,
    batchShape: { rows: 2 * o.batchSize, seqLen: policy.config.maxSeqLen }, // chosen and rejected rows
  };
}

/**
 * The held-out DPO validation (plain DPO loss, no NLL term, so every setting is compared on the
 * same objective): val/loss, val/rewards/accuracies, val/rewards/margins, val/logps/chosen,
 * val/logps/rejected, val/nll/chosen, pair-weighted over fixed batches of `examples`.
 */
export function dpoValidation(
  policy: Llama,
  examples: readonly DpoExample[],
  o: Pick<DpoTaskOptions, 'beta' | 'batchSize' | 'padId' | 'ref'>,
): Validation {
  const sorted = [...examples].sort(
    (a, b) => a.prompt.length + a.chosen.length + a.rejected.length - (b.prompt.length + b.chosen.length + b.rejected.length),
  );
  const batches = chunked(sorted, o.batchSize, (part) => collateDpo(part, o.padId, policy.config.maxSeqLen));
  return heldOutValidation(
    (b) => dpoLoss(policy, b, o.beta, o.ref ?? null),
    (b) => b.pairs,
    batches,
  );
}
