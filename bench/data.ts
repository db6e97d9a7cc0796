// Streaming import at scale: generates a large preference file (default ~1 GB, TRL conversational
// lines, some invalid), streams it through the same path as `genrm data convert` (detect, map,
// check, atomic JSONL sink) and reports MB/s and peak RSS sampled during the run. Memory must stay
// flat: peak RSS independent of file size. Run: `npm run bench -- data [--mb 1000] [--json]`.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { openPairs } from '../src/data/formats/load.js';
import { JsonlSink } from '../src/data/jsonl.js';

export const describe = 'generate a ~1 GB preference JSONL and stream it through convert: MB/s and peak RSS (flat memory)';

function opt(args: string[], name: string, def: number): number {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number, got ${args[i + 1]}`);
  return v;
}

async function generate(file: string, bytes: number): Promise<number> {
  const out = createWriteStream(file);
  let written = 0;
  let n = 0;
  const filler = 'lorem ipsum dolor sit amet '.repeat(12);
  while (written < bytes) {
    const parts: string[] = [];
    for (let k = 0; k < 2000; k++, n++) {
      // 1 in 1000 lines is invalid (identical answers) so the skip path is exercised too.
      const rec =
        n % 1000 === 999
          ? {
              prompt: [{ role: 'user', content: `q${n}` }],
              chosen: [{ role: 'assistant', content: 'same' }],
              rejected: [{ role: 'assistant', content: 'same' }],
            }
          : {
              prompt: [{ role: 'user', content: `Question ${n}: ${filler}` }],
              chosen: [{ role: 'assistant', content: `good ${n} ${filler}` }],
              rejected: [{ role: 'assistant', content: `bad ${n} ${filler}` }],
            };
      parts.push(JSON.stringify(rec));
    }
    const chunk = parts.join('\n') + '\n';
    written += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return n;
}

export async function run(args: string[]): Promise<void> {
  const mb = opt(args, '--mb', 1000);
  const json = args.includes('--json');
  const dir = await mkdtemp(join(tmpdir(), 'genrm-bench-data-'));
  try {
    const src = join(dir, 'big.jsonl');
    const t0 = performance.now();
    const lines = await generate(src, mb * 1e6);
    const genS = (performance.now() - t0) / 1000;
    const size = (await stat(src)).size;
    if (!json) console.log(`generated ${(size / 1e6).toFixed(0)} MB, ${lines} lines in ${genS.toFixed(1)} s`);

    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    const rssAt: number[] = []; // RSS at each 10% of the input: flat memory means no upward trend
    const progress = { bytes: 0 };
    const t1 = performance.now();
    const opened = await openPairs(src, { skipInvalid: true, progress });
    const sink = await JsonlSink.open(join(dir, 'out.jsonl'));
    let nextMark = 0.1;
    for await (const { pair } of opened.pairs) {
      await sink.write(pair);
      if (progress.bytes / size >= nextMark) {
        rssAt.push(process.memoryUsage().rss);
        nextMark += 0.1;
      }
    }
    await sink.close();
    const s = (performance.now() - t1) / 1000;
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    const r = opened.report;
    const result = {
      inputMB: size / 1e6,
      seconds: s,
      mbPerSec: size / 1e6 / s,
      pairsPerSec: r.pairs / s,
      pairs: r.pairs,
      invalid: r.invalidTotal,
      rssStartMB: rss0 / 2 ** 20,
      peakRssMB: peak / 2 ** 20,
      rssAtDecilesMB: rssAt.map((x) => Math.round(x / 2 ** 20)),
    };
    if (json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(
        `convert: ${result.mbPerSec.toFixed(1)} MB/s, ${Math.round(result.pairsPerSec)} pairs/s (${r.pairs} pairs, ${r.invalidTotal} invalid skipped) in ${s.toFixed(1)} s`,
      );
      console.log(
        `RSS: start ${result.rssStartMB.toFixed(0)} MB, peak ${result.peakRssMB.toFixed(0)} MB; at each 10% of input: ${result.rssAtDecilesMB.join(' ')} MB`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
