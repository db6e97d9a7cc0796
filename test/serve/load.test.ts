// genrm serve under load and faults: requests that arrive together share batches, a full queue
// answers 429 with Retry-After, a request past its deadline 504 with its queued work dropped, a
// client that disconnects takes its queued jobs with it before they are batched (seen through the
// queue-depth metric), and SIGTERM answers every request in flight before the process exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { makeTinyCheckpoint } from './helpers.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const PAIR = { prompt: 'What is 2+3?', a: '5', b: '6' };

function post(base: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(base + path, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body), ...(signal ? { signal } : {}) });
}

/** A batch that keeps the worker busy for a while (~1-2 s on the tiny model): 256 rows × 150 tokens. */
function longBatch(base: string): Promise<Response> {
  return post(base, '/v1/completions', { prompt: ['w', 'x', 'y', 'z'], n: 64, max_tokens: 150, seed: 1 });
}

async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(base + '/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  if (!line) throw new Error(`no metric ${name}`);
  return Number(line.slice(name.length + 1));
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const root = (s: RunningServer): string => s.url.replace(/\/v1$/, '');

test('concurrent judge requests share batches; max batch 1 judges one prompt per batch', async () => {
  const ck = makeTinyCheckpoint();
  const batched = await startServer({ model: ck.dir, port: 0, name: 'tiny', batchWaitMs: 20 });
  const single = await startServer({ model: ck.dir, port: 0, name: 'tiny', maxBatch: 1 });
  try {
    for (const [s, label] of [
      [batched, 'batched'],
      [single, 'single'],
    ] as const) {
      const b0 = s.worker.stats.batches;
      const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => post(root(s), '/v1/judge', { ...PAIR, a: String(i) })));
      const bodies = (await Promise.all(rs.map((r) => r.json()))) as { p_a: number }[];
      assert.ok(
        rs.every((r) => r.status === 200),
        label,
      );
      assert.ok(
        bodies.every((b) => b.p_a > 0 && b.p_a < 1),
        label,
      );
      const batches = s.worker.stats.batches - b0;
      if (s === batched)
        assert.ok(
          batches <= 6 && s.worker.stats.largestBatch >= 4,
          `24 prompts in ${batches} batches (largest ${s.worker.stats.largestBatch})`,
        );
      else assert.ok(batches === 24 && s.worker.stats.largestBatch === 1, `one at a time: ${batches} batches`);
    }
  } finally {
    await batched.close();
    await single.close();
    ck.cleanup();
  }
});

test('an idle worker gathers requests until a quiet gap: staggered arrivals still make one batch', async () => {
  const ck = makeTinyCheckpoint();
  // Arrivals 10 ms apart over 70 ms; a fixed 50 ms window would send the first few alone.
  const s = await startServer({ model: ck.dir, port: 0, name: 'tiny', batchWaitMs: 50 });
  try {
    const b0 = s.worker.stats.batches;
    const rs: Promise<Response>[] = [];
    for (let i = 0; i < 8; i++) {
      rs.push(post(root(s), '/v1/judge', { ...PAIR, a: String(i) }));
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok((await Promise.all(rs)).every((r) => r.status === 200));
    assert.equal(s.worker.stats.batches - b0, 1, `8 staggered requests in ${s.worker.stats.batches - b0} batches`);
    assert.equal(s.worker.stats.largestBatch, 16); // 8 pairs x 2 orders
  } finally {
    await s.close();
    ck.cleanup();
  }
});

test('full queue: 429 with Retry-After; a disconnecting client’s jobs leave the queue before batching', async () => {
  const ck = makeTinyCheckpoint();
  const s = await startServer({ model: ck.dir, port: 0, name: 'tiny', maxQueue: 2 });
  const base = root(s);
  try {
    const long = longBatch(base);
    await waitFor('the long batch to start', () => s.worker.busy);
    // The queue holds 2 requests: the long one and one judge request; the third is refused.
    const ac = new AbortController();
    const queued = post(base, '/v1/judge', PAIR, ac.signal).catch((e: Error) => e);
    await waitFor('2 judge jobs (both orders) in the queue', async () => (await metric(base, 'genrm_queue_depth')) === 2);
    const full = await post(base, '/v1/judge', PAIR);
    assert.equal(full.status, 429);
    assert.ok(Number(full.headers.get('retry-after')) >= 1, `Retry-After: ${full.headers.get('retry-after')}`);
    assert.equal(((await full.json()) as any).error.code, 'queue_full');

    // The waiting client goes away: its 2 jobs are dropped while the long batch still computes.
    const batchesBefore = s.worker.stats.batches;
    ac.abort();
    assert.equal(((await queued) as Error).name, 'AbortError');
    await waitFor('the queue to empty', async () => (await metric(base, 'genrm_queue_depth')) === 0);
    assert.equal(s.worker.busy, true, 'dropped before the long batch ended, so before any batching');
    assert.equal(await metric(base, 'genrm_jobs_cancelled_total'), 2);
    await waitFor('the slot to free', async () => (await metric(base, 'genrm_requests_in_flight')) === 1);
    assert.equal((await long).status, 200);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.worker.stats.batches, batchesBefore, 'no batch ever carried the dropped jobs');
    const text = await (await fetch(base + '/metrics')).text();
    assert.match(text, /genrm_http_requests_total\{route="\/v1\/judge",method="POST",status="499"\} 1/);
    assert.match(text, /genrm_http_errors_total\{kind="client_closed"\} 1/);
    // Capacity is back: a request is served again.
    assert.equal((await post(base, '/v1/judge', PAIR)).status, 200);
  } finally {
    await s.close();
    ck.cleanup();
  }
});

test('deadline: a request still waiting past --timeout-ms gets 504 and its queued jobs are dropped', async () => {
  const ck = makeTinyCheckpoint();
  const s = await startServer({ model: ck.dir, port: 0, name: 'tiny', timeoutMs: 300 });
  const base = root(s);
  try {
    const long = longBatch(base);
    await waitFor('the long batch to start', () => s.worker.busy);
    const t0 = performance.now();
    const r = await post(base, '/v1/judge', PAIR);
    const ms = performance.now() - t0;
    assert.equal(r.status, 504);
    const body = (await r.json()) as any;
    assert.equal(body.error.code, 'timeout');
    assert.match(body.error.message, /300 ms/);
    assert.ok(ms < 1500, `answered at the deadline, not when the model got to it (${ms.toFixed(0)} ms)`);
    assert.equal(await metric(base, 'genrm_queue_depth'), 0);
    assert.equal(await metric(base, 'genrm_jobs_cancelled_total'), 2);
    assert.equal((await long).status, 504, 'the long request itself ran past its deadline too');
  } finally {
    await s.close();
    ck.cleanup();
  }
});

// Compiled (npm test) the CLI is bin/genrm.js over dist/; under tsx the TypeScript entry.
const underTsx = import.meta.url.endsWith('.ts');
const repo = fileURLToPath(new URL(underTsx ? '../../' : '../../../', import.meta.url));
const cli = underTsx ? ['--import', 'tsx', join(repo, 'src/cli/main.ts')] : [join(repo, 'bin/genrm.js')];

test('SIGTERM: genrm serve stops accepting, answers every request in flight, then exits 0', async () => {
  const ck = makeTinyCheckpoint();
  const child = spawn(
    process.execPath,
    [...cli, 'serve', '--model', ck.dir, '--port', '0', '--json', '--judge-mode', 'cot', '--votes', '16', '--max-tokens', '100'],
    { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    let out = '';
    child.stdout.setEncoding('utf8');
    while (!out.includes('\n')) out += (await once(child.stdout, 'data'))[0];
    const base = (JSON.parse(out.split('\n')[0]!) as { url: string }).url.replace(/\/v1$/, '');
    const n = 4;
    let answered = 0;
    const inFlight = Array.from({ length: n }, (_, i) =>
      post(base, '/v1/judge', { ...PAIR, a: `${i}` }).then(async (r) => {
        answered++;
        return { status: r.status, body: (await r.json()) as any };
      }),
    );
    await waitFor(`${n} requests admitted`, async () => (await metric(base, 'genrm_requests_in_flight')) === n);
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    const refused = await fetch(base + '/health').then(
      () => false,
      () => true,
    );
    assert.ok(answered < n, 'requests were still in flight after SIGTERM');
    assert.ok(refused, 'no new connections after SIGTERM');
    const results = await Promise.all(inFlight);
    for (const r of results) {
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.rationales.length, 32);
    }
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    ck.cleanup();
  }
});
