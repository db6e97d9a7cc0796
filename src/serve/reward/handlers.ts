// The reward API over the judge (src/judge/), for RL loops, best-of-N and evaluation harnesses:
//
//   POST /v1/judge   {prompt, a, b, mode?, votes?, swap?} -> {p_a, verdict, votes?, rationales?}
//   POST /v1/rank    {prompt, candidates[]}               -> {scores[], best, order[]}
//   POST /v1/reward  {prompts[], responses[], references?} -> {rewards[]}
//   POST /get_reward OpenRLHF's serve_rm protocol          -> {rewards[], scores[], extra_logs}
//
// The judge runs here, on the HTTP thread; every model call goes through WorkerModel into the
// worker's queue, where the jobs of all requests in flight are batched together. What the HTTP
// thread does per request is bounded and sliced: /v1/rank judges at most 32 candidates, and
// /v1/reward at most 4 pairs per response, 128 responses per prompt (judge/ranking.ts rewardSchedule, schemas.ts MAX_GROUP), one prompt group at a
// time with a turn of the event loop between groups, so rendering thousands of judge prompts and
// fitting Bradley–Terry never holds /health or the deadline timer for more than a few ms.
import { setImmediate as yieldLoop } from 'node:timers/promises';
import type { JudgeConfig } from '../../judge/config.js';
import { judgePairs, type PairJudgment } from '../../judge/pairwise.js';
import { verifyAnswers } from '../../judge/pointwise.js';
import { rankCandidates, rewardSchedule } from '../../judge/ranking.js';
import { groupRewards, rewardsVsReference } from '../../judge/rewards.js';
import type { PairTemplate, PointTemplate } from '../../judge/templates.js';
import { readJson } from '../body.js';
import { HttpError } from '../errors.js';
import type { ModelWorker } from '../modelWorker.js';
import type { PromptGate } from '../promptGate.js';
import type { Ctx } from '../router.js';
import { sendJson } from '../router.js';
import { WorkerModel } from '../workerModel.js';
import { GetRewardRequest, JudgeRequest, MAX_GROUP, RankRequest, RewardRequest } from './schemas.js';

export interface RewardDeps {
  worker: ModelWorker;
  gate: PromptGate;
  bodyLimit: number;
  /** The server's judge defaults; a request's mode/votes/swap/max_tokens/seed override them. */
  judge: JudgeConfig;
  pair: PairTemplate;
  point: PointTemplate;
}

interface Overrides {
  mode?: 'direct' | 'cot' | undefined;
  votes?: number | undefined;
  swap?: boolean | undefined;
  max_tokens?: number | undefined;
  seed?: number | undefined;
}

function configFor(d: RewardDeps, b: Overrides): JudgeConfig {
  d.gate.checkMaxTokens(b.max_tokens, 'max_tokens');
  const base = d.judge;
  return {
    ...base,
    ...(b.mode !== undefined ? { mode: b.mode } : {}),
    ...(b.votes !== undefined ? { votes: b.votes } : {}),
    ...(b.swap !== undefined ? { swap: b.swap } : {}),
    ...(b.max_tokens !== undefined ? { maxTokens: b.max_tokens } : {}),
    ...(b.seed !== undefined ? { seed: b.seed } : {}),
  };
}

/** CoT votes and rationales in terms of the original answers (order 2 showed B first). */
function cotDetail(j: PairJudgment) {
  const votes = { a: 0, b: 0, invalid: 0 };
  const rationales: { order: 'ab' | 'ba'; text: string; verdict: 'A' | 'B' | 'invalid' }[] = [];
  j.orders.forEach((o, k) => {
    for (const r of o.cot?.rationales ?? []) {
      const first = r.verdict === 'pos';
      const verdict = r.verdict === 'invalid' ? 'invalid' : first === (k === 0) ? 'A' : 'B';
      votes[verdict === 'A' ? 'a' : verdict === 'B' ? 'b' : 'invalid']++;
      rationales.push({ order: k === 0 ? 'ab' : 'ba', text: r.text, verdict });
    }
  });
  return { votes, rationales };
}

export function judgeHandler(d: RewardDeps) {
  return async (ctx: Ctx): Promise<void> => {
    const b = await readJson(ctx.req, JudgeRequest, d.bodyLimit);
    const cfg = configFor(d, b);
    const [j] = await judgePairs(new WorkerModel(d.worker, ctx.signal), [{ prompt: b.prompt, answerA: b.a, answerB: b.b }], d.pair, cfg);
    const out: Record<string, unknown> = { p_a: j!.pA, verdict: j!.verdict, mode: cfg.mode, swap: cfg.swap };
    if (j!.positionBias !== undefined) out.position_bias = j!.positionBias;
    if (cfg.mode === 'cot') Object.assign(out, cotDetail(j!));
    sendJson(ctx.res, 200, out);
  };
}

export function rankHandler(d: RewardDeps) {
  return async (ctx: Ctx): Promise<void> => {
    const b = await readJson(ctx.req, RankRequest, d.bodyLimit);
    const r = await rankCandidates(new WorkerModel(d.worker, ctx.signal), b.prompt, b.candidates, d.pair, configFor(d, b));
    sendJson(ctx.res, 200, { scores: r.scores, best: r.best, order: r.order });
  };
}

/**
 * Rewards for (prompt, response) items: P(response beats its reference) in [0, 1] where a
 * reference is given; otherwise the Bradley–Terry log-strength (mean 0) within the group of items
 * with the same prompt and no reference, from rewardSchedule's pairs (every pair up to 9
 * responses, 8 opponents each beyond). A group of one has nothing to be compared with: 0, the
 * group mean; a group over MAX_GROUP is a 400. Groups start one per turn of the event loop, and
 * all are judged concurrently, so their jobs share the worker's batches.
 */
export function rewardHandler(d: RewardDeps) {
  return async (ctx: Ctx): Promise<void> => {
    const b = await readJson(ctx.req, RewardRequest, d.bodyLimit);
    const model = new WorkerModel(d.worker, ctx.signal);
    const cfg = configFor(d, b);
    const rewards = new Array<number>(b.prompts.length).fill(0);
    const withRef: number[] = [];
    const groups = new Map<string, number[]>();
    b.prompts.forEach((p, i) => {
      if (b.references?.[i] != null) return void withRef.push(i);
      const g = groups.get(p);
      if (g) g.push(i);
      else groups.set(p, [i]);
    });
    for (const idx of groups.values())
      if (idx.length > MAX_GROUP)
        throw new HttpError(
          400,
          `"prompts": ${idx.length} items share the prompt of item ${idx[0]} and have no reference, more than the ${MAX_GROUP} a group may have (rewards within a group come from comparing its responses); split the group across requests, or give references`,
          'invalid_request_error',
          'prompts',
          'group_too_large',
        );
    const work: Promise<void>[] = withRef.map(async (i) => {
      const [r] = await rewardsVsReference(model, b.prompts[i]!, [b.responses[i]!], b.references![i]!, d.pair, cfg);
      rewards[i] = r!;
    });
    for (const [prompt, idx] of groups) {
      if (idx.length < 2) continue;
      await yieldLoop();
      if (ctx.signal.aborted) break; // the router has answered (504) or the client left
      work.push(
        groupRewards(
          model,
          prompt,
          idx.map((i) => b.responses[i]!),
          d.pair,
          cfg,
          rewardSchedule(idx.length),
        ).then((s) => idx.forEach((i, k) => (rewards[i] = s[k]!))),
      );
    }
    await Promise.all(work);
    sendJson(ctx.res, 200, { rewards });
  };
}

/**
 * OpenRLHF's remote reward model (openrlhf/cli/serve_rm.py, POST /get_reward): the body is
 * {query, prompts, labels}, each query the prompt followed by the response; the reply is
 * {rewards, scores, extra_logs} with one number per query (serve_rm returns the same list as
 * rewards and scores). Here the response is the query with prompts[i] taken off its front; with a
 * label (a reference answer) the reward is P(response beats the label), without one the
 * pointwise verifier's P(Yes) for the response as an answer to the prompt.
 */
export function getRewardHandler(d: RewardDeps) {
  return async (ctx: Ctx): Promise<void> => {
    const b = await readJson(ctx.req, GetRewardRequest, d.bodyLimit);
    const model = new WorkerModel(d.worker, ctx.signal);
    const items = b.query.map((q, i) => {
      const prompt = b.prompts?.[i] ?? '';
      if (!q.startsWith(prompt))
        throw new HttpError(
          400,
          `"query[${i}]" does not start with "prompts[${i}]"; each query must be its prompt followed by the response`,
          'invalid_request_error',
          `query[${i}]`,
        );
      const label = b.labels?.[i];
      return { prompt, response: q.slice(prompt.length), label: label === undefined || label === null || label === '' ? null : label };
    });
    const cfg = d.judge;
    const pairIdx = items.map((it, i) => (it.label !== null ? i : -1)).filter((i) => i >= 0);
    const pointIdx = items.map((it, i) => (it.label === null ? i : -1)).filter((i) => i >= 0);
    const rewards = new Array<number>(items.length).fill(0);
    await Promise.all([
      pairIdx.length === 0
        ? Promise.resolve()
        : judgePairs(
            model,
            pairIdx.map((i) => ({ prompt: items[i]!.prompt, answerA: items[i]!.response, answerB: items[i]!.label! })),
            d.pair,
            cfg,
          ).then((js) => js.forEach((j, k) => (rewards[pairIdx[k]!] = j.pA))),
      pointIdx.length === 0
        ? Promise.resolve()
        : verifyAnswers(
            model,
            pointIdx.map((i) => ({ prompt: items[i]!.prompt, answer: items[i]!.response })),
            d.point,
            cfg,
          ).then((js) => js.forEach((j, k) => (rewards[pointIdx[k]!] = j.pYes))),
    ]);
    // extra_logs: per-query numbers OpenRLHF logs beside the reward (1 = judged against its label).
    sendJson(ctx.res, 200, { rewards, scores: rewards, extra_logs: { genrm_vs_label: items.map((it) => (it.label !== null ? 1 : 0)) } });
  };
}
