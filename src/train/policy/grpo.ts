// GRPO for a policy (beyond the paper): the model being trained answers prompts k times, a reward
// function scores each group (a judge, or PrefWorld's gold for the reference run), and the group
// loss of the judge's GRPO (recipes/grpo.ts groupPolicyLoss: group-relative advantages, the
// exact policy gradient at one update per sample) moves the policy. This is the loop behind
// repro's overoptimisation curves (Gao et al., arXiv 2210.10760): how far a policy trained on a
// judge's reward gets in gold terms. It is async because rewards come from a LanguageModel judge
// (the judge's GRPO is synchronous: its reward is a verdict parse). No checkpoints: a run is a
// few minutes, and the curve, not the model, is the output.
import { backward, noGrad } from '../../engine/autograd/index.js';
import type { Llama } from '../../engine/model/index.js';
import { AdamW } from '../../engine/optim.js';
import { Prng } from '../../engine/prng.js';
import { generate } from '../../engine/sampling/index.js';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import { groupAdvantages, type GrpoScaling } from '../recipes/grpoLoss.js';
import { groupPolicyLoss } from '../recipes/grpo.js';
import { lrAt } from '../schedule.js';

export interface PolicyGrpoOptions {
  /** Updates. */
  steps: number;
  /** Prompts per update, each answered k times (one group each). */
  promptsPerStep: number;
  /** Answers per group (TRL's num_generations). */
  k: number;
  /** Peak lr, after `warmupSteps` of linear warmup, then constant (a short run: no decay). */
  lr: number;
  warmupSteps: number;
  /** 1.0: on-policy samples. */
  temperature: number;
  maxTokens: number;
  /** Generation ends before any of these (the answer's end). */
  stop: string[];
  scaleRewards: GrpoScaling;
  lossType: 'dapo' | 'grpo';
  seed: number;
  /** `onEval` runs before the first update, every `evalEvery` updates and after the last. */
  evalEvery: number;
}

/** A sampled answer as the reward sees it. */
export interface PolicySample {
  text: string;
  finishReason: 'stop' | 'length';
}

/** Per group (prompt index, its k samples): k rewards. */
export type PolicyReward = (groups: readonly { prompt: number; samples: readonly PolicySample[] }[]) => Promise<number[][]>;

export interface PolicyStepMetrics {
  step: number;
  reward: number;
  /** Groups whose rewards were all equal (no gradient). */
  zeroStd: number;
  completionLen: number;
  gradNorm: number;
}

/**
 * Trains `model` in place. `prompts` are token ids (beginning of sequence first); the reward
 * sees each group's texts. Prompts are visited in seeded shuffled epochs.
 */
export async function trainPolicyGrpo(
  model: Llama,
  tok: Tokenizer,
  prompts: readonly (readonly number[])[],
  reward: PolicyReward,
  o: PolicyGrpoOptions,
  hooks: { onEval?: (step: number) => Promise<void>; onStep?: (m: PolicyStepMetrics) => void } = {},
): Promise<PolicyStepMetrics[]> {
  if (prompts.length === 0) throw new Error('policy GRPO: no prompts');
  const rng = new Prng(o.seed);
  const opt = new AdamW(model.params.values(), { lr: o.lr, weightDecay: 0 });
  let order: number[] = [];
  const next = (): number => {
    if (order.length === 0) {
      order = prompts.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
    }
    return order.pop()!;
  };
  const log: PolicyStepMetrics[] = [];
  await hooks.onEval?.(0);
  for (let step = 0; step < o.steps; step++) {
    const idx = Array.from({ length: Math.min(o.promptsPerStep, prompts.length) }, next);
    const ids = idx.map((i) => prompts[i]!);
    const drawn = noGrad(() =>
      generate(model, tok, ids, { n: o.k, temperature: o.temperature, maxTokens: o.maxTokens, stop: o.stop, seed: rng.nextU32() }),
    );
    const rewards = await reward(
      idx.map((p, g) => ({ prompt: p, samples: drawn[g]!.map((s) => ({ text: s.text, finishReason: s.finishReason })) })),
    );
    const advantages = rewards.map((r) => groupAdvantages(r, o.scaleRewards));
    opt.setLr(lrAt(step, { lr: o.lr, totalSteps: o.steps, warmupSteps: o.warmupSteps, minLrRatio: 1 }));
    opt.zeroGrad();
    const out = groupPolicyLoss(model, tok, ids, drawn, advantages, { beta: 0, ref: null, lossType: o.lossType });
    backward(out.loss);
    const { gradNorm } = opt.step();
    const flat = rewards.flat();
    const m: PolicyStepMetrics = {
      step: step + 1,
      reward: flat.reduce((a, x) => a + x, 0) / flat.length,
      zeroStd: rewards.filter((r) => r.every((x) => x === r[0])).length / rewards.length,
      completionLen: out.completionTokens / (ids.length * o.k),
      gradNorm,
    };
    log.push(m);
    hooks.onStep?.(m);
    if ((step + 1) % o.evalEvery === 0 || step + 1 === o.steps) await hooks.onEval?.(step + 1);
  }
  return log;
}
