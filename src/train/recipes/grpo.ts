// `grpo`: the judge trained online by RL with a verifiable reward (J1, Whitehouse et al. 2025,
// arXiv 2505.10320; GRPO from DeepSeekMath, arXiv 2402.03300). Each update: for every pair of the
// micro-batch, in both orders, the current model samples k CoT rationales (one group per pair
// and order, through src/judge's CoT prompt and verdict parser, as `genrm eval` judges); each
// rationale earns 1 for the right verdict and 0 for a wrong one or none (`reward consistent`:
// J1's pairing of the two orders); the loss (./grpoLoss.ts) raises the likelihood of rationales
// above their group's mean reward and lowers the rest. STaR-DPO samples once per iteration and
// trains offline; here every update samples from the model being trained.
//
// Early stopping watches the held-out pairs' greedy CoT verdict error, as the other CoT recipes
// do; `evaluate` logs the same on the eval pairs (the held-out reward curve). Sampling is seeded
// by the trainer's per-micro-batch rng, so a resumed run draws the same rationales and ends with
// the same weights as an uninterrupted one.
import { z } from 'zod';
import type { PreferencePair } from '../../data/pair.js';
import { noGrad, type Tensor } from '../../engine/autograd/index.js';
import type { Llama } from '../../engine/model/index.js';
import { generate } from '../../engine/sampling/index.js';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import { PAIR_SPEC, type PairOrder } from '../../judge/pairwise.js';
import { completionExample, holdOutGroups, padBatch, ShuffledStream, type LmExample } from '../batches.js';
import type { StepContext, TrainTask } from '../trainer.js';
import { MAX_BATCH, MAX_STEPS } from '../config.js';
import { earlyStopOf, loopOf, recipeSchema } from './config.js';
import { bothOrders, cotAccuracy, cotErrorValidation, fittingPairs } from './evalJudge.js';
import { groupAdvantages, grpoLoss, pairRewards, type GrpoRow } from './grpoLoss.js';
import { prepare } from './harness.js';
import { loadBase } from './model.js';
import { defineRecipe } from './registry.js';
import { withReplay } from './replay.js';

export const GrpoSchema = recipeSchema({
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(MAX_BATCH)
    .default(2)
    .describe('Pairs per micro-batch, each sampled k times in both orders. 2: 2 × 2 × 8 = 32 rationales per update at the default k.'),
  k: z
    .number()
    .int()
    .min(2)
    .max(1024)
    .default(8)
    .describe(
      "Rationales per group, one group per (pair, order) (TRL's num_generations). 8, STaR's k here: a group of a pair the judge gets right 80% of the time still holds a wrong one about 5 times in 6, so its advantages are not all zero.",
    ),
  lr: z
    .number()
    .positive()
    .max(1)
    .default(3e-5)
    .describe("Peak learning rate. 3e-5, star-dpo's: like DPO, a policy-gradient step moves whole sampled sequences."),
  beta: z
    .number()
    .min(0)
    .max(100)
    .default(0)
    .describe(
      "Coefficient of the k3 KL penalty to the frozen base (TRL's beta). 0, TRL's default (Dr. GRPO and DAPO drop it with verifiable rewards): replay anchors the model to pretraining instead, and no reference forward pass is needed.",
    ),
  reward: z
    .enum(['right', 'consistent'])
    .default('right')
    .describe(
      "The reward of a rationale: 'right' is 1 for the right verdict; 'consistent' is 1 when the i-th samples of both orders are right (J1's consistency reward). 'right': the paper's correctness signal, one sample at a time.",
    ),
  scaleRewards: z
    .enum(['group', 'none'])
    .default('group')
    .describe(
      "Advantage scaling (TRL's scale_rewards): 'group' divides the centred rewards by the group's std (GRPO, Shao et al. 2024, arXiv 2402.03300); 'none' only centres them (Dr. GRPO, Liu et al. 2025, arXiv 2503.20783).",
    ),
  lossType: z
    .enum(['dapo', 'grpo'])
    .default('dapo')
    .describe(
      "Loss normalisation (TRL's loss_type): 'dapo' averages over all completion tokens of the batch (DAPO, Yu et al. 2025, arXiv 2503.14476), so long rationales are not down-weighted; 'grpo' averages per completion, then over completions.",
    ),
  temperature: z
    .number()
    .gt(0)
    .max(5)
    .default(1.0)
    .describe('Sampling temperature of the rollouts. 1.0: the policy as it is, so the samples are on-policy.'),
  topP: z
    .number()
    .gt(0)
    .max(1)
    .default(1.0)
    .describe("Nucleus mass of the rollouts. 1.0, no truncation, so the samples follow the policy's own distribution."),
  maxTokens: z
    .number()
    .int()
    .min(1)
    .max(65_536)
    .default(256)
    .describe("Longest rationale in tokens (TRL's max_completion_length). 256, as the STaR sampler."),
  evalCotPairs: z
    .number()
    .int()
    .min(0)
    .max(100_000)
    .default(32)
    .describe('Held-out pairs judged greedily with CoT (both orders) at each evaluation. 32: generation is the slow part.'),
  steps: z
    .number()
    .int()
    .min(1)
    .max(MAX_STEPS)
    .default(300)
    .describe(
      "Most updates, with early stopping. 300: each update samples 2 × 2 × k rationales, so an update costs many of the other recipes' updates.",
    ),
});
export type GrpoConfig = z.infer<typeof GrpoSchema>;

const ORDERS: readonly PairOrder[] = [0, 1];
/** The right parse per order: order 1 shows the chosen answer first ([[A]] = 'pos'), order 2 second. */
const RIGHT = { 0: 'pos', 1: 'neg' } as const;

/** A micro-batch: its pairs; `tokens` (forward-pass tokens) is filled in by the loss. */
export interface GrpoBatch {
  pairs: PreferencePair[];
  tokens: number;
}

export interface GrpoTaskOptions extends Pick<
  GrpoConfig,
  'batchSize' | 'k' | 'beta' | 'reward' | 'scaleRewards' | 'lossType' | 'temperature' | 'topP' | 'maxTokens' | 'seed'
> {
  /** The frozen reference (only with beta > 0). */
  ref: Llama | null;
}

/**
 * The GRPO loss of sampled groups (`drawn[g]`: group g's completions of `prompts[g]`, with
 * `advantages[g][i]`): completions with a zero advantage carry no gradient (with beta 0) and are
 * left out of the forward pass; the normalisation still counts every completion. Shared by the
 * judge's GRPO (this recipe) and the policy's (train/policy).
 */
export function groupPolicyLoss(
  model: Llama,
  tok: Tokenizer,
  prompts: readonly (readonly number[])[],
  drawn: readonly (readonly { tokens: readonly number[] }[])[],
  advantages: readonly (readonly number[])[],
  o: { beta: number; ref: Llama | null; lossType: GrpoConfig['lossType'] },
): { loss: Tensor; kl: number; tokens: number; completionTokens: number } {
  const T = model.config.maxSeqLen;
  const rows: { ex: LmExample; advantage: number }[] = [];
  let completionTokens = 0;
  let completions = 0;
  drawn.forEach((g, s) =>
    g.forEach((smp, i) => {
      completions++;
      completionTokens += smp.tokens.length;
      const a = advantages[s]![i]!;
      if (smp.tokens.length > 0 && (a !== 0 || o.beta > 0)) rows.push({ ex: completionExample(prompts[s]!, smp.tokens), advantage: a });
    }),
  );
  // Nothing to learn from: one row with weight zero keeps the update well-formed.
  const first = drawn[0]![0]!.tokens;
  const keep = rows.length > 0 ? rows : [{ ex: completionExample(prompts[0]!, first.length ? first : [tok.eotId]), advantage: 0 }];
  const lm = padBatch(
    keep.map((r) => r.ex),
    tok.padId,
    T,
  );
  const lp = model.tokenLogprobs(lm.ids, lm.targets, lm.batch, lm.seqLen); // (R*T) on the tape
  const ref = o.beta > 0 ? noGrad(() => o.ref!.tokenLogprobs(lm.ids, lm.targets, lm.batch, lm.seqLen).data) : null;
  const grpoRows: GrpoRow[] = keep.map((r, ri) => {
    const pos: number[] = [];
    for (let t = 0; t < lm.seqLen; t++) if (lm.targets[ri * lm.seqLen + t]! >= 0) pos.push(ri * lm.seqLen + t);
    return { advantage: rows.length > 0 ? r.advantage : 0, positions: Int32Array.from(pos) };
  });
  const out = grpoLoss(lp, ref, grpoRows, {
    beta: o.beta,
    lossType: o.lossType,
    completions,
    completionTokens: Math.max(1, completionTokens),
  });
  return { ...out, tokens: lm.batch * lm.seqLen, completionTokens };
}

/** The GRPO training task over some pairs: sampling, rewards and the loss in each micro-batch. */
export function grpoTask(model: Llama, tok: Tokenizer, pairs: readonly PreferencePair[], o: GrpoTaskOptions): TrainTask<GrpoBatch> {
  if (o.beta > 0 && !o.ref) throw new Error('grpo: beta > 0 needs a reference model');
  const stream = new ShuffledStream(pairs, (items: PreferencePair[]): GrpoBatch => ({ pairs: items, tokens: 0 }), {
    batchSize: o.batchSize,
    seed: o.seed,
  });
  const loss = (b: GrpoBatch, ctx: StepContext) => {
    // 1. k rationales per (pair, order) from the model as it is now.
    const prompts = b.pairs.flatMap((p) => bothOrders(tok, p, 'cot')); // (2P) prompts: pair j's orders at 2j, 2j+1
    const drawn = noGrad(() =>
      generate(model, tok, prompts, { n: o.k, temperature: o.temperature, topP: o.topP, maxTokens: o.maxTokens, seed: ctx.rng.nextU32() }),
    );
    // 2. Rewards and group advantages.
    const verdicts = drawn.map((g) => g.map((s) => PAIR_SPEC.parse(s.text)));
    const rewards: number[][] = [];
    b.pairs.forEach((_, j) => {
      const right = ORDERS.map((ord) => verdicts[2 * j + ord]!.map((v) => v === RIGHT[ord])) as [boolean[], boolean[]];
      rewards.push(...pairRewards(right, o.reward));
    });
    const advantages = rewards.map((r) => groupAdvantages(r, o.scaleRewards));
    // 3. The loss on the completions that carry a gradient.
    const out = groupPolicyLoss(model, tok, prompts, drawn, advantages, o);
    b.tokens = out.tokens;
    // Metrics: the mean reward (the training reward curve), how many groups teach nothing, no-verdict rate, length.
    const flat = rewards.flat();
    const flatVerdicts = verdicts.flat();
    const zeroStd = rewards.filter((r) => r.every((x) => x === r[0])).length;
    return {
      loss: out.loss,
      metrics: {
        reward: flat.reduce((a, x) => a + x, 0) / flat.length,
        'groups/zeroStd': zeroStd / rewards.length,
        invalid: flatVerdicts.filter((v) => v === 'invalid').length / flatVerdicts.length,
        completionLen: out.completionTokens / (drawn.length * o.k),
        ...(o.beta > 0 ? { kl: out.kl } : {}),
      },
    };
  };
  return { params: model.params, stream, loss, tokens: (b) => b.tokens };
}

/** Room a CoT prompt must leave in the context for its rationale to reach a verdict at all. */
const MIN_ROOM = 16;

export const grpo = defineRecipe<GrpoConfig>({
  name: 'grpo',
  description:
    'GRPO (J1): the judge samples k CoT rationales per pair and order each update; reward 1 for the right verdict (or both orders right: --reward consistent)',
  schema: GrpoSchema,
  async run(c, ctx) {
    const p = prepare('grpo', c, ctx);
    const tok = p.tokenizer;
    const T = p.model.config.maxSeqLen;
    const fit = fittingPairs(
      tok,
      p.model,
      p.data.train.filter((x) => !x.tie),
      'cot',
      MIN_ROOM,
    );
    const usable = fit.pairs;
    const tooLong = fit.skipped;
    if (tooLong) {
      if (c.overflow === 'error')
        throw new Error(
          `grpo: ${tooLong} training pairs leave fewer than ${MIN_ROOM} tokens of the ${T}-token context for a rationale; set overflow: skip (a --config key) to leave them out`,
        );
      ctx.say(`grpo: ${tooLong} training pairs too long for a rationale in the context were left out`);
    }
    if (usable.length === 0) throw new Error(`grpo: no training pair fits the context of ${T} tokens with room for a rationale`);
    const split = earlyStopOf(c) ? holdOutGroups(usable, (x) => x.id, c.valPairs, c.seed) : { train: usable, val: [] };
    const ref = c.beta > 0 ? loadBase(c.base).model.freeze() : null;
    const task = grpoTask(p.model, tok, split.train, { ...c, ref });
    task.evaluate = () => cotAccuracy(p.model, tok, p.data.eval, { maxPairs: c.evalCotPairs, maxTokens: c.maxTokens });
    task.saveModel = p.saveModel('lm');
    if (split.val.length) task.validate = cotErrorValidation(p.model, tok, split.val, c.maxTokens, 'grpo');
    const loop = loopOf(c);
    const run =
      c.replay > 0
        ? withReplay(task, p.model, {
            spec: loop.replay,
            tokenizer: tok,
            batchSize: c.batchSize,
            microBatches: c.steps * c.gradAccum,
            seed: c.seed,
          })
        : task;
    const { r, firstLoss } = p.train(run as TrainTask<unknown>);
    return p.result(r, firstLoss, {
      pairs: split.train.length,
      valPairs: split.val.length,
      tooLong,
      rationalesPerUpdate: 2 * c.batchSize * c.gradAccum * c.k,
    });
  },
});
