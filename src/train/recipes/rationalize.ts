// `rationalize`: CoT-GenRM by rationalization (STaR's rationalization step,
// Zelikman et al. 2022). For every training pair in both orders the model is shown the right
// verdict as a hint (the judge format's rationalize form, "Hint: [[A]]") and samples k
// rationales; those that end in the hinted verdict are kept (the first by default); then SFT on
// (rationale, verdict) with the plain CoT prompt, WITHOUT the hint, so the trained judge must
// reach the verdict by itself. Output: an 'lm' checkpoint judged in CoT mode.
//
// Reported: how many (pair, order) items produced a usable rationale, and where the data is a
// PrefWorld, how many kept rationales' own worked result is right (PrefWorld's grader): a
// rationale can end in the hinted verdict while its reasoning is wrong.
//
// The kept rationales are saved with each checkpoint (rationales.jsonl): a resumed run trains
// on exactly those and does not sample again.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { VERDICT_CUE, type PairLabel } from '../../data/judgeFormat.js';
import { toJsonl } from '../../data/jsonl.js';
import { registry } from '../../data/world/families.js';
import { gradeRationale } from '../../data/world/rationale.js';
import type { Task } from '../../data/world/task.js';
import { generate } from '../../engine/sampling/index.js';
import { writeFileAtomic } from '../../engine/atomic.js';
import type { Tokenizer } from '../../engine/tokenizer/index.js';
import { orderSeed, PAIR_SPEC } from '../../judge/pairwise.js';
import { pairVerdictSpan, parsePairVerdict } from '../../judge/verdicts.js';
import { loadSpec } from '../../data/world/generate.js';
import { loopOf, recipeSchema } from './config.js';
import { MAX_BATCH } from '../config.js';
import { bothOrders, cotExample, describe, judgePrompt, type OrderedPair, type TextExample } from './data.js';
import { cotAccuracy } from './evalJudge.js';
import { prepare } from './harness.js';
import { defineRecipe } from './registry.js';
import { runSft } from './sft.js';
import { encodePrompt } from '../../backends/embedded/render.js';

export const RATIONALES_FILE = 'rationales.jsonl';

export const RationalizeSchema = recipeSchema({
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(MAX_BATCH)
    .default(8)
    .describe('Rationale examples per micro-batch. 8, as each is a few hundred tokens; the memory check sizes it against the machine.'),
  lr: z
    .number()
    .positive()
    .max(1)
    .default(1e-4)
    .describe(
      "Peak learning rate. 1e-4, star-sft's, for the same reason: the rationales are the model's own samples, already likely, and 3e-4 lowered CoT accuracy on them.",
    ),
  samples: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .default(4)
    .describe(
      "Rationales sampled per (pair, order) with the right verdict as a hint (the paper's rationalization, Zelikman et al. 2022). 4 tries find one ending in the hinted verdict for most pairs, at 4x the sampling cost of one; at most 1,024, the judge's cap on votes.",
    ),
  temperature: z
    .number()
    .min(0)
    .max(5)
    .default(1.0)
    .describe(
      "Sampling temperature of the hinted rationales. 1.0, the paper's for sampled rationales (Mahan et al. 2024, arXiv 2410.12832); at most 5, as the judge's: hotter is noise.",
    ),
  topP: z.number().gt(0).max(1).default(0.95).describe("Nucleus mass of the hinted rationales. 0.95, the paper's (arXiv 2410.12832)."),
  maxTokens: z
    .number()
    .int()
    .min(1)
    .max(32_768)
    .default(256)
    .describe(
      "Longest rationale in tokens. 256 holds PrefWorld's longest reference rationale with room to spare; at most 32,768, past any context (generation stops at the context's end).",
    ),
  keep: z
    .enum(['first', 'all'])
    .default('first')
    .describe(
      "Rationales kept per (pair, order): 'first' keeps one, so easy pairs do not dominate the data; 'all' keeps every usable sample.",
    ),
  requireResultRight: z
    .boolean()
    .default(false)
    .describe(
      "Also require a kept rationale's own worked result to be right (PrefWorld data only). Off: the paper filters on the verdict alone.",
    ),
  evalCotPairs: z
    .number()
    .int()
    .min(0)
    .max(100_000)
    .default(16)
    .describe(
      'Held-out pairs judged greedily with CoT (both orders) at each evaluation. 16 keeps an evaluation to seconds; generation is the slow part.',
    ),
});
export type RationalizeConfig = z.infer<typeof RationalizeSchema>;

/**
 * The rationale of a sampled completion if its verdict (the judge's parse: the last one counts)
 * is the hinted one, else null. The completion runs to the verdict token (sampling stops there);
 * the rationale is what precedes the last "Verdict: " cue before that verdict (or the verdict
 * itself when the cue is missing), trimmed, and holds no verdict of its own.
 */
export function usableRationale(completion: string, hint: PairLabel): string | null {
  const v = pairVerdictSpan(completion);
  if (v?.verdict !== hint) return null;
  const cut = completion.lastIndexOf(VERDICT_CUE, v.start);
  const rationale = completion.slice(0, cut >= 0 ? cut : v.start).replace(/\s+$/, '');
  return rationale.length > 0 && parsePairVerdict(rationale) === 'invalid' ? rationale : null;
}

/** One kept rationale (a line of rationales.jsonl). */
export interface KeptRationale {
  id: string;
  chosenFirst: boolean;
  rationale: string;
  /** PrefWorld grader: the rationale's own worked result is right (null: no checker). */
  resultRight: boolean | null;
}

export interface SampleReport {
  items: number;
  /** (pair, order) items with at least one usable rationale. */
  usable: number;
  kept: KeptRationale[];
  /** Kept rationales whose own result is right, over those that could be checked. */
  resultRight: number;
  checked: number;
  /** Usable samples dropped because their training example would not fit the context. */
  tooLong: number;
}

/** Samples hinted rationales for every item and keeps those ending in the hint. */
export function sampleRationales(
  p: { model: Parameters<typeof generate>[0]; tokenizer: Tokenizer },
  items: readonly OrderedPair[],
  c: RationalizeConfig,
  taskOf: (op: OrderedPair) => Task | null,
  say: (s: string) => void,
): SampleReport {
  const tok = p.tokenizer;
  const stopTokens = [tok.eotId, ...PAIR_SPEC.pair.map((v) => tok.specialId(v))];
  const report: SampleReport = { items: items.length, usable: 0, kept: [], resultRight: 0, checked: 0, tooLong: 0 };
  const CHUNK = 64; // prompts per generate call: a progress line each, and bounded memory
  for (let s = 0; s < items.length; s += CHUNK) {
    const part = items.slice(s, s + CHUNK);
    const prompts = part.map((op) => encodePrompt(tok, judgePrompt(op, 'rationalize')));
    for (const [i, ids] of prompts.entries())
      if (ids.length + 8 > p.model.config.maxSeqLen)
        throw new Error(
          `${describe(part[i]!)}: the rationalize prompt has ${ids.length} tokens, leaving no room for a rationale in the context of ${p.model.config.maxSeqLen}`,
        );
    // Seeded as the judge seeds its orders: chosen first (order 1) with seed, chosen second with seed + samples.
    const out = new Array<ReturnType<typeof generate>[number]>(part.length);
    for (const first of [true, false]) {
      const idx = part.map((op, i) => (op.chosenFirst === first ? i : -1)).filter((i) => i >= 0);
      if (idx.length === 0) continue;
      const seed = orderSeed(c.seed, c.samples, first ? 0 : 1);
      const gen = generate(
        p.model,
        tok,
        idx.map((i) => prompts[i]!),
        { n: c.samples, temperature: c.temperature, topP: c.topP, maxTokens: c.maxTokens, stopTokens, seed },
      );
      idx.forEach((i, j) => (out[i] = gen[j]!));
    }
    part.forEach((op, i) => {
      let any = false;
      for (const sample of out[i]!) {
        const completion = tok.decode(sample.tokens);
        const rationale = usableRationale(completion, op.verdict);
        if (rationale === null) continue;
        const task = taskOf(op);
        const resultRight = task ? gradeRationale(task, completion).resultRight : null;
        if (c.requireResultRight && resultRight !== true) continue;
        // The training example (CoT prompt, rationale, cue, verdict, end of text) must fit the context.
        const ex = cotExample(op, rationale);
        const n = encodePrompt(tok, ex.prompt).length + tok.encode(ex.target, { specials: 'parse' }).length + 1;
        if (n - 1 > p.model.config.maxSeqLen) {
          report.tooLong++;
          continue;
        }
        any = true;
        report.kept.push({ id: op.pair.id, chosenFirst: op.chosenFirst, rationale, resultRight });
        if (resultRight !== null) report.checked++;
        if (resultRight === true) report.resultRight++;
        if (c.keep === 'first') break;
      }
      if (any) report.usable++;
    });
    if (items.length > CHUNK)
      say(`rationalize: sampled ${Math.min(items.length, s + CHUNK)}/${items.length} items, ${report.usable} usable so far`);
  }
  return report;
}

export const rationalize = defineRecipe<RationalizeConfig>({
  name: 'rationalize',
  description: 'CoT-GenRM by rationalization: sample rationales with the right verdict as a hint, SFT on them without the hint',
  schema: RationalizeSchema,
  async run(c, ctx) {
    const p = prepare('rationalize', c, ctx);
    const items = bothOrders(p.data.train);
    const byKey = new Map(items.map((op) => [`${op.pair.id}/${op.chosenFirst}`, op]));
    const reg = p.data.worldDir ? registry(loadSpec(p.data.worldDir)) : null;
    const taskOf = (op: OrderedPair): Task | null => {
      const inst = op.pair.meta?.instance;
      if (!reg || typeof op.pair.subset !== 'string' || typeof inst !== 'string' || !reg.all.has(op.pair.subset)) return null;
      return reg.task(op.pair.subset, inst);
    };

    // Phase 1: sampling (skipped on resume: the kept rationales come back from the checkpoint).
    const saved = join(c.out, RATIONALES_FILE);
    let kept: KeptRationale[];
    let stats: Omit<SampleReport, 'kept'>;
    if (ctx.resume && existsSync(saved)) {
      const lines = readFileSync(saved, 'utf8')
        .split('\n')
        .filter((l) => l.trim());
      kept = lines.map((l) => JSON.parse(l) as KeptRationale);
      const usable = new Set(kept.map((k) => `${k.id}/${k.chosenFirst}`)).size;
      const checked = kept.filter((k) => k.resultRight !== null);
      stats = {
        items: items.length,
        usable,
        resultRight: checked.filter((k) => k.resultRight).length,
        checked: checked.length,
        tooLong: 0,
      };
      ctx.say(`rationalize: resuming with the ${kept.length} rationales saved in ${saved}`);
    } else {
      const t0 = performance.now();
      const rep = sampleRationales(p, items, c, taskOf, ctx.say);
      ({ kept, ...stats } = rep);
      ctx.say(
        `rationalize: ${rep.usable}/${rep.items} (pair, order) items gave a rationale ending in the hinted verdict (${c.samples} samples each, ${((performance.now() - t0) / 1000).toFixed(1)} s)` +
          (rep.checked ? `; ${rep.resultRight}/${rep.checked} kept rationales have a right worked result` : '') +
          (rep.tooLong ? `; ${rep.tooLong} samples too long for the context dropped` : ''),
      );
    }
    if (kept.length === 0)
      throw new Error(
        `rationalize: none of the ${items.length} (pair, order) items produced a rationale ending in the hinted verdict in ${c.samples} samples; raise samples or maxTokens, or start from a base that has learned the judge format`,
      );

    // Phase 2: SFT on (rationale, verdict) with the CoT prompt, no hint.
    const pairOf = new Map<TextExample, OrderedPair['pair']>();
    const examples: TextExample[] = kept.map((k) => {
      const op = byKey.get(`${k.id}/${k.chosenFirst}`);
      if (!op) throw new Error(`${saved}: rationale for pair ${k.id}, which is not in the training data`);
      const ex = cotExample(op, k.rationale);
      pairOf.set(ex, op.pair);
      return ex;
    });
    const keptJsonl = toJsonl(kept);
    const saveModel = p.saveModel('lm');
    const r = runSft({
      model: p.model,
      tokenizer: p.tokenizer,
      examples,
      loop: loopOf(c),
      cotValidation: { pairsOf: (held) => [...new Set(held.flatMap((ex) => pairOf.get(ex) ?? []))], maxTokens: c.maxTokens },
      overflow: c.overflow,
      appendEot: true,
      outDir: c.out,
      resume: ctx.resume,
      progress: ctx.progress,
      label: 'rationalize',
      ...(ctx.stopAfter !== undefined ? { stopAfter: ctx.stopAfter } : {}),
      ...(ctx.onLog ? { onLog: ctx.onLog } : {}),
      evaluate: () => cotAccuracy(p.model, p.tokenizer, p.data.eval, { maxPairs: c.evalCotPairs, maxTokens: c.maxTokens }),
      saveModel: (dir) => {
        saveModel(dir);
        writeFileAtomic(join(dir, RATIONALES_FILE), keptJsonl);
      },
    });
    const details = {
      items: stats.items,
      usable: stats.usable,
      usableShare: stats.usable / stats.items,
      kept: kept.length,
      resultRight: stats.resultRight,
      resultChecked: stats.checked,
      tooLong: stats.tooLong,
      examples: r.examples,
      skipped: r.skipped.length,
    };
    return p.result(r.train, r.firstLoss, details);
  },
});
