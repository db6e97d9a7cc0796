// Request schemas of the reward endpoints. Our own endpoints are strict (an unknown field such as
// "vote" for "votes" is a 400 naming it, not a silent default); /get_reward takes what OpenRLHF
// sends and ignores the rest, as its serve_rm does. Length mismatches between parallel arrays are
// 400s naming the array that does not match.
import { z } from 'zod';

const message = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });
const prompt = z.union([z.string(), z.array(message).min(1)]);

/** Judge settings a request may override; the server's defaults (genrm serve --judge-mode, ...) fill the rest. */
const judgeOptions = {
  mode: z.enum(['direct', 'cot']).optional(),
  votes: z.number().int().min(1).max(64).optional(),
  swap: z.boolean().optional(),
  max_tokens: z.number().int().min(1).max(4096).optional(),
  seed: z.number().int().optional(),
};

export const JudgeRequest = z.strictObject({ prompt, a: z.string(), b: z.string(), ...judgeOptions });
export type JudgeRequest = z.output<typeof JudgeRequest>;

/** 32 candidates: 496 pairs, 992 judged prompts with swap; more belongs in a batch job. */
export const MAX_RANK_CANDIDATES = 32;
export const RankRequest = z.strictObject({ prompt, candidates: z.array(z.string()).min(2).max(MAX_RANK_CANDIDATES), ...judgeOptions });
export type RankRequest = z.output<typeof RankRequest>;

/** 1024 items a request: an RL step's rollouts; bigger batches should be split by the client. */
export const MAX_ITEMS = 1024;

/**
 * Responses without references sharing one prompt: 128, twice the largest group GRPO-style
 * training commonly samples (64). A larger group is a 400: its Bradley–Terry fit (a dense
 * Newton step, cubic in the group) would run on the HTTP thread.
 */
export const MAX_GROUP = 128;

function sameLength(field: string, want: number, got: unknown[] | null | undefined, ctx: z.RefinementCtx, of: string): void {
  if (got != null && got.length !== want)
    ctx.addIssue({ code: 'custom', path: [field], message: `has ${got.length} items but ${of} has ${want}; they must match one to one` });
}

export const RewardRequest = z
  .strictObject({
    prompts: z.array(z.string()).min(1).max(MAX_ITEMS),
    responses: z.array(z.string()).min(1).max(MAX_ITEMS),
    /** A reference answer per item; null: none for that item (it is scored within its prompt's group). */
    references: z.array(z.string().nullable()).max(MAX_ITEMS).nullish(),
    ...judgeOptions,
  })
  .superRefine((v, ctx) => {
    sameLength('responses', v.prompts.length, v.responses, ctx, 'prompts');
    sameLength('references', v.prompts.length, v.references, ctx, 'prompts');
  });
export type RewardRequest = z.output<typeof RewardRequest>;

/** OpenRLHF's remote reward-model request (openrlhf/cli/serve_rm.py): query = prompt + response. */
export const GetRewardRequest = z
  .object({
    query: z.array(z.string()).min(1).max(MAX_ITEMS),
    prompts: z.array(z.string()).nullish(),
    labels: z.array(z.string().nullable()).nullish(),
  })
  .superRefine((v, ctx) => {
    sameLength('prompts', v.query.length, v.prompts, ctx, 'query');
    sameLength('labels', v.query.length, v.labels, ctx, 'query');
  });
export type GetRewardRequest = z.output<typeof GetRewardRequest>;
