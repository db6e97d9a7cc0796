// `npm run bench -- train [--json] [--recipe star-dpo|star-sft] [--pairs 16] [--k 4] [--steps N] [--max-tokens 256]`:
// the time of ONE STaR iteration (issue 6) on the `base` preset model, split into sampling and
// training, and rationale tokens sampled per second.
//
// The model: the committed checkpoint models/base when it exists, else a model of the base preset
// shape (src/train/pretrain/config.ts) with RANDOM weights and a byte-level tokenizer (a random
// model rarely writes end-of-text, so its samples run to max tokens: the worst case).
// The data: the first `pairs` training pairs of a quick PrefWorld (src/data/world), generated into
// a temp folder with its spec.json beside them, so the PrefWorld checker grades rationales as in a
// real run. The iteration: the real recipe (star-dpo by default) with iterations 1, so its only
// slice is those pairs, run through runRecipe exactly as `genrm train` does: the one STaR sampler
// (k rationales per pair in both orders, batched and KV-cached through the embedded backend), the
// dataset build, then training as the recipe does it, one pass over the iteration's dataset
// (--steps N caps the updates lower), without evaluation or periodic checkpoints.
//
// Phase times come from the recipe's own progress lines (ctx.say is called once when sampling has
// finished and once when training has): sampling = start .. first line (loading the data and the
// model, sampling, building the datasets), training = first .. second line (loading the policy and
// the reference, tokenizing, reference log-likelihoods, the updates, saving). The sampler's own
// seconds and token count come from the iteration summary the recipe returns.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JUDGE_SPECIAL_TOKENS } from '../src/data/judgeFormat.js';
import { generateWorld, SPEC_FILE, SPLIT_FILES } from '../src/data/world/generate.js';
import { resolveSpec } from '../src/data/world/spec.js';
import { saveCheckpoint } from '../src/engine/checkpoint.js';
import { Llama } from '../src/engine/model/llama.js';
import { Tokenizer } from '../src/engine/tokenizer/index.js';
import { modelConfig, resolvePretrainConfig } from '../src/train/pretrain/config.js';
import { resolveRecipeConfig, runRecipe } from '../src/train/recipes/registry.js';
import { starDpo } from '../src/train/recipes/star-dpo.js';
import { starSft } from '../src/train/recipes/star-sft.js';
import type { IterationSummary } from '../src/train/star/iterate.js';

export const describe = 'one STaR iteration on the base model: sampling vs training time, rationale tokens sampled/s';

const COMMITTED_BASE = resolve('models/base');

function flag(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = args[i + 1];
  if (v === undefined) throw new Error(`bench train: ${name} needs a value`);
  return v;
}

function intFlag(args: string[], name: string, dflt: number): number {
  const v = Number(flag(args, name, String(dflt)));
  if (!Number.isInteger(v) || v < 1) throw new Error(`bench train: ${name} must be a positive integer, got ${flag(args, name, '')}`);
  return v;
}

/** The committed base checkpoint, or a random model of the base preset shape saved under root. */
function baseModel(root: string): { dir: string; what: string } {
  if (existsSync(join(COMMITTED_BASE, 'model.safetensors'))) return { dir: COMMITTED_BASE, what: `committed checkpoint ${COMMITTED_BASE}` };
  const tok = Tokenizer.byteLevel({ specials: [...JUDGE_SPECIAL_TOKENS] });
  const config = modelConfig(resolvePretrainConfig({ preset: 'base', data: '-', out: '-' }), tok.vocabSize);
  const dir = join(root, 'base-random');
  saveCheckpoint(dir, {
    config,
    kind: 'lm',
    weights: new Llama(config, { seed: 1 }).params,
    tokenizer: tok,
    provenance: { command: 'bench train', config: null, seed: 1, dataHash: null, parent: null },
  });
  return { dir, what: 'RANDOM weights of the base preset shape, byte-level tokenizer (models/base not found)' };
}

/** A PrefWorld folder holding spec.json and the first n training pairs of a quick world. */
function worldSlice(dir: string, n: number): void {
  const world = generateWorld(resolveSpec('quick'));
  if (world.splits.train.length < n)
    throw new Error(`bench train: the quick world has ${world.splits.train.length} training pairs, fewer than --pairs ${n}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, SPEC_FILE), JSON.stringify(world.spec, null, 2) + '\n');
  writeFileSync(
    join(dir, SPLIT_FILES.train),
    world.splits.train
      .slice(0, n)
      .map((p) => JSON.stringify(p) + '\n')
      .join(''),
  );
}

export async function run(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const recipeName = flag(args, '--recipe', 'star-dpo');
  if (recipeName !== 'star-dpo' && recipeName !== 'star-sft')
    throw new Error(`bench train: --recipe must be star-dpo or star-sft, got ${recipeName}`);
  const pairs = intFlag(args, '--pairs', 16); // 16 pairs x 2 orders x k=4: 128 rows, one sampler chunk
  const k = intFlag(args, '--k', 4);
  // Training as the recipe does it: one pass over the iteration's dataset (epochs 1); --steps caps it lower.
  const steps = args.includes('--steps') ? intFlag(args, '--steps', 1) : undefined;
  const maxTokens = intFlag(args, '--max-tokens', 256); // the recipes' default
  const root = mkdtempSync(join(tmpdir(), 'genrm-bench-train-'));
  try {
    const base = baseModel(root);
    const data = join(root, 'world');
    worldSlice(data, pairs);
    const input = {
      data,
      base: base.dir,
      out: join(root, 'run'),
      iterations: 1,
      k,
      maxTokens,
      ...(steps !== undefined ? { steps } : {}),
      evalPairs: 0,
      evalEvery: 0,
      checkpointEvery: 0,
      evalCotPairs: 0,
      overflow: 'skip',
    };
    const marks: number[] = [];
    const lines: string[] = [];
    const say = (line: string): void => {
      marks.push(performance.now());
      lines.push(line);
    };
    const ctx = { command: 'bench train', resume: false, progress: false, say };
    const t0 = performance.now();
    const result =
      recipeName === 'star-dpo'
        ? await runRecipe(starDpo, resolveRecipeConfig(starDpo, input, 'bench train'), ctx)
        : await runRecipe(starSft, resolveRecipeConfig(starSft, input, 'bench train'), ctx);
    const tEnd = performance.now();
    // The recipe's line after sampling ("... pairs sampled ...") and after training ("... steps on ..." or "nothing to train on").
    const sampled = lines.findIndex((l) => / pairs sampled, /.test(l));
    const trained = lines.findIndex((l) => / steps on | nothing to train on/.test(l));
    if (sampled < 0 || trained < sampled)
      throw new Error(`bench train: expected the recipe's sampling and training lines, got:\n${lines.join('\n')}`);
    const sampling = (marks[sampled]! - t0) / 1000;
    const training = (marks[trained]! - marks[sampled]!) / 1000;
    const iteration = sampling + training;
    const summary = (result.details.iterations as IterationSummary[])[0]!;
    const report = {
      recipe: recipeName,
      model: base.what,
      pairs,
      orders: 2,
      k,
      rows: pairs * 2 * k,
      maxTokens,
      steps: summary.train?.steps ?? 0,
      trainExamples: summary.train?.examples ?? 0,
      samplingSec: sampling,
      samplerSec: summary.sampleSeconds,
      trainingSec: training,
      iterationSec: iteration,
      totalSec: (tEnd - t0) / 1000,
      samplingShare: sampling / iteration,
      tokensSampled: summary.tokensSampled,
      tokensPerSec: summary.tokensSampled / summary.sampleSeconds,
      secPerStep: summary.train ? training / summary.train.steps! : NaN,
      pairsWithRight: summary.pairsWithRight,
      sftKept: summary.sftKept,
      dpoPairs: summary.dpoPairs,
      recipeLines: lines,
    };
    if (json) {
      console.log(JSON.stringify(report, null, 2));
      return;
    }
    console.log(`train bench: one ${recipeName} iteration, model: ${report.model}`);
    console.log(
      `  slice: ${pairs} quick-PrefWorld train pairs x 2 orders x k=${k} = ${report.rows} rationales (max ${maxTokens} tokens); ${report.steps} training steps on ${report.trainExamples} examples`,
    );
    console.log(
      `  sampling  ${sampling.toFixed(1).padStart(7)} s  (sampler ${summary.sampleSeconds.toFixed(1)} s, ${summary.tokensSampled} tokens, ${report.tokensPerSec.toFixed(0)} rationale tokens/s)`,
    );
    console.log(
      `  training  ${training.toFixed(1).padStart(7)} s  (${report.secPerStep.toFixed(2)} s/step incl. reference, loading and saving)`,
    );
    console.log(`  iteration ${iteration.toFixed(1).padStart(7)} s  sampling share ${(100 * report.samplingShare).toFixed(1)}%`);
    console.log(
      `  samples: ${(100 * summary.pairsWithRight).toFixed(1)}% of pairs with a right rationale; ${summary.sftKept} kept for SFT, ${summary.dpoPairs} DPO pairs`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
