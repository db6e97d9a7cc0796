// `sft` (TRL's SFTTrainer by name): the SFT routine of ./sft.ts (masked completion NLL, the one
// genrm, rationalize and star-sft train with) on the chosen answers of preference pairs, or on
// TRL's SFT formats (prompt + completion, conversational messages, text; ./trlData.ts). The
// completion ends in end-of-text, trained (as TRL appends EOS). Output: an 'lm' checkpoint.
import { z } from 'zod';
import { loopOf, recipeSchema } from './config.js';
import { resultOf } from './harness.js';
import { loadBase, saveRecipeModel } from './model.js';
import { defineRecipe, writeResolvedConfig } from './registry.js';
import { runSft } from './sft.js';
import { loadSftData } from './trlData.js';
import { MAX_BATCH } from '../config.js';

export const SftDataSchema = recipeSchema({
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(MAX_BATCH)
    .default(16)
    .describe('Examples per micro-batch. 16, as the genrm recipe; the memory check sizes it against the machine.'),
  maxLength: z
    .number()
    .int()
    .min(2)
    .max(1_048_576)
    .optional()
    .describe("Most tokens of prompt plus completion (TRL's max_length); longer examples follow overflow. Unset: the base's context."),
  replay: z
    .number()
    .min(0)
    .lt(1)
    .default(0)
    .describe(
      "Pretraining replay share (see the common option). 0, since TRL's SFTTrainer has none; set it and replayData to mix corpus rows in.",
    ),
  evalPairs: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(0)
    .describe('Held-out judge evaluation pairs. 0: the examples are not judge prompts; valPairs holds out what early stopping watches.'),
});
export type SftDataConfig = z.infer<typeof SftDataSchema>;

export const sftData = defineRecipe<SftDataConfig>({
  name: 'sft',
  description: "TRL's SFT: the masked completion NLL on chosen answers, prompt+completion, messages or text",
  schema: SftDataSchema,
  async run(c, ctx) {
    const base = loadBase(c.base);
    const data = await loadSftData(c.data, c.seed);
    ctx.say(`sft: base ${c.base}; ${data.from}`);
    const r = runSft({
      model: base.model,
      tokenizer: base.tokenizer,
      examples: data.examples,
      group: data.group,
      loop: loopOf(c),
      overflow: c.overflow,
      appendEot: true,
      ...(c.maxLength !== undefined ? { maxTokens: c.maxLength } : {}),
      outDir: c.out,
      resume: ctx.resume,
      progress: ctx.progress,
      label: 'sft',
      ...(ctx.stopAfter !== undefined ? { stopAfter: ctx.stopAfter } : {}),
      ...(ctx.onLog ? { onLog: ctx.onLog } : {}),
      saveModel: (dir) => {
        saveRecipeModel(dir, {
          recipe: 'sft',
          kind: 'lm',
          model: base.model,
          tokenizer: base.tokenizer,
          command: ctx.command,
          config: c,
          seed: c.seed,
          dataHash: data.hash,
          parent: base.dir,
          dtype: c.dtype,
        });
        writeResolvedConfig(dir, 'sft', c);
      },
    });
    if (r.skipped.length) ctx.say(`sft: ${r.skipped.length} examples longer than the context were left out (first: ${r.skipped[0]})`);
    return resultOf('sft', c.out, r.train, r.firstLoss, {
      examples: r.examples,
      skipped: r.skipped.length,
      targetTokens: r.targetTokens,
      valExamples: r.valExamples,
    });
  },
});
