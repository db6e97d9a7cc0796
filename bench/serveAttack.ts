// `npm run bench -- serve --attack [--seconds 8] [--timeout-ms 20000] [--only a,b] [--json]`
//
// genrm serve under hostile load, as an attacker or a careless client would drive it. The server
// runs in a child process (`genrm serve`, the base model's shape with random weights, as
// bench/serve.ts), so a server that blocks its event loop cannot stall the measuring side too.
// Beside every attack, the same two probes run:
//   /health: one GET every 100 ms on a fresh connection (2 s client timeout), p50 / p99 / max ms;
//   good requests: 4 clients in closed loops of direct /v1/judge, judgments/s and its ratio to
//   the same load with no attack (the baseline phase, run first).
// Attacks (each for --seconds, then the server must be idle again before the next):
//   reward-1024:      one /v1/reward of 1,024 items sharing one prompt (40 KB): the whole group.
//   reward-groups:    one /v1/reward of 1,024 items, 8 prompts × 128 responses (the largest group
//                     served), which runs past a short --timeout-ms: answered or 504 at the deadline.
//   abandon:          8 clients sending 8 prompts × n 32 × 300 tokens and hanging up after 300 ms;
//                     afterwards, how long a trivial request takes, and whether requests in flight
//                     fall back to 0.
//   slowloris:        300 connections sending one header line a second, never ending, plus 1,000
//                     idle connections, for at least 12 s (past genrm serve's 10 s header limit);
//                     how many the server still holds at the end.
// Each attack's line says what the hostile requests got (status, seconds) besides the probes.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { flag, randomBaseCheckpoint } from './serveCommon.js';

interface Probe {
  healthP50: number;
  healthP99: number;
  healthMax: number;
  healthFailed: number;
  goodPerSec: number;
  goodNon2xx: number;
}

interface PhaseResult extends Probe {
  attack: string;
  /** Good throughput over the baseline's (1 = unaffected). */
  goodRatio: number;
  /** What the hostile side saw. */
  outcome: string;
  rssMB: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const q = (xs: number[], p: number): number =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]! : NaN;

/** One GET on a fresh connection (no keep-alive pool), ms until the body ends; Infinity on error or timeout. */
function freshGet(port: number, path: string, timeoutMs = 2000): Promise<number> {
  const t0 = performance.now();
  return new Promise((res) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false, timeout: timeoutMs }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode === 200 ? performance.now() - t0 : Infinity));
      r.on('error', () => res(Infinity));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => res(Infinity));
    req.end();
  });
}

function post(base: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

const good = (i: number) => ({
  prompt: `What is ${17 + (i % 50)}+${25 + (i % 7)}?`,
  a: `${42 + (i % 50)}`,
  b: `The answer is ${41 + (i % 50)}.`,
  mode: 'direct',
  swap: false,
});

/** Runs the /health prober and the good clients until `stop` resolves. */
async function probe(base: string, port: number, stop: Promise<unknown>): Promise<Probe> {
  let running = true;
  void stop.finally(() => (running = false));
  const health: number[] = [];
  let ok = 0;
  let non2xx = 0;
  const t0 = performance.now();
  const prober = (async () => {
    while (running) {
      const t = performance.now();
      health.push(await freshGet(port, '/health'));
      await sleep(Math.max(0, 100 - (performance.now() - t)));
    }
  })();
  let n = 0;
  const client = async (): Promise<void> => {
    while (running) {
      try {
        const r = await post(base, '/v1/judge', good(n++), AbortSignal.timeout(30_000));
        await r.arrayBuffer();
        if (r.ok) ok++;
        else non2xx++;
      } catch {
        non2xx++;
      }
    }
  };
  await Promise.all([prober, ...Array.from({ length: 4 }, client)]);
  const secs = (performance.now() - t0) / 1000;
  const finite = health.filter(Number.isFinite);
  return {
    healthP50: q(finite, 0.5),
    healthP99: q(finite, 0.99),
    healthMax: finite.length ? Math.max(...finite) : NaN,
    healthFailed: health.length - finite.length,
    goodPerSec: ok / secs,
    goodNon2xx: non2xx,
  };
}

async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(base + '/metrics', { signal: AbortSignal.timeout(5000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.slice(name.length + 1)) : NaN;
}

/** Waits until the server has nothing in flight and its worker is idle (or `ms` passes); seconds waited. */
async function settle(base: string, ms: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    try {
      const h = (await (await fetch(base + '/health', { signal: AbortSignal.timeout(2000) })).json()) as {
        busy: boolean;
        queued: number;
        inFlight: number;
      };
      if (!h.busy && h.queued === 0 && h.inFlight === 0) return (performance.now() - t0) / 1000;
    } catch {
      /* not answering yet */
    }
    await sleep(100);
  }
  return Infinity;
}

function rssMB(child: ChildProcess): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

type Attack = (ctx: {
  base: string;
  port: number;
  seconds: number;
  timeoutMs: number;
}) => Promise<{ done: Promise<unknown>; outcome: () => Promise<string> }>;

const secs = (t0: number): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

const ATTACKS: Record<string, Attack> = {
  'reward-1024': async ({ base, seconds, timeoutMs }) => {
    const t0 = performance.now();
    const body = {
      prompts: Array.from({ length: 1024 }, () => 'What is 17+25? Answer with the number only.'),
      responses: Array.from({ length: 1024 }, (_, i) => `The answer is ${i}, I am fairly sure.`),
    };
    let got = 'no reply';
    const req = post(base, '/v1/reward', body, AbortSignal.timeout(timeoutMs + 15_000)).then(
      async (r) => {
        const j = (await r.json()) as { error?: { message: string } };
        got = `${r.status} after ${secs(t0)}${j.error ? ` (${j.error.message.slice(0, 90)})` : ''}`;
      },
      () => (got = `no reply in ${secs(t0)} (client gave up)`),
    );
    return { done: Promise.all([req, sleep(seconds * 1000)]), outcome: async () => got };
  },
  'reward-groups': async ({ base, seconds, timeoutMs }) => {
    const t0 = performance.now();
    const body = {
      prompts: Array.from({ length: 1024 }, (_, i) => `What is ${17 + (i % 8)}+25? Answer with the number only.`),
      responses: Array.from({ length: 1024 }, (_, i) => `The answer is ${i}.`),
    };
    let got = 'no reply';
    const req = post(base, '/v1/reward', body, AbortSignal.timeout(timeoutMs + 15_000)).then(
      async (r) => {
        await r.arrayBuffer();
        got = `${r.status} after ${secs(t0)}`;
      },
      () => (got = `no reply in ${secs(t0)} (client gave up)`),
    );
    return { done: Promise.all([req, sleep(seconds * 1000)]), outcome: async () => got };
  },
  abandon: async ({ base, seconds }) => {
    const end = performance.now() + seconds * 1000;
    let sent = 0;
    const client = async (): Promise<void> => {
      while (performance.now() < end) {
        sent++;
        await post(
          base,
          '/v1/completions',
          { prompt: Array.from({ length: 8 }, (_, i) => `Once upon a time ${i}`), n: 32, max_tokens: 300, temperature: 1 },
          AbortSignal.timeout(300),
        ).then(
          (r) => r.arrayBuffer(),
          () => {},
        );
      }
    };
    const done = Promise.all(Array.from({ length: 8 }, client));
    return {
      done,
      outcome: async () => {
        const inFlight = await metric(base, 'genrm_requests_in_flight').catch(() => NaN);
        const t0 = performance.now();
        const r = await post(base, '/v1/completions', { prompt: 'x', max_tokens: 1 }, AbortSignal.timeout(120_000)).catch(() => null);
        return `${sent} abandoned; just after: ${inFlight} in flight, a trivial request took ${secs(t0)} (${r?.status ?? 'no reply'})`;
      },
    };
  },
  slowloris: async ({ port, seconds }) => {
    const socks: Socket[] = [];
    const open = (): Socket => {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      socks.push(s);
      return s;
    };
    const slow = Array.from({ length: 300 }, () => {
      const s = open();
      s.write('POST /v1/judge HTTP/1.1\r\nHost: x\r\n');
      return s;
    });
    for (let i = 0; i < 1000; i++) open();
    const tick = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write(`X-Slow-${Math.floor(Math.random() * 1e6)}: 1\r\n`);
    }, 1000);
    const held = Math.max(seconds, 12);
    return {
      done: sleep(held * 1000),
      outcome: async () => {
        clearInterval(tick);
        const alive = (xs: Socket[]): number => xs.filter((s) => !s.destroyed && s.readyState === 'open').length;
        const r = `still held after ${held} s: ${alive(slow)}/300 slow-header, ${alive(socks.slice(300))}/1000 idle`;
        for (const s of socks) s.destroy();
        return r;
      },
    };
  },
};

export async function runAttack(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const seconds = Number(flag(args, '--seconds', '8'));
  const timeoutMs = Number(flag(args, '--timeout-ms', '20000'));
  const only = flag(args, '--only', Object.keys(ATTACKS).join(',')).split(',');
  for (const a of only)
    if (!(a in ATTACKS))
      throw new RangeError(`bench serve --attack: --only names ${JSON.stringify(a)}; attacks are ${Object.keys(ATTACKS).join(', ')}`);
  if (!(seconds > 0 && seconds <= 120) || !(Number.isInteger(timeoutMs) && timeoutMs >= 1000))
    throw new RangeError('bench serve --attack: --seconds in (0, 120], --timeout-ms an integer >= 1000');
  const log = (s: string): void => void (json ? process.stderr.write(s + '\n') : console.log(s));

  const ck = randomBaseCheckpoint('serve --attack');
  const dir = ck.dir;
  const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'serve', '--model', dir, '--port', '0', '--json', '--timeout-ms', String(timeoutMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const results: PhaseResult[] = [];
  try {
    let out = '';
    child.stdout!.setEncoding('utf8');
    while (!out.includes('\n')) out += (await once(child.stdout!, 'data'))[0];
    const url = (JSON.parse(out.split('\n')[0]!) as { url: string }).url;
    const base = url.replace(/\/v1$/, '');
    const port = Number(new URL(url).port);
    await probe(base, port, sleep(1000)); // warm up kernels
    const baseline = await probe(base, port, sleep(seconds * 1000));
    const line = (r: PhaseResult): string =>
      `${r.attack.padEnd(13)} /health p50 ${r.healthP50.toFixed(1)} ms p99 ${r.healthP99.toFixed(1)} max ${r.healthMax.toFixed(0)} failed ${r.healthFailed}; ` +
      `good ${r.goodPerSec.toFixed(1)} j/s (${r.goodRatio.toFixed(2)}x of baseline, ${r.goodNon2xx} non-2xx); RSS ${r.rssMB.toFixed(0)} MB; ${r.outcome}`;
    results.push({ attack: 'baseline', ...baseline, goodRatio: 1, outcome: 'no attack', rssMB: rssMB(child) });
    log(line(results[0]!));
    for (const name of only) {
      const a = await ATTACKS[name]!({ base, port, seconds, timeoutMs });
      const p = await probe(base, port, a.done);
      const outcome = await a.outcome();
      const settled = await settle(base, 60_000);
      const r: PhaseResult = {
        attack: name,
        ...p,
        goodRatio: p.goodPerSec / baseline.goodPerSec,
        outcome: `${outcome}; idle again ${Number.isFinite(settled) ? `after ${settled.toFixed(1)} s` : 'NOT within 60 s'}`,
        rssMB: rssMB(child),
      };
      results.push(r);
      log(line(r));
      if (!Number.isFinite(settled)) break; // a stuck server: the later attacks would measure this one
    }
  } finally {
    child.kill('SIGKILL');
    ck.cleanup();
  }
  if (json) console.log(JSON.stringify({ model: 'base shape, random weights', seconds, timeoutMs, results }, null, 2));
}
