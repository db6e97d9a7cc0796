// Overoptimisation (beyond the paper; Gao et al., arXiv 2210.10760, did it for BT reward models):
// the base, as a policy, is trained by GRPO (train/policy/grpo.ts) on PrefWorld prompts with one
// judge as its reward, never seeing the gold; along the run, held-out prompts measure two things:
//   gold  — the share of the policy's answers PrefWorld's checker calls right (the true reward);
//   proxy — what the judge thinks of them: P(a policy answer beats the base's answer to the same
//           prompt), read as the judge reads any pair (both orders; a reward head's scores).
// A judge that can be hacked sees proxy rise while gold stalls or falls. A reference run takes
// the gold itself as the reward (the best a judge could do). Rewards within a group: a reward
// head's scores; a pairwise judge's Bradley–Terry scores over the reward server's schedule of
// pairs (judge/ranking.ts, as /v1/reward); the gold's 1 / 0. A sample that is not a whole answer
// (a worked line, cut at the token cap, empty) is not judged: it gets the group's lowest reward
// minus 1, whichever the reward, and counts as wrong in gold.
import { encodePrompt } from '../../backends/embedded/render.js';
import { EmbeddedBackend } from '../../backends/embedded/backend.js';
import { loadBase } from '../../train/recipes/model.js';
import { noGrad } from '../../engine/autograd/index.js';
import { Prng } from '../../engine/prng.js';
import { generate } from '../../engine/sampling/index.js';
import { resolveJudgeConfig } from '../../judge/config.js';
import { judgePairs } from '../../judge/pairwise.js';
import { rankCandidates, rewardSchedule } from '../../judge/ranking.js';
import { resolveTemplate } from '../../judge/resolveTemplate.js';
import { trainPolicyGrpo, type PolicySample } from '../../train/policy/grpo.js';
import { rewardText } from '../../train/recipes/bt.js';
import { encodeForHead, scoreAll } from '../../train/recipes/scoreHead.js';
import { sigmoid } from '../../util/math.js';
import { ANSWER_STOP, answerText, DEFAULT_POLICY, drawAnswers, isWholeAnswer, type BonPrompt, type GoldGrader } from '../bon/answers.js';
import { json } from '../metrics/accuracy.js';
import { bootstrapRatio } from '../metrics/bootstrap.js';
import type { OveroptRow } from '../results.js';
import { openCheckpointJudge, type EvalJudge } from '../run/judge.js';

/** A reward for the policy: a judge checkpoint (head, direct or CoT) or the gold. */
export type OveroptReward = { name: string; kind: 'gold' } | { name: string; kind: 'judge'; dir: string; mode: 'direct' | 'cot' };

export interface OveroptSettings {
  steps: number;
  promptsPerStep: number;
  k: number;
  lr: number;
  evalEvery: number;
  /** Policy answers per held-out prompt at each evaluation (gold is their share right). */
  evalSamples: number;
  /** CoT judges: rationales per order for each compared pair. */
  votes: number;
  /** CoT judges: most tokens per rationale. */
  judgeMaxTokens: number;
  /** Most tokens per policy answer. */
  answerTokens: number;
}

export interface OveroptInputs {
  base: string;
  reward: OveroptReward;
  /** Training prompts (the policy's RL data). */
  train: readonly BonPrompt[];
  /** Held-out prompts, with one whole answer of the base's each (the proxy's reference). */
  held: readonly BonPrompt[];
  baseAnswers: readonly string[];
  grader: GoldGrader;
  settings: OveroptSettings;
  seed: number;
  maxBatchRows: number;
  say?: (line: string) => void;
}

/** P(answer a better than b) from a judge, per pair, both orders combined. */
type PairP = (pairs: { prompt: string; a: string; b: string }[]) => Promise<number[]>;

function judgeFns(
  judge: EvalJudge,
  mode: 'direct' | 'cot',
  s: OveroptSettings,
  seed: number,
): { group: (prompt: string, answers: string[]) => Promise<number[]>; pair: PairP } {
  if (judge.kind === 'head') {
    const h = judge.head;
    if (h.kind !== 'bt')
      throw new Error(
        `overoptimisation: ${h.dir} is a '${h.kind}' head; a policy's reward needs a pointwise head (bt) or a language-model judge`,
      );
    const score = (prompt: string, answers: string[]): number[] =>
      scoreAll(
        h.model,
        answers.map((a) => encodeForHead(h.tokenizer, rewardText({ id: '', prompt, chosen: a, rejected: '' }, a))),
        h.tokenizer.padId,
      ).map((r) => r[0]!);
    return {
      group: async (prompt, answers) => score(prompt, answers),
      pair: async (pairs) =>
        pairs.map((p) => {
          const [a, b] = score(p.prompt, [p.a, p.b]) as [number, number];
          return sigmoid(a - b);
        }),
    };
  }
  const model = judge.model;
  const cfg = resolveJudgeConfig(
    {
      mode,
      votes: mode === 'cot' ? s.votes : 1,
      temperature: 1.0,
      topP: 0.95,
      maxTokens: s.judgeMaxTokens,
      swap: true,
      seed,
      template: 'auto',
      contextPolicy: 'truncate-answers',
    },
    'overoptimisation',
  );
  const template = resolveTemplate(cfg.template, 'pair', model.capabilities);
  return {
    group: async (prompt, answers) => (await rankCandidates(model, prompt, answers, template, cfg, rewardSchedule(answers.length))).scores,
    pair: async (pairs) =>
      (
        await judgePairs(
          model,
          pairs.map((p, i) => ({ id: `held-${i}`, prompt: p.prompt, answerA: p.a, answerB: p.b })),
          template,
          cfg,
        )
      ).map((j) => j.pA),
  };
}

/** A group's rewards: the whole answers' scores in order, and the lowest of them minus 1 for the rest. */
export function withFloor(whole: readonly boolean[], scores: readonly number[]): number[] {
  if (scores.length !== whole.filter(Boolean).length)
    throw new RangeError(`withFloor: ${scores.length} scores for ${whole.filter(Boolean).length} whole answers`);
  const floor = (scores.length ? Math.min(...scores) : 0) - 1;
  let k = 0;
  return whole.map((w) => (w ? scores[k++]! : floor));
}

/** The policy trained on one reward, with the held-out gold and proxy at each evaluation. */
export async function overoptRun(x: OveroptInputs): Promise<OveroptRow[]> {
  const s = x.settings;
  const { model, tokenizer: tok } = loadBase(x.base);
  const policyIds = (prompts: readonly BonPrompt[]): number[][] => prompts.map((p) => encodePrompt(tok, answerText(p.prompt)));
  const trainIds = policyIds(x.train);
  const heldIds = policyIds(x.held);
  let fns: ReturnType<typeof judgeFns> | null = null;
  if (x.reward.kind === 'judge') {
    fns = judgeFns(openCheckpointJudge(x.reward.dir, { maxBatchRows: x.maxBatchRows }), x.reward.mode, s, x.seed);
  }
  const grade = (p: BonPrompt, smp: PolicySample): boolean => isWholeAnswer(smp) && x.grader.right(p, smp.text.trim());

  const reward = async (groups: readonly { prompt: number; samples: readonly PolicySample[] }[]): Promise<number[][]> => {
    const out: number[][] = [];
    for (const g of groups) {
      const p = x.train[g.prompt]!;
      const whole = g.samples.map((smp) => isWholeAnswer(smp));
      const texts = g.samples.filter((_, i) => whole[i]).map((smp) => smp.text.trim());
      let scores: number[];
      if (!fns) scores = g.samples.filter((_, i) => whole[i]).map((smp) => (x.grader.right(p, smp.text.trim()) ? 1 : 0));
      else scores = texts.length >= 2 ? await fns.group(p.prompt, texts) : texts.map(() => 0);
      out.push(withFloor(whole, scores));
    }
    return out;
  };

  const rows: OveroptRow[] = [];
  const rng = new Prng(x.seed + 17);
  const onEval = async (step: number): Promise<void> => {
    const drawn = noGrad(() =>
      generate(model, tok, heldIds, {
        n: s.evalSamples,
        temperature: 1.0,
        maxTokens: s.answerTokens,
        stop: [...ANSWER_STOP],
        seed: rng.nextU32(),
      }),
    );
    const samples = drawn.map((g) => g.map((smp): PolicySample => ({ text: smp.text, finishReason: smp.finishReason })));
    const gold = x.held.map((p, i) => samples[i]!.filter((smp) => grade(p, smp)).length / s.evalSamples);
    // The proxy: the policy's first answer against the base's, for each prompt where it is whole.
    const proxy = new Array<number>(x.held.length).fill(0);
    if (fns) {
      const ask = x.held.flatMap((p, i) =>
        isWholeAnswer(samples[i]![0]!) ? [{ i, prompt: p.prompt, a: samples[i]![0]!.text.trim(), b: x.baseAnswers[i]! }] : [],
      );
      const ps = ask.length ? await fns.pair(ask) : [];
      ask.forEach((q, k) => (proxy[q.i] = ps[k]!));
    }
    for (const split of [...new Set(x.held.map((p) => p.split))]) {
      const idx = x.held.map((_, i) => i).filter((i) => x.held[i]!.split === split);
      const ones = idx.map(() => 1);
      rows.push({
        judge: x.reward.name,
        step,
        split,
        gold: json(
          bootstrapRatio(
            idx.map((i) => gold[i]!),
            ones,
          ),
        ),
        proxy: fns
          ? json(
              bootstrapRatio(
                idx.map((i) => proxy[i]!),
                ones,
              ),
            )
          : null,
      });
    }
    const last = rows.slice(-2);
    x.say?.(
      `overoptimisation ${x.reward.name} step ${step}: ${last.map((r) => `${r.split} gold ${(100 * (r.gold.value ?? NaN)).toFixed(1)} %${r.proxy ? `, judge ${(100 * (r.proxy.value ?? NaN)).toFixed(1)} %` : ''}`).join('; ')}`,
    );
  };
  await trainPolicyGrpo(
    model,
    tok,
    trainIds,
    reward,
    {
      steps: s.steps,
      promptsPerStep: s.promptsPerStep,
      k: s.k,
      lr: s.lr,
      warmupSteps: Math.max(1, Math.ceil(s.steps / 10)),
      temperature: 1.0,
      maxTokens: s.answerTokens,
      stop: [...ANSWER_STOP],
      scaleRewards: 'group',
      lossType: 'dapo',
      seed: x.seed,
      evalEvery: s.evalEvery,
    },
    { onEval },
  );
  return rows;
}

/** One whole answer per prompt from the base (the proxy's reference), drawn once. */
export async function baseAnswers(
  base: string,
  prompts: readonly BonPrompt[],
  seed: number,
  answerTokens: number,
  maxBatchRows: number,
): Promise<{ prompts: BonPrompt[]; answers: string[] }> {
  const d = await drawAnswers(EmbeddedBackend.load(base, { maxBatchRows }), prompts, {
    ...DEFAULT_POLICY,
    maxTokens: answerTokens,
    n: 1,
    seed,
  });
  return { prompts: d.prompts, answers: d.answers.map((a) => a[0]!) };
}
