// `npm run bench -- serve [--seconds 6] [--levels 1,16,64,256] [--rounds 3] [--votes 4] [--max-tokens 32] [--kv-cache f32|f16] [--long] [--json]`
//
// Load against `genrm serve` on loopback (127.0.0.1, ephemeral port, in this process; the model
// in its worker thread): a closed-loop generator of our own over fetch (C clients, each sends its
// next POST /v1/judge when the last one is answered) for a bounded time per level, then waits for
// what is in flight. A model of the base shape (d256 L4 H4 ffn688 ctx512) with random weights,
// as bench/judge.ts (throughput does not depend on what the weights say). Both servers decode up
// to 256 rows per engine step (--max-batch-rows; the engine's default 64 splits a big CoT batch).
// A level's throughput counts the drain after its window, so windows well above one batch's time
// (seconds for CoT at c=64 on 2 cores) measure steady state; shorter ones understate batching.
//
// Per mode (direct: verdict log-probs; CoT: `votes` rationales of `max-tokens`), one order each:
//   throughput (judgments/s), p50/p99 latency, non-2xx counts, peak RSS, at each concurrency;
//   speed-up of dynamic batching (max batch 256) over one at a time (max batch 1) at concurrency 64:
//   the median ratio of --rounds pairs of windows run back to back (batched, then one at a time).
// Targets (issue 8): no non-2xx below the queue limit (1024); batching >= 4x for CoT, >= 2x direct.
// Direct's ceiling (bench/roofline.ts): a direct judgment is one prefill, already tens of rows, so
// batching gains at most the batch's largest product's GFLOP/s over one-at-a-time's; printed beside it.
// CoT's decode roofline (bench/roofline.ts): the engine's decode step per row at one request's
// rows (its votes) and at 64 requests' (64 x votes), the model alone: what batching gains per
// decoded token.
// --long: 60 s at concurrency 64 (direct), RSS each second; memory should stay flat.
// --kv-cache f16: both servers generate with a half-precision KV cache (genrm serve --kv-cache).
// --attack: hostile load instead (bench/serveAttack.ts): /health latency and good-request throughput
// while oversized, abandoned and slow-header requests run.
// --stream: streaming latency instead (bench/serveStream.ts): first text chunk / total time of a
// 256-token `stream: true` request, against the same request buffered.
import { flag, randomBaseCheckpoint } from './serveCommon.js';
import { EmbeddedBackend } from '../src/backends/embedded/backend.js';
import { compactPairTemplate } from '../src/judge/templates.js';
import { startServer } from '../src/serve/server.js';
import { runAttack } from './serveAttack.js';
import { runStream } from './serveStream.js';
import { decodeLine, decodeRoofline, directRoofline, type DecodeRoofline, type DirectRoofline } from './roofline.js';

export const describe =
  'reward server under load: throughput, p50/p99, errors, RSS at concurrency 1-256; dynamic batching vs one at a time (direct, CoT); --attack: under hostile load; --stream: first-byte latency of streaming';

interface LoadResult {
  concurrency: number;
  seconds: number;
  ok: number;
  non2xx: Record<string, number>;
  failed: number;
  throughput: number;
  p50ms: number;
  p99ms: number;
  peakRssMB: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** C clients in closed loops for `seconds`, then the requests in flight finish. */
async function load(
  url: string,
  body: (i: number) => unknown,
  concurrency: number,
  seconds: number,
  onTick?: (rssMB: number) => void,
): Promise<LoadResult> {
  const lat: number[] = [];
  const non2xx: Record<string, number> = {};
  let failed = 0;
  let peak = 0;
  const sampler = setInterval(
    () => {
      const rss = process.memoryUsage.rss() / 2 ** 20;
      peak = Math.max(peak, rss);
      onTick?.(rss);
    },
    onTick ? 1000 : 100,
  );
  const t0 = performance.now();
  const stopAt = t0 + seconds * 1000;
  let n = 0;
  const client = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const t = performance.now();
      try {
        const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body(n++)) });
        await r.arrayBuffer();
        if (r.status >= 200 && r.status < 300) lat.push(performance.now() - t);
        else non2xx[r.status] = (non2xx[r.status] ?? 0) + 1;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss() / 2 ** 20);
  lat.sort((a, b) => a - b);
  return {
    concurrency,
    seconds: elapsed,
    ok: lat.length,
    non2xx,
    failed,
    throughput: lat.length / elapsed,
    p50ms: quantile(lat, 0.5),
    p99ms: quantile(lat, 0.99),
    peakRssMB: peak,
  };
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--attack')) return runAttack(args);
  if (args.includes('--stream')) return runStream(args);
  const json = args.includes('--json');
  const seconds = Number(flag(args, '--seconds', '6'));
  const levels = flag(args, '--levels', '1,16,64,256').split(',').map(Number);
  const votes = Number(flag(args, '--votes', '4'));
  const maxTokens = Number(flag(args, '--max-tokens', '32'));
  const kvCache = flag(args, '--kv-cache', 'f32');
  const rounds = Number(flag(args, '--rounds', '3'));
  if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 20))
    throw new RangeError(`bench serve: --rounds must be an integer in [1, 20], got ${rounds}`);
  if (kvCache !== 'f32' && kvCache !== 'f16') throw new RangeError(`bench serve: --kv-cache must be f32 or f16, got ${kvCache}`);
  if (!(seconds > 0 && seconds <= 600) || levels.some((c) => !(Number.isInteger(c) && c >= 1 && c <= 1024)))
    throw new RangeError('bench serve: --seconds in (0, 600], --levels integers in [1, 1024]');

  const ck = randomBaseCheckpoint('serve');
  const { dir, config, llama } = ck;

  const modes = {
    direct: (i: number) => ({
      prompt: `What is ${17 + (i % 50)}+${25 + (i % 7)}?`,
      a: `${42 + (i % 50)}`,
      b: `The answer is ${41 + (i % 50)}.`,
      mode: 'direct',
      swap: false,
    }),
    cot: (i: number) => ({
      prompt: `What is ${17 + (i % 50)}+${25 + (i % 7)}?`,
      a: `${42 + (i % 50)}`,
      b: `The answer is ${41 + (i % 50)}.`,
      mode: 'cot',
      votes,
      max_tokens: maxTokens,
      swap: false,
    }),
  };
  // Tokens of the prompt the server renders for request i (its compact template, with the
  // beginning-of-sequence token); the checkpoint's tokenizer, loaded once.
  let enc: EmbeddedBackend | undefined;
  const promptLen = (mode: keyof typeof modes, i: number): number => {
    enc ??= EmbeddedBackend.load(dir);
    const r = modes[mode](i);
    return enc.encode(compactPairTemplate.render({ question: r.prompt, answerA: r.a, answerB: r.b }, mode)).length;
  };
  const report: { mode: string; batched: LoadResult[]; oneAtATime: LoadResult | null; speedup: number | null; speedups: number[] }[] = [];
  let roofline: DirectRoofline | null = null;
  let decode: DecodeRoofline | null = null;
  let long: { rssMB: number[]; growthPct: number; result: LoadResult } | null = null;
  const log = (s: string): void => void (json ? process.stderr.write(s + '\n') : console.log(s));
  try {
    for (const [mode, body] of Object.entries(modes)) {
      const srv = await startServer({ model: dir, port: 0, name: 'bench', timeoutMs: 0, maxBatchRows: 256, kvCache });
      // The one-at-a-time server (max batch 1) runs beside it, idle until its rounds.
      const single = levels.includes(64)
        ? await startServer({ model: dir, port: 0, name: 'bench', timeoutMs: 0, maxBatch: 1, maxBatchRows: 256, kvCache })
        : null;
      const url = srv.url.replace(/\/v1$/, '/v1/judge');
      const batched: LoadResult[] = [];
      let oneAtATime: LoadResult | null = null;
      let speedup: number | null = null;
      let speedups: number[] = [];
      try {
        await load(url, body, 4, 0.5); // warm up kernels
        for (const c of levels) {
          const r = await load(url, body, c, seconds);
          batched.push(r);
          log(
            `${mode} batched c=${c}: ${r.throughput.toFixed(1)} j/s, p50 ${r.p50ms.toFixed(0)} ms, p99 ${r.p99ms.toFixed(0)} ms, non-2xx ${JSON.stringify(r.non2xx)}, failed ${r.failed}, peak RSS ${r.peakRssMB.toFixed(0)} MB`,
          );
        }
        if (mode === 'direct' && args.includes('--long')) {
          const rss: number[] = [];
          const result = await load(url, body, 64, 60, (m) => rss.push(m));
          // After warm-up (allocator pools and JIT settle in the first seconds), the median RSS of
          // seconds 10-20 against that of the last 10: one sample swings ±30 MB with the GC.
          const median = (xs: number[]): number => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);
          const first = median(rss.slice(10, 20));
          const last = median(rss.slice(-10));
          long = { rssMB: rss, growthPct: ((last - first) / first) * 100, result };
          log(
            `direct long (60 s, c=64): RSS median ${first.toFixed(0)} MB over 10-20 s -> ${last.toFixed(0)} MB over the last 10 s (${long.growthPct.toFixed(1)}%), ${result.throughput.toFixed(1)} j/s`,
          );
        }
        if (single) {
          // Batched and one at a time at c=64, interleaved `rounds` times: one window of either
          // moved by up to 50 % between runs here (other load on the machine), so the speed-up is
          // the median of the rounds' ratios, each from windows run back to back.
          const u = single.url.replace(/\/v1$/, '/v1/judge');
          await load(u, body, 4, 0.5);
          const ones: LoadResult[] = [];
          for (let r = 0; r < rounds; r++) {
            const b = await load(url, body, 64, seconds);
            const o = await load(u, body, 64, seconds);
            ones.push(o);
            speedups.push(b.throughput / o.throughput);
            log(
              `${mode} c=64 round ${r + 1}: batched ${b.throughput.toFixed(1)} j/s, one at a time ${o.throughput.toFixed(1)} j/s (p50 ${o.p50ms.toFixed(0)} ms): ${(b.throughput / o.throughput).toFixed(2)}x`,
            );
          }
          speedups = [...speedups].sort((a, b) => a - b);
          speedup = speedups[Math.floor(speedups.length / 2)]!;
          oneAtATime = [...ones].sort((a, b) => a.throughput - b.throughput)[Math.floor(ones.length / 2)]!;
        }
      } finally {
        await srv.close();
        await single?.close();
      }
      const b64 = batched.find((r) => r.concurrency === 64);
      report.push({ mode, batched, oneAtATime, speedup, speedups });
      if (mode === 'direct' && b64 && oneAtATime) {
        // The prompts of 64 requests in flight: one batch's prefill rows.
        const lens = Array.from({ length: 64 }, (_, i) => promptLen('direct', i));
        roofline = directRoofline(config, lens, oneAtATime.throughput, b64.throughput);
      }
      if (mode === 'cot' && oneAtATime) {
        // 64 requests of `votes` rows each against one request's; random weights rarely stop, so
        // every rationale runs to max tokens.
        decode = decodeRoofline(llama, { judgments: 64, votes, promptLen: promptLen('cot', 0), generated: maxTokens, kvCache });
      }
    }
  } finally {
    ck.cleanup();
  }
  if (json) {
    console.log(
      JSON.stringify(
        { model: 'base shape, random weights', seconds, votes, maxTokens, report, directRoofline: roofline, decodeRoofline: decode, long },
        null,
        2,
      ),
    );
    return;
  }
  console.log(
    `\nserve bench: base shape (d256 L4 H4 ffn688 ctx512), random weights; POST /v1/judge one order; CoT ${votes} votes x ${maxTokens} tokens; ${seconds} s per level`,
  );
  console.log('mode    conc   judg/s   p50 ms   p99 ms   non-2xx  failed  peak RSS MB');
  for (const r of report)
    for (const x of r.batched)
      console.log(
        `${r.mode.padEnd(6)} ${String(x.concurrency).padStart(5)} ${x.throughput.toFixed(1).padStart(8)} ${x.p50ms.toFixed(0).padStart(8)} ${x.p99ms.toFixed(0).padStart(8)} ${String(Object.values(x.non2xx).reduce((a, b) => a + b, 0)).padStart(9)} ${String(x.failed).padStart(7)} ${x.peakRssMB.toFixed(0).padStart(12)}`,
      );
  for (const r of report)
    if (r.speedup !== null)
      console.log(
        `${r.mode}: dynamic batching vs one at a time at c=64: ${r.speedup.toFixed(1)}x, median of ${r.speedups.length} interleaved rounds (${r.speedups[0]!.toFixed(1)}-${r.speedups.at(-1)!.toFixed(1)}x) (target >= ${r.mode === 'cot' ? 4 : 2}x)`,
      );
  if (roofline)
    console.log(
      `direct at c=64, in model flops (${((roofline.gflop / 64) * 1000).toFixed(0)} MFLOP a judgment): one at a time ${roofline.oneAtATimeGflops.toFixed(1)} GFLOP/s, batched ${roofline.batchedGflops.toFixed(1)}; ` +
        `the largest product of a 64-request batch alone (${roofline.promptTokens}x${config.ffnHidden}x${config.dModel}) ${roofline.matmulPeakGflops.toFixed(1)}: batching can gain at most ~${roofline.ceiling.toFixed(1)}x here`,
    );
  if (decode) console.log(decodeLine('cot at c=64', decode));
  if (long)
    console.log(`long run: RSS growth ${long.growthPct.toFixed(1)}% (median of 10-20 s vs the last 10 s; flat: small next to the heap)`);
}
