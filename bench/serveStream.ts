// `npm run bench -- serve --stream [--max-tokens 256] [--rounds 5] [--json]`
//
// Streaming latency of genrm serve (in this process, the model in its worker thread; the base
// model's shape with random weights, bench/serveCommon.ts): one client at a time sends a
// `stream: true` request of --max-tokens tokens (completions and chat, n 1 and n 2) and times the
// arrival of the response's first body bytes, its first and last text chunks, and its end; the same
// request without `stream` runs beside it, back to back, as the baseline. Per case, medians of
// --rounds pairs:
//   first byte / total: when the client sees its first text, as a share of the streamed request's
//     whole time (target <= 0.10 at 256 tokens: issue 21);
//   first byte / buffered: the same against the non-streamed request's time;
//   streamed / buffered: what streaming costs in total time (SSE framing, one message per step).
// Random weights can draw the end-of-text token early; each case first finds a seed whose every
// sample runs to --max-tokens, so all rounds decode the same number of tokens.
import { startServer } from '../src/serve/server.js';
import { flag, randomBaseCheckpoint } from './serveCommon.js';

interface Timing {
  firstByteMs: number;
  firstTextMs: number;
  lastTextMs: number;
  totalMs: number;
  textChunks: number;
}

interface CaseResult {
  endpoint: 'completions' | 'chat';
  n: number;
  seed: number;
  buffered: number[];
  streamed: Timing[];
  firstByteShare: number;
  firstByteOfBuffered: number;
  streamedOverBuffered: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function body(endpoint: 'completions' | 'chat', n: number, seed: number, maxTokens: number, stream: boolean): unknown {
  const common = { n, seed, max_tokens: maxTokens, temperature: 1, ...(stream ? { stream: true } : {}) };
  return endpoint === 'chat'
    ? { ...common, messages: [{ role: 'user', content: 'Write something long.' }] }
    : { ...common, prompt: 'Once upon a time' };
}

async function post(url: string, b: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
}

/** One streamed request: when its bytes and its text chunks arrive (ms from sending). */
async function streamed(url: string, b: unknown): Promise<Timing> {
  const t0 = performance.now();
  const r = await post(url, b);
  if (!r.ok || !r.body) throw new Error(`bench serve --stream: ${r.status} ${await r.text()}`);
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  let firstByteMs = NaN;
  let firstTextMs = NaN;
  let lastTextMs = NaN;
  let textChunks = 0;
  for (;;) {
    const { done, value } = await reader.read();
    const t = performance.now() - t0;
    if (done) break;
    if (Number.isNaN(firstByteMs)) firstByteMs = t;
    buf += dec.decode(value, { stream: true });
    let cut: number;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const event = buf.slice(0, cut).replace(/^data: /, '');
      buf = buf.slice(cut + 2);
      if (event === '[DONE]') continue;
      const c = (JSON.parse(event) as { choices: { text?: string; delta?: { content?: string } }[] }).choices[0];
      if (!(c?.text || c?.delta?.content)) continue;
      textChunks++;
      if (Number.isNaN(firstTextMs)) firstTextMs = t;
      lastTextMs = t;
    }
  }
  return { firstByteMs, firstTextMs, lastTextMs, totalMs: performance.now() - t0, textChunks };
}

export async function runStream(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const maxTokens = Number(flag(args, '--max-tokens', '256'));
  const rounds = Number(flag(args, '--rounds', '5'));
  if (!(Number.isInteger(maxTokens) && maxTokens >= 1 && maxTokens <= 480) || !(Number.isInteger(rounds) && rounds >= 1 && rounds <= 50))
    throw new RangeError('bench serve --stream: --max-tokens an integer in [1, 480] (the context is 512), --rounds an integer in [1, 50]');
  const log = (s: string): void => void (json ? process.stderr.write(s + '\n') : console.log(s));
  const ck = randomBaseCheckpoint('serve --stream');
  const srv = await startServer({ model: ck.dir, port: 0, name: 'bench', timeoutMs: 0 });
  const results: CaseResult[] = [];
  try {
    for (const endpoint of ['completions', 'chat'] as const) {
      const url = `${srv.url}/${endpoint === 'chat' ? 'chat/completions' : 'completions'}`;
      for (const n of [1, 2]) {
        // A seed whose every sample runs to max tokens (also warms the kernels up).
        let seed = -1;
        for (let s = 1; s <= 40 && seed < 0; s++) {
          const r = (await (await post(url, body(endpoint, n, s, maxTokens, false))).json()) as {
            choices: { finish_reason: string }[];
            usage: { completion_tokens: number };
          };
          if (r.choices.every((c) => c.finish_reason === 'length') && r.usage.completion_tokens === n * maxTokens) seed = s;
        }
        if (seed < 0) throw new Error(`bench serve --stream: no seed in 1..40 ran ${endpoint} n ${n} to ${maxTokens} tokens`);
        const buffered: number[] = [];
        const timings: Timing[] = [];
        for (let r = 0; r < rounds; r++) {
          const t0 = performance.now();
          await (await post(url, body(endpoint, n, seed, maxTokens, false))).arrayBuffer();
          buffered.push(performance.now() - t0);
          timings.push(await streamed(url, body(endpoint, n, seed, maxTokens, true)));
        }
        const res: CaseResult = {
          endpoint,
          n,
          seed,
          buffered,
          streamed: timings,
          firstByteShare: median(timings.map((t) => t.firstTextMs / t.totalMs)),
          firstByteOfBuffered: median(timings.map((t, i) => t.firstTextMs / buffered[i]!)),
          streamedOverBuffered: median(timings.map((t, i) => t.totalMs / buffered[i]!)),
        };
        results.push(res);
        const m = (f: (t: Timing) => number): string => median(timings.map(f)).toFixed(0);
        log(
          `${endpoint.padEnd(11)} n ${n}: first text ${m((t) => t.firstTextMs)} ms (first byte ${m((t) => t.firstByteMs)}), last ${m((t) => t.lastTextMs)}, end ${m((t) => t.totalMs)} ms; ${m((t) => t.textChunks)} text chunks; buffered ${median(buffered).toFixed(0)} ms` +
            ` | first text / total ${res.firstByteShare.toFixed(3)} (target <= 0.10), / buffered ${res.firstByteOfBuffered.toFixed(3)}, streamed / buffered ${res.streamedOverBuffered.toFixed(2)}x`,
        );
      }
    }
  } finally {
    await srv.close();
    ck.cleanup();
  }
  if (json) console.log(JSON.stringify({ model: 'base shape, random weights', maxTokens, rounds, results }, null, 2));
}
