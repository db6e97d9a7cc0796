// `npm run bench -- gguf [--pairs 32] [--tokens 64] [--batch 8] [--threads 1] [--model DIR] [--json]`:
// genrm's engine (EmbeddedBackend) against llama.cpp (GgufBackend via node-llama-cpp) on the same
// model exported to GGUF f32, in one process, each with --threads CPU threads (llama.cpp's
// spin-waiting workers crawl when the cores are shared, so 1 is the default here).
//
//   direct judging   --pairs PrefWorld test-id pairs judged in both orders (judgePairs, the compact
//                    template) by each backend: pairs/s, llama.cpp / engine (issue 21's goal:
//                    >= 0.5x), and the largest |P(A) difference| (goal: <= 0.01). The model is
//                    the committed base (models/base, or --model DIR): its tokenizer has merges
//                    and the verdicts as specials, as genrm's own judges do.
//   decoding         greedy tokens/s at batch 1 and --batch prompts, engine / llama.cpp.
//
// Every time is the best of several interleaved runs (one run moves ±30 % with the machine).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedBackend } from '../src/backends/embedded/backend.js';
import { GgufBackend } from '../src/backends/gguf/index.js';
import type { LanguageModel } from '../src/backends/types.js';
import { registry } from '../src/data/world/families.js';
import { generateSplits } from '../src/data/world/pairs.js';
import { resolveSpec } from '../src/data/world/spec.js';
import { hasCheckpointMeta } from '../src/engine/checkpoint.js';
import { writeLlamaGguf } from '../src/engine/gguf.js';
import { kernels } from '../src/engine/kernels/index.js';
import { resolveJudgeConfig } from '../src/judge/config.js';
import { chosenShownFirst, judgePairs, type PairInput } from '../src/judge/pairwise.js';
import { compactPairTemplate } from '../src/judge/templates.js';

export const describe =
  'engine vs llama.cpp (node-llama-cpp) on the same exported GGUF: direct judging pairs/s and P(A) agreement; greedy decoding tokens/s';

function flag(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function tokensPerSecond(m: LanguageModel, prompts: string[], maxTokens: number): Promise<number> {
  await m.generate(prompts.slice(0, 1), { temperature: 0, maxTokens: 4 }); // warm up
  const t0 = performance.now();
  const gens = await m.generate(prompts, { temperature: 0, maxTokens });
  const s = (performance.now() - t0) / 1000;
  return gens.reduce((a, g) => a + g.samples[0]!.tokens.length, 0) / s;
}

/** The first n test-id pairs of the quick PrefWorld, shown as `genrm eval` shows them. */
function worldPairs(n: number): PairInput[] {
  const spec = resolveSpec('quick');
  return generateSplits(spec, registry(spec))
    .splits['test-id'].slice(0, n)
    .map((p) => {
      const aFirst = chosenShownFirst(p.id, 0);
      return { id: p.id, prompt: p.prompt as string, answerA: aFirst ? p.chosen : p.rejected, answerB: aFirst ? p.rejected : p.chosen };
    });
}

export async function run(args: string[]): Promise<void> {
  const tokens = flag(args, '--tokens', 64);
  const batch = flag(args, '--batch', 8);
  const threads = flag(args, '--threads', 1);
  const nPairs = flag(args, '--pairs', 32);
  const md = args.indexOf('--model');
  const modelDir = md >= 0 ? args[md + 1]! : fileURLToPath(new URL('../../models/base', import.meta.url)); // from dist/bench/
  if (!hasCheckpointMeta(modelDir)) throw new Error(`${modelDir}: not a genrm checkpoint; pass --model DIR`);
  kernels().setThreads(threads);
  const engine = EmbeddedBackend.load(modelDir);
  const cfg = engine.model.config;
  const dir = mkdtempSync(join(tmpdir(), 'genrm-bench-gguf-'));
  try {
    const path = join(dir, 'model.gguf');
    writeLlamaGguf(path, cfg, engine.model.params, engine.tokenizer);
    const gguf = await GgufBackend.load(path, { sequences: batch, contextSize: cfg.maxSeqLen, threads });

    // Direct judging, both orders: the same prompts, the same verdict tokens, the same combination.
    const pairs = worldPairs(nPairs);
    const jc = { ...resolveJudgeConfig({ swap: true }), mode: 'direct' as const };
    const judge = (m: LanguageModel) => judgePairs(m, pairs, compactPairTemplate, jc);
    const [a, b] = [await judge(engine), await judge(gguf)]; // warm up, and the numbers compared
    const maxDiff = Math.max(...a.map((j, i) => Math.abs(j.pA - b[i]!.pA)));
    const maxOrderDiff = Math.max(...a.flatMap((j, i) => j.orders.map((o, k) => Math.abs(o.p - b[i]!.orders[k]!.p))));
    let tEngine = Infinity;
    let tGguf = Infinity;
    for (let r = 0; r < 5; r++) {
      tEngine = Math.min(tEngine, await time(() => judge(engine)));
      tGguf = Math.min(tGguf, await time(() => judge(gguf)));
    }
    const promptTokens =
      pairs.reduce(
        (n, p) =>
          n +
          engine.encode(compactPairTemplate.render({ question: p.prompt as string, answerA: p.answerA, answerB: p.answerB }, 'direct'))
            .length,
        0,
      ) / pairs.length;
    const judging = {
      pairs: pairs.length,
      promptTokens,
      engine: pairs.length / tEngine,
      llamaCpp: pairs.length / tGguf,
      ratio: tEngine / tGguf,
      maxDiffPA: maxDiff,
      maxDiffPerOrder: maxOrderDiff,
      singleTokenVerdicts: gguf.capabilities.singleTokenVerdicts,
    };

    // Greedy decoding.
    const prompts = Array.from({ length: batch }, (_, i) => `Question ${i}: what is ${12 + i} + ${30 - i}?`);
    const rows: Record<string, { engine: number; llamaCpp: number; ratio: number }> = {};
    for (const [label, ps] of [
      ['batch 1', prompts.slice(0, 1)],
      [`batch ${batch}`, prompts],
    ] as const) {
      const e = await tokensPerSecond(engine, [...ps], tokens);
      const l = await tokensPerSecond(gguf, [...ps], tokens);
      rows[label] = { engine: e, llamaCpp: l, ratio: e / l };
    }
    await gguf.dispose();
    if (args.includes('--json')) {
      console.log(JSON.stringify({ model: modelDir, threads, judging, decoding: { tokens, batch, rows } }));
      return;
    }
    console.log(
      `gguf bench: ${modelDir} (d${cfg.dModel} L${cfg.nLayers}, vocab ${cfg.vocabSize}), ${threads} thread(s) each; verdicts single tokens in the GGUF: ${judging.singleTokenVerdicts}`,
    );
    console.log(
      `direct judging, ${judging.pairs} pairs x 2 orders (${promptTokens.toFixed(0)} prompt tokens each): engine ${judging.engine.toFixed(1)} pairs/s, ` +
        `llama.cpp ${judging.llamaCpp.toFixed(1)} pairs/s, llama.cpp/engine ${judging.ratio.toFixed(2)}x (goal >= 0.5); ` +
        `max |P(A) difference| ${maxDiff.toExponential(1)} (per order ${maxOrderDiff.toExponential(1)}; goal <= 0.01)`,
    );
    for (const [label, r] of Object.entries(rows))
      console.log(
        `decoding ${label.padEnd(9)} engine ${r.engine.toFixed(1).padStart(7)} tok/s   llama.cpp ${r.llamaCpp.toFixed(1).padStart(7)} tok/s   engine/llama.cpp ${r.ratio.toFixed(2)}x`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
