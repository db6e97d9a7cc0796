// `npm run bench -- lm [--json] [--tokens N] [--threads N] [--torch-rounds N]`
//
// Generation and scoring throughput of the reference model (vocab 512, d_model 256, 4 layers,
// 4 heads, SwiGLU 688; random weights) through src/engine/sampling:
// 1. generation tokens/s with the KV cache at batch 1, 16 and 64 (distinct 32-token prompts,
//    N new tokens each, stop tokens off so every row runs to N), and the per-token speed-up of
//    batching over batch 1 (target >= 3x); prompts × n forks (4 prompts × 16 samples);
//    and at batch 64 the float32 KV cache against the half-precision one (kvCache: 'f16');
// 2. where the time goes at batch 64: kernel time by op vs everything else (JS: sampling,
//    allocation, bookkeeping);
// 3. prefill strategies on mixed prompt lengths: one left-padded forward vs one per prompt;
// 4. scoring tokens/s: teacher-forced continuation log-likelihoods, and candidate logprobs;
// 5. training tokens/s: a hook for the training loop (see TRAINING_HOOK below);
// 6. where python3 has torch (Debian's python3-torch): the same generation in a plain PyTorch
//    KV-cached sampling loop (bench/torch_sample.py), and our tokens/s over its at each batch
//    (goal >= 2x), in --torch-rounds rounds (default 3) of torch then ours back to back, the median
//    round reported with the range; skipped with the reason otherwise.
// Peak RSS at the end.
import { performance } from 'node:perf_hooks';
import { kernels, setKernels } from '../src/engine/kernels/index.js';
import { Llama, type ModelConfig } from '../src/engine/model/index.js';
import { Prng } from '../src/engine/prng.js';
import { Tokenizer } from '../src/engine/tokenizer/index.js';
import { continuationLogprobs, candidateLogprobs, generate, type DecodeOptions } from '../src/engine/sampling/index.js';
import { profileKernels } from './profile.js';
import { runTorchScript, torchPython } from './torch.js';
import { trainingThroughput, type TrainThroughput } from './train-step.js';

export const describe = 'generation tokens/s at batch 1/16/64 with the KV cache, scoring tokens/s, where decode time goes';

const REF: ModelConfig = {
  vocabSize: 512,
  dModel: 256,
  nLayers: 4,
  nHeads: 4,
  nKvHeads: 4,
  ffnHidden: 688,
  maxSeqLen: 256,
  ropeTheta: 10000,
  normEps: 1e-5,
  tieEmbeddings: false,
};
const PROMPT_LEN = 32;

function opt(args: string[], name: string, def: number): number {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} needs a positive integer, got ${args[i + 1]}`);
  return v;
}

/** A tokenizer whose vocabulary matches the model's 512 ids (bytes, specials, filler specials). */
function benchTokenizer(): Tokenizer {
  const filler = Array.from({ length: REF.vocabSize - 258 }, (_, i) => `<|f${i}|>`);
  return Tokenizer.byteLevel({ specials: filler });
}

function prompts(count: number, len: (i: number) => number, seed: number): number[][] {
  const rng = new Prng(seed);
  return Array.from({ length: count }, (_, i) => Array.from({ length: len(i) }, () => rng.int(256)));
}

function timeIt(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

// ---- TRAINING_HOOK ---------------------------------------------------------------------------
// Training tokens/s through the shared training loop (src/train/), measured in bench/train-step.ts;
// `npm run bench -- engine` measures the bare forward+backward+AdamW step.
function trainingTokensPerSec(): { tokensPerSec: number; shapes: TrainThroughput[] } | { skipped: string } {
  const shapes = trainingThroughput(); // bench/train-step.ts: the shared loop at the reference shape (and the base preset's)
  return { tokensPerSec: shapes[0]!.tokensPerSec, shapes };
}
// -----------------------------------------------------------------------------------------------

interface TorchSampleRow {
  batch: number;
  ms: number;
  tokensPerSec: number;
}
interface TorchRatioRow {
  batch: number;
  /** Medians over the rounds: torch's tokens/s (its better thread count), ours, and ours / torch. */
  tokensPerSec: number;
  ours: number;
  ratio: number;
  /** Each round's ratio, ascending. */
  ratios: number[];
}
type TorchSampling = { version: string; rounds: number; rows: TorchRatioRow[] } | { skipped: string };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * bench/torch_sample.py at batch 1, 16, 64 with torch at 1 and 2 threads (its better one), then
 * our same generations (`ours(batch)`, tokens/s), in `rounds` rounds back to back: the host's
 * speed moves by tens of percent within minutes, so each ratio compares runs a few seconds apart,
 * and the report gives the median round and the range.
 */
function torchSampling(newTokens: number, rounds: number, ours: (batch: number) => number): TorchSampling {
  const py = torchPython();
  if (!py) return { skipped: 'python3 with torch not found (apt-get install -y python3-torch)' };
  try {
    let version = '';
    const perRound: { batch: number; torch: number; ours: number }[][] = [];
    for (let r = 0; r < rounds; r++) {
      const runs = [1, 2].map((t) =>
        runTorchScript<{ torch: string; threads: number; rows: TorchSampleRow[] }>(py, 'torch_sample.py', [
          '--tokens',
          String(newTokens),
          '--threads',
          String(t),
          '--batches',
          '1,16,64',
        ]),
      );
      version = runs[0]!.torch;
      perRound.push(
        runs[0]!.rows.map((row, i) => ({
          batch: row.batch,
          torch: Math.max(row.tokensPerSec, runs[1]!.rows[i]!.tokensPerSec),
          ours: ours(row.batch),
        })),
      );
    }
    const rows = perRound[0]!.map((_, i) => {
      const at = perRound.map((round) => round[i]!);
      return {
        batch: at[0]!.batch,
        tokensPerSec: median(at.map((x) => x.torch)),
        ours: median(at.map((x) => x.ours)),
        ratio: median(at.map((x) => x.ours / x.torch)),
        ratios: at.map((x) => x.ours / x.torch).sort((a, b) => a - b),
      };
    });
    return { version, rounds, rows };
  } catch (e) {
    return { skipped: (e as Error).message };
  }
}

export async function run(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const newTokens = opt(args, '--tokens', 64);
  const torchRounds = opt(args, '--torch-rounds', 3);
  if (args.includes('--threads')) kernels().setThreads(opt(args, '--threads', 2));
  const log = (s: string): void => {
    if (!json) console.log(s);
  };
  const info = kernels().info();
  log(`kernels: ${info.backend}${info.blas ? ` (${info.blas})` : ''}, ${info.threads} thread(s)${info.reason ? `; ${info.reason}` : ''}`);
  const model = new Llama(REF, { seed: 1 });
  const tok = benchTokenizer();
  const base: DecodeOptions = { maxTokens: newTokens, stopTokens: [], temperature: 1, topP: 0.95, seed: 1 };
  log(`\ngeneration: reference model, ${PROMPT_LEN}-token prompts, ${newTokens} new tokens per row, temperature 1, top-p 0.95`);
  generate(
    model,
    tok,
    prompts(2, () => PROMPT_LEN, 9),
    { ...base, maxTokens: 4 },
  ); // warm-up

  const gen: { batch: number; prompts: number; n: number; ms: number; tokensPerSec: number; speedup: number }[] = [];
  const cases = [
    { prompts: 1, n: 1 },
    { prompts: 16, n: 1 },
    { prompts: 64, n: 1 },
    { prompts: 4, n: 16 },
  ];
  // `count` distinct prompts x n samples: best ms (of 3 at batch 1, where one run is ~0.1 s) and tokens/s.
  const timeGeneration = (count: number, n: number): { ms: number; tokensPerSec: number } => {
    const ps = prompts(count, () => PROMPT_LEN, count);
    let ms = Infinity;
    for (let r = 0; r < (count * n === 1 ? 3 : 1); r++)
      ms = Math.min(
        ms,
        timeIt(() => generate(model, tok, ps, { ...base, n })),
      );
    return { ms, tokensPerSec: (count * n * newTokens) / (ms / 1000) };
  };
  for (const cs of cases) {
    const { ms: best, tokensPerSec: tps } = timeGeneration(cs.prompts, cs.n);
    const batch = cs.prompts * cs.n;
    gen.push({ batch, prompts: cs.prompts, n: cs.n, ms: best, tokensPerSec: tps, speedup: tps / (gen[0]?.tokensPerSec ?? tps) });
    const g = gen.at(-1)!;
    log(
      `  batch ${String(batch).padStart(2)} (${cs.prompts} prompts × n ${cs.n}): ${best.toFixed(0).padStart(6)} ms, ${tps.toFixed(0).padStart(6)} tokens/s, ${g.speedup.toFixed(1)}× batch 1 per token`,
    );
  }
  // The half-precision KV cache (opt-in) at batch 64, beside the float32 run above, both best of 2.
  const ps64h = prompts(64, () => PROMPT_LEN, 64);
  const kv = { f32: Infinity, f16: Infinity };
  for (let r = 0; r < 2; r++)
    for (const dtype of ['f32', 'f16'] as const)
      kv[dtype] = Math.min(
        kv[dtype],
        timeIt(() => generate(model, tok, ps64h, { ...base, kvCache: dtype })),
      );
  const kvCache = { f32TokensPerSec: (64 * newTokens) / (kv.f32 / 1000), f16TokensPerSec: (64 * newTokens) / (kv.f16 / 1000) };
  log(
    `  batch 64, KV cache f32 vs f16 (kvCache: 'f16'): ${kvCache.f32TokensPerSec.toFixed(0)} vs ${kvCache.f16TokensPerSec.toFixed(0)} tokens/s, ${(kvCache.f16TokensPerSec / kvCache.f32TokensPerSec).toFixed(2)}×`,
  );

  // Where decode time goes at batch 64: kernels (by op) vs the rest.
  const inner = kernels();
  const prof = profileKernels(inner);
  setKernels(prof.kernels);
  const ps64 = prompts(64, () => PROMPT_LEN, 64);
  const total = timeIt(() => generate(model, tok, ps64, base));
  setKernels(inner);
  const ops = prof.report();
  const kernelMs = ops.reduce((a, o) => a + o.ms, 0);
  log(
    `\nbatch 64 profile: ${total.toFixed(0)} ms total, kernels ${kernelMs.toFixed(0)} ms, other (JS: sampling, allocation, bookkeeping) ${(total - kernelMs).toFixed(0)} ms`,
  );
  for (const o of ops.slice(0, 6)) log(`  ${o.op.padEnd(18)} ${o.ms.toFixed(0).padStart(6)} ms  ${String(o.calls).padStart(6)} calls`);

  // Prefill strategy on mixed lengths (8..120 tokens), 16 prompts × n 4.
  const mixed = prompts(16, (i) => 8 + ((i * 37) % 113), 5);
  const pre: Record<string, number> = {};
  for (const strategy of ['padded', 'each', 'padded', 'each'] as const) {
    const ms = timeIt(() => generate(model, tok, mixed, { ...base, n: 4, maxTokens: 16, prefill: strategy }));
    pre[strategy] = Math.min(pre[strategy] ?? Infinity, ms);
  }
  log(`\nprefill, 16 prompts of 8..120 tokens × n 4, 16 new tokens: padded ${pre.padded!.toFixed(0)} ms, each ${pre.each!.toFixed(0)} ms`);

  // Scoring: 64 pairs of a 64-token prompt + 64-token continuation; and candidate logprobs.
  const items = prompts(64, () => 128, 3).map((s) => ({ prompt: s.slice(0, 64), continuation: s.slice(64) }));
  continuationLogprobs(model, items.slice(0, 2));
  const scoreMs = Math.min(
    timeIt(() => continuationLogprobs(model, items)),
    timeIt(() => continuationLogprobs(model, items)),
  );
  const scoreTps = (64 * 128) / (scoreMs / 1000);
  const cand = prompts(64, () => 128, 4);
  const candMs = Math.min(
    timeIt(() => candidateLogprobs(model, cand, [[300], [301]])),
    timeIt(() => candidateLogprobs(model, cand, [[300], [301]])),
  );
  const candTps = (64 * 128) / (candMs / 1000);
  log(
    `\nscoring: continuation log-likelihood ${scoreTps.toFixed(0)} tokens/s (64 × (64 + 64) tokens in ${scoreMs.toFixed(0)} ms); candidate logprobs ${candTps.toFixed(0)} prompt tokens/s (64 × 128 in ${candMs.toFixed(0)} ms)`,
  );

  const training = trainingTokensPerSec();
  log(`\ntraining tokens/s: ${'skipped' in training ? `skipped (${training.skipped})` : training.tokensPerSec.toFixed(0)}`);
  // Ours again right after each torch run, at its batches (distinct prompts, n 1), as above.
  const torch = torchSampling(newTokens, torchRounds, (batch) => timeGeneration(batch, 1).tokensPerSec);
  if ('skipped' in torch) log(`pytorch KV-cached sampling ratio: skipped (${torch.skipped})`);
  else {
    log(
      `pytorch ${torch.version} KV-cached sampling loop, same model and work (torch at 1 and 2 threads, its better one), ${torch.rounds} rounds of torch then genrm back to back, medians:`,
    );
    for (const r of torch.rows)
      log(
        `  batch ${String(r.batch).padStart(2)}: torch ${r.tokensPerSec.toFixed(0).padStart(6)} tokens/s, genrm ${r.ours.toFixed(0).padStart(6)}: ${r.ratio.toFixed(2)}x (rounds ${r.ratios[0]!.toFixed(2)}-${r.ratios.at(-1)!.toFixed(2)}x; goal >= 2x)`,
      );
  }
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  const b1 = gen[0]!.tokensPerSec;
  const best = Math.max(...gen.slice(1, 3).map((g) => g.tokensPerSec));
  log(`\npeak RSS ${rssMiB.toFixed(0)} MiB; batched/batch-1 per token: ${(best / b1).toFixed(1)}× (target >= 3×)`);
  if (json) {
    console.log(
      JSON.stringify(
        {
          kernels: info,
          newTokens,
          promptLen: PROMPT_LEN,
          generation: gen,
          kvCache,
          profileBatch64: { totalMs: total, kernelMs, otherMs: total - kernelMs, ops },
          prefillMs: pre,
          scoring: { continuationTokensPerSec: scoreTps, candidatePromptTokensPerSec: candTps },
          training,
          torch,
          peakRssMiB: rssMiB,
          batchedOverBatch1: best / b1,
        },
        null,
        2,
      ),
    );
  }
}

// Direct run: `npx tsx bench/lm.ts [--json]`.
if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
