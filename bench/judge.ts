// `npm run bench -- judge [--model DIR] [--random] [--max-tokens 128] [--json]`: judge throughput on
// the committed base model (models/base; or --model DIR), as issue 5 asks: its CoT rationales end
// at their verdict, so CoT costs what it costs in use. --random: a model of the base shape with
// random weights instead (it rarely writes a verdict, so every CoT sample runs to max tokens: the
// worst case).
//
// For 16 pairs (one order each, so exactly 16 prompts in flight):
//   direct judgments/s and CoT judgments/s at k = 1 and k = 8,
//   in-process (EmbeddedBackend) and through `genrm serve` over HTTP (worker thread, batched),
//   batched (one judgePairs call for all 16) vs one pair at a time;
// each the best of several runs (9 direct, 3 CoT), interleaved.
// Targets (issue 5): HTTP/in-process time <= 1.3x; batched vs one-at-a-time >= 5x CoT, >= 2x direct.
//
// The direct row's ceiling (bench/roofline.ts): a direct judgment is one prefill, so batching can
// gain at most what one prompt's products leave of the machine's matmul speed: the bench counts
// the model flops of the 16 prefills, times them both ways, and measures the batch's largest
// product alone (sgemm or packed, the faster) in the same process; their ratio bounds the speed-up.
// The CoT rows' decode roofline (bench/roofline.ts): the engine's own decode step timed per row at
// one judgment's rows (k) and at the batch's (16 k), at the context the batched runs' rationales
// average: what batching gains per decoded token (a judgment's prefill and sampling amortise besides).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedBackend } from '../src/backends/embedded/backend.js';
import type { LanguageModel } from '../src/backends/types.js';
import { openModel } from '../src/cli/judge.js';
import { resolveJudgeConfig } from '../src/judge/config.js';
import { judgePairs, type PairInput } from '../src/judge/pairwise.js';
import { compactPairTemplate } from '../src/judge/templates.js';
import { startServer } from '../src/serve/server.js';
import { randomBaseCheckpoint } from './serveCommon.js';
import { decodeLine, decodeRoofline, directRoofline, type DecodeRoofline } from './roofline.js';

export const describe = 'judge throughput: direct and CoT (k=1, 8), in-process vs genrm serve over HTTP, batched vs one at a time';

function pairs(n: number): PairInput[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `p${i}`,
    prompt: `What is ${17 + i}+${25 + 3 * i}?`,
    answerA: `${42 + 4 * i}`,
    answerB: `The answer is ${41 + 4 * i}.`,
  }));
}

/** Runs of each measurement, the best kept: a direct round takes ~50 ms, where one run moves ±30 % with the machine, so it gets more. */
const REPEATS = { direct: 9, cot: 3 };

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

export async function run(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const mt = args.indexOf('--max-tokens');
  const maxTokens = mt >= 0 ? Number(args[mt + 1]) : 128;
  const md = args.indexOf('--model');
  const committed = fileURLToPath(new URL('../../models/base', import.meta.url)); // from dist/bench/
  let dir = md >= 0 ? args[md + 1]! : committed;
  let label = dir;
  let cleanup = (): void => {};
  if (args.includes('--random') || !existsSync(join(dir, 'config.json'))) {
    const ck = randomBaseCheckpoint('judge');
    dir = ck.dir;
    cleanup = ck.cleanup;
    label = 'base shape (d256 L4 H4 ffn688 ctx512), random weights';
  }
  const local = EmbeddedBackend.load(dir);
  const srv = await startServer({ model: dir, port: 0, name: 'bench-model' });
  const remote = await openModel({ model: srv.url, apiKeyEnv: 'GENRM_BENCH_NO_KEY' });
  const ps = pairs(16);
  const rows: { case: string; inProcess: number; http: number; oneAtATime: number }[] = [];
  const generated = new Map<string, number>(); // CoT case -> mean rationale tokens of its batched runs
  try {
    const cases = [
      { name: 'direct', cfg: resolveJudgeConfig({ mode: 'direct', swap: false }) },
      { name: 'cot k=1', cfg: resolveJudgeConfig({ mode: 'cot', votes: 1, swap: false, maxTokens }) },
      { name: 'cot k=8', cfg: resolveJudgeConfig({ mode: 'cot', votes: 8, swap: false, maxTokens }) },
    ];
    const judge = (m: LanguageModel, p: PairInput[], cfg: ReturnType<typeof resolveJudgeConfig>) =>
      judgePairs(m, p, compactPairTemplate, cfg);
    await judge(local, ps.slice(0, 2), cases[0]!.cfg); // warm up kernels
    await judge(remote, ps.slice(0, 2), cases[0]!.cfg);
    // Each measurement several times, the three ways interleaved, and the best kept: one run of a
    // second or less moved by ±30 % with whatever else the machine did.
    for (const c of cases) {
      const best = { inProcess: Infinity, http: Infinity, oneAtATime: Infinity };
      for (let r = 0; r < (c.name === 'direct' ? REPEATS.direct : REPEATS.cot); r++) {
        let out: Awaited<ReturnType<typeof judge>> = [];
        best.inProcess = Math.min(best.inProcess, await time(async () => void (out = await judge(local, ps, c.cfg))));
        const texts = out.flatMap((j) => j.orders.flatMap((o) => (o.cot?.rationales ?? []).map((x) => x.text)));
        if (texts.length > 0) generated.set(c.name, texts.reduce((t, x) => t + local.encode(x).length, 0) / texts.length);
        best.http = Math.min(best.http, await time(() => judge(remote, ps, c.cfg)));
        best.oneAtATime = Math.min(
          best.oneAtATime,
          await time(async () => {
            for (const p of ps) await judge(local, [p], c.cfg);
          }),
        );
      }
      rows.push({ case: c.name, ...best });
    }
  } finally {
    await srv.close();
    cleanup();
  }
  const cfg = local.model.config;
  const promptLen = (p: PairInput, mode: 'direct' | 'cot'): number =>
    local.encode(compactPairTemplate.render({ question: p.prompt as string, answerA: p.answerA, answerB: p.answerB }, mode)).length;
  const lens = ps.map((p) => promptLen(p, 'direct'));
  const direct = rows[0]!;
  const roofline = directRoofline(cfg, lens, ps.length / direct.oneAtATime, ps.length / direct.inProcess);
  const cotLen = Math.round(ps.reduce((t, p) => t + promptLen(p, 'cot'), 0) / ps.length);
  const decode: Record<string, DecodeRoofline> = {};
  for (const [name, votes] of [
    ['cot k=1', 1],
    ['cot k=8', 8],
  ] as const)
    decode[name] = decodeRoofline(local.model, {
      judgments: ps.length,
      votes,
      promptLen: cotLen,
      generated: generated.get(name) ?? maxTokens,
    });
  const report = rows.map((r) => ({
    ...r,
    judgmentsPerSecInProcess: 16 / r.inProcess,
    judgmentsPerSecHttp: 16 / r.http,
    httpRatio: r.http / r.inProcess,
    batchedSpeedup: r.oneAtATime / r.inProcess,
  }));
  if (json) {
    console.log(
      JSON.stringify({ model: label, maxTokens, pairs: 16, rows: report, directRoofline: roofline, decodeRoofline: decode }, null, 2),
    );
    return;
  }
  console.log(`judge bench: ${label}; 16 pairs, one order; CoT max tokens ${maxTokens}`);
  console.log('case       in-proc j/s   HTTP j/s   HTTP/in-proc (<=1.3)   batched vs 1-at-a-time (>=2 direct, >=5 CoT)');
  for (const r of report)
    console.log(
      `${r.case.padEnd(10)} ${r.judgmentsPerSecInProcess.toFixed(2).padStart(11)} ${r.judgmentsPerSecHttp.toFixed(2).padStart(10)} ${r.httpRatio.toFixed(2).padStart(22)}x ${r.batchedSpeedup.toFixed(1).padStart(24)}x`,
    );
  const f = (x: number): string => x.toFixed(1);
  console.log(
    `direct, in model flops (${roofline.promptTokens} prompt tokens, ${roofline.gflop.toFixed(2)} GFLOP): one pair at a time ${f(roofline.oneAtATimeGflops)} GFLOP/s, ` +
      `batched ${f(roofline.batchedGflops)}; the largest product of the batch alone (${roofline.promptTokens}x${cfg.ffnHidden}x${cfg.dModel}) ${f(roofline.matmulPeakGflops)}: ` +
      `batching can gain at most ~${roofline.ceiling.toFixed(1)}x here`,
  );
  for (const [name, d] of Object.entries(decode)) console.log(decodeLine(name, d));
}
