// `dpo` (TRL's DPOTrainer by name): DPO (./dpo.ts, the loss star-dpo trains with) directly on
// preference pairs — a PrefWorld folder, genrm's PreferencePair JSONL or TRL preference JSONL
// (./trlData.ts) — against the frozen base as the reference. The policy learns to answer the
// pairs' prompts (chosen over rejected), not to judge. Output: an 'lm' checkpoint.
//
// Encoding: the prompt is BOS + its text, or the compact chat form of its messages; chosen and
// rejected follow it, each ending in end-of-text (trained, as TRL appends EOS). Data text is
// encoded with special-token text kept as plain bytes (it is untrusted, unlike genrm's own
// templates). A pair longer than the context (or maxLength) is refused, or dropped and counted
// with overflow: skip; never truncated.
import { z } from 'zod';
import { encodePrompt } from '../../backends/embedded/render.js';
import type { ChatMessage } from '../../backends/types.js';
import type { PreferencePair } from '../../data/pair.js';
import { noGrad } from '../../engine/autograd/index.js';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import { holdOutGroups } from '../batches.js';
import type { TrainTask } from '../trainer.js';
import { loopOf, recipeSchema } from './config.js';
import { dpoTask, dpoValidation, fitDpo, precomputeReference, type DpoBatch, type DpoExample } from './dpo.js';
import { prepare } from './harness.js';
import { loadBase } from './model.js';
import { defineRecipe } from './registry.js';
import { withReplay } from './replay.js';
import { MAX_BATCH } from '../config.js';

export const DpoPairsSchema = recipeSchema({
  beta: z
    .number()
    .positive()
    .max(100)
    .default(0.1)
    .describe(
      "DPO's β: how strongly the policy is held to the reference (higher stays closer; Rafailov et al. 2023, arXiv 2305.18290). 0.1, TRL's DPOConfig default and the DPO paper's usual value.",
    ),
  lr: z
    .number()
    .positive()
    .max(1)
    .default(3e-5)
    .describe(
      "Peak learning rate. 3e-5, star-dpo's: measured there at β 0.1, 1e-4 collapsed the chosen likelihood within 60 updates and 3e-5 did not (TRL's 1e-6 is for billion-parameter models).",
    ),
  nllWeight: z
    .number()
    .min(0)
    .max(100)
    .default(0)
    .describe(
      "RPO's weight on the chosen completion's per-token NLL (Pang et al. 2024, arXiv 2404.19733; TRL's rpo_alpha). 0: plain DPO, TRL's default.",
    ),
  precomputeReference: z
    .boolean()
    .default(true)
    .describe(
      "Compute the reference log-likelihoods once before training (TRL's precompute_ref_log_probs). On: one forward pass, and no reference model in memory while training.",
    ),
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(MAX_BATCH)
    .default(8)
    .describe('Preference pairs per micro-batch. 8 (16 rows), as star-dpo; the memory check sizes it against the machine.'),
  maxLength: z
    .number()
    .int()
    .min(2)
    .max(1_048_576)
    .optional()
    .describe(
      "Most tokens of the prompt plus the longer completion (TRL's max_length); longer pairs follow overflow. Unset: the base's context.",
    ),
  replay: z
    .number()
    .min(0)
    .lt(1)
    .default(0)
    .describe(
      "Pretraining replay share (see the common option). 0, since TRL's DPOTrainer has none; set it and replayData to mix corpus rows in.",
    ),
  evalPairs: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(0)
    .describe(
      'Held-out pairs scored with the DPO metrics at each evaluation. 0, as TRL without an eval_dataset: valPairs already holds out what early stopping watches.',
    ),
});
export type DpoPairsConfig = z.infer<typeof DpoPairsSchema>;

/** A data prompt's ids: BOS + text, or the compact chat form; specials in data text stay bytes. */
export function encodeDataPrompt(tok: Tokenizer, prompt: PreferencePair['prompt']): number[] {
  // Any role name prints as "role: content" in the compact form, so data roles pass as they are.
  return typeof prompt === 'string'
    ? [tok.eotId, ...tok.encode(prompt, { specials: 'plain' })]
    : encodePrompt(tok, prompt as ChatMessage[]);
}

/** Pairs as DPO examples; over-long ones per `overflow` (named in the error). */
export function encodePairsForDpo(
  tok: Tokenizer,
  pairs: readonly PreferencePair[],
  maxLen: number,
  overflow: 'error' | 'skip',
): { examples: DpoExample[]; ids: string[]; skipped: number } {
  const answer = (s: string): number[] => [...tok.encode(s, { specials: 'plain' }), tok.eotId];
  const all = pairs.map((p): DpoExample => ({
    prompt: encodeDataPrompt(tok, p.prompt),
    chosen: answer(p.chosen),
    rejected: answer(p.rejected),
  }));
  const { kept, skipped } = fitDpo(all, maxLen, overflow, (i) => `pair ${pairs[i]!.id}`, String(maxLen));
  return { examples: kept.map((i) => all[i]!), ids: kept.map((i) => pairs[i]!.id), skipped };
}

export const dpoPairs = defineRecipe<DpoPairsConfig>({
  name: 'dpo',
  description: "TRL's DPO: the DPO loss on preference pairs (PreferencePair or TRL JSONL), frozen base as reference",
  schema: DpoPairsSchema,
  async run(c, ctx) {
    const p = prepare('dpo', c, ctx);
    const tok = p.tokenizer;
    const maxLen = Math.min(c.maxLength ?? Infinity, p.model.config.maxSeqLen);
    const split = holdOutGroups(p.data.train, (x) => x.id, c.valPairs, c.seed);
    const tr = encodePairsForDpo(tok, split.train, maxLen, c.overflow);
    if (tr.examples.length === 0) throw new Error(`dpo: none of the ${split.train.length} pairs fits ${maxLen} tokens`);
    if (tr.skipped) ctx.say(`dpo: ${tr.skipped} pairs longer than ${maxLen} tokens were left out`);
    const val = encodePairsForDpo(tok, split.val, maxLen, 'skip').examples;
    const evalEx = encodePairsForDpo(tok, p.data.eval, maxLen, 'skip').examples;
    // The reference: the base, frozen (its own copy of the weights, no gradients).
    let ref: ReturnType<typeof loadBase>['model'] | null = loadBase(c.base).model.freeze();
    if (c.precomputeReference) {
      precomputeReference(ref, [...tr.examples, ...val, ...evalEx], tok.padId, c.batchSize);
      ref = null;
    }
    const opts = { beta: c.beta, batchSize: c.batchSize, padId: tok.padId, ref };
    const evaluation = evalEx.length ? dpoValidation(p.model, evalEx, opts) : null;
    const task: TrainTask<DpoBatch> = {
      ...dpoTask(p.model, tr.examples, { ...opts, seed: c.seed, nllWeight: c.nllWeight }),
      saveModel: p.saveModel('lm'),
      ...(val.length ? { validate: dpoValidation(p.model, val, opts) } : {}),
      ...(evaluation
        ? {
            evaluate: () =>
              Object.fromEntries(Object.entries(noGrad(() => evaluation.run())).map(([k, v]) => [k.replace(/^val\//, 'eval/'), v])),
          }
        : {}),
    };
    const run = withReplay(task, p.model, {
      spec: loopOf(c).replay,
      tokenizer: tok,
      batchSize: c.batchSize,
      microBatches: c.steps * c.gradAccum,
      seed: c.seed,
    });
    const { r, firstLoss } = p.train(run as TrainTask<unknown>);
    return p.result(r, firstLoss, { pairs: tr.examples.length, skipped: tr.skipped, valPairs: val.length, evalPairs: evalEx.length });
  },
});
