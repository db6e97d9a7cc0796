// genrm serve against hostile and careless clients: the work of a /v1/reward request is bounded
// (group cap, a fixed number of comparisons per response) and answered or cut at its deadline while
// /health answers; a request that times out or loses its client stops its rows in the worker and
// holds its admission slot until they stop; the other jobs of that batch are unchanged; a big
// request does not hold back a small one; bad max_tokens and over-long prompts are refused before
// the queue; slow-header and idle connections are cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { EmbeddedBackend } from '../../src/backends/embedded/backend.js';
import { resolveJudgeConfig } from '../../src/judge/config.js';
import { groupRewards } from '../../src/judge/rewards.js';
import { schedulePairs } from '../../src/judge/ranking.js';
import { compactPairTemplate } from '../../src/judge/templates.js';
import { Admission } from '../../src/serve/limits.js';
import { MAX_GROUP } from '../../src/serve/reward/schemas.js';
import { rewardSchedule } from '../../src/judge/ranking.js';
import type { Ctx } from '../../src/serve/router.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { makeTinyCheckpoint } from './helpers.js';

const root = (s: RunningServer): string => s.url.replace(/\/v1$/, '');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function post(base: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** /health every 50 ms until stopped: each probe's latency (Infinity when it failed). */
function healthProbe(base: string): { stop: () => Promise<number[]> } {
  const lat: number[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      const t = performance.now();
      const ok = await fetch(base + '/health', { signal: AbortSignal.timeout(5000) }).then(
        (r) => r.ok,
        () => false,
      );
      lat.push(ok ? performance.now() - t : Infinity);
      await sleep(50);
    }
  })();
  return {
    stop: async () => {
      on = false;
      await loop;
      return lat;
    },
  };
}

/** 256 rows × 150 tokens: a batch that keeps the tiny model busy for a second or more. */
const LONG = { prompt: ['w', 'x', 'y', 'z'], n: 64, max_tokens: 150, seed: 1 };

test('the reward schedule: every pair up to 9 responses, then 8 opponents each (4N pairs), connected', () => {
  for (let n = 2; n <= 40; n++) {
    const pairs = schedulePairs(n, rewardSchedule(n));
    const degree = new Array<number>(n).fill(0);
    for (const [i, j] of pairs) {
      degree[i]!++;
      degree[j]!++;
    }
    assert.equal(pairs.length, n <= 9 ? (n * (n - 1)) / 2 : 4 * n, `n = ${n}`);
    assert.ok(
      degree.every((d) => d === Math.min(n - 1, 8)),
      `n = ${n}: degrees ${degree.join(',')}`,
    );
    assert.equal(new Set(pairs.map(([i, j]) => `${Math.min(i, j)},${Math.max(i, j)}`)).size, pairs.length, `n = ${n}: no pair twice`);
  }
});

test('/v1/reward: a group over the cap is a 400 at once; 1,024 items in groups of 128 are answered or cut at the deadline while /health answers', async () => {
  const ck = makeTinyCheckpoint();
  const s = await startServer({ model: ck.dir, port: 0, name: 'tiny', timeoutMs: 2000 });
  const base = root(s);
  try {
    const one = { prompts: Array.from({ length: 1024 }, () => 'What is 2+3?'), responses: Array.from({ length: 1024 }, (_, i) => `${i}`) };
    const t0 = performance.now();
    const big = await post(base, '/v1/reward', one);
    const body = (await big.json()) as any;
    assert.equal(big.status, 400);
    assert.equal(body.error.code, 'group_too_large');
    assert.match(body.error.message, new RegExp(`1024 items share the prompt .* more than the ${MAX_GROUP}`));
    assert.ok(performance.now() - t0 < 1000, 'refused before any model work');
    assert.equal(s.worker.stats.jobs, 0);

    const probe = healthProbe(base);
    await sleep(100);
    const groups = {
      prompts: Array.from({ length: 1024 }, (_, i) => `What is ${i % 8}+3?`),
      responses: Array.from({ length: 1024 }, (_, i) => `${i}`),
    };
    const t1 = performance.now();
    const r = await post(base, '/v1/reward', groups);
    const ms = performance.now() - t1;
    await r.arrayBuffer();
    await sleep(200);
    const lat = await probe.stop();
    assert.ok(r.status === 200 || r.status === 504, `status ${r.status}`);
    assert.ok(ms < 2000 + 1500, `answered within its deadline (${ms.toFixed(0)} ms)`);
    assert.ok(lat.length >= 10 && lat.every(Number.isFinite), `every /health probe answered (${lat.length})`);
    assert.ok(Math.max(...lat) < 1000, `/health at most ${Math.max(...lat).toFixed(0)} ms`);
    await waitFor('the work to leave the model', () => s.admission.inFlight === 0 && !s.worker.busy && s.worker.queued === 0, 5000);
  } finally {
    await s.close();
    ck.cleanup();
  }
});

test('/v1/reward past 9 responses judges the schedule: rewards equal groupRewards in-process on the same pairs', async () => {
  const ck = makeTinyCheckpoint();
  const s = await startServer({ model: ck.dir, port: 0, name: 'tiny' });
  try {
    const answers = Array.from({ length: 12 }, (_, i) => `${i + 1}`);
    const r = await post(root(s), '/v1/reward', { prompts: answers.map(() => 'What is 2+3?'), responses: answers });
    const got = ((await r.json()) as { rewards: number[] }).rewards;
    const local = EmbeddedBackend.load(ck.dir);
    const want = await groupRewards(local, 'What is 2+3?', answers, compactPairTemplate, resolveJudgeConfig({}), rewardSchedule(12));
    got.forEach((x, i) => assert.ok(Math.abs(x - want[i]!) < 1e-4, `item ${i}: ${x} vs ${want[i]}`));
    assert.equal(s.worker.stats.jobs, 12 * 4 * 2, '4 pairs per response, both orders');
  } finally {
    await s.close();
    ck.cleanup();
  }
});

test('a client that hangs up mid-batch: its rows stop in the worker, its slot frees only then, and the other rows of its engine call are unchanged', async () => {
  const ck = makeTinyCheckpoint();
  // One decode chunk for everything, so the other request's rows share steps with the cancelled ones.
  const s = await startServer({ model: ck.dir, port: 0, name: 'tiny', batchWaitMs: 30, maxBatchRows: 512 });
  const base = root(s);
  try {
    const t0 = performance.now();
    assert.equal((await post(base, '/v1/completions', LONG)).status, 200);
    const fullMs = performance.now() - t0;

    const ac = new AbortController();
    const long = post(base, '/v1/completions', LONG, ac.signal).catch((e: Error) => e);
    await waitFor('the batch to start', () => s.worker.busy);
    const t1 = performance.now();
    await sleep(Math.min(100, fullMs / 5));
    ac.abort();
    assert.equal(((await long) as Error).name, 'AbortError');
    assert.equal(s.admission.inFlight, 1, 'the slot is held while the rows are still in the worker');
    await waitFor('the worker to be idle', () => !s.worker.busy);
    const cutMs = performance.now() - t1;
    assert.equal(s.worker.stats.cancelledRunning, 4, 'the 4 jobs were cancelled while computing');
    assert.ok(
      cutMs < fullMs * 0.6,
      `the batch ended ${cutMs.toFixed(0)} ms after it started; run to its end it took ${fullMs.toFixed(0)} ms`,
    );
    await waitFor('the slot to free', () => s.admission.inFlight === 0, 2000);

    // The same options: one engine call for both requests' rows.
    const other = { ...LONG, prompt: 'abc' };
    const alone = (await (await post(base, '/v1/completions', other)).json()) as any;
    const ac2 = new AbortController();
    const long2 = post(base, '/v1/completions', LONG, ac2.signal).catch((e: Error) => e);
    const mixed = post(base, '/v1/completions', other);
    await waitFor('the shared batch to start', () => s.worker.busy);
    const batches = s.worker.stats.batches;
    await sleep(30);
    ac2.abort();
    await long2;
    const got = (await (await mixed).json()) as any;
    assert.equal(s.worker.stats.batches, batches, 'one batch carried both');
    assert.equal(s.worker.stats.cancelledRunning, 8);
    assert.deepEqual(
      got.choices.map((c: any) => c.text),
      alone.choices.map((c: any) => c.text),
      'the other request’s samples are those it gets alone',
    );
  } finally {
    await s.close();
    ck.cleanup();
  }
});

test('a request past its deadline: 504 at the deadline, its rows cancelled in the worker, the next request served at once', async () => {
  const ck = makeTinyCheckpoint();
  const s = await startServer({ model: ck.dir, port: 0, name: 'tiny', timeoutMs: 300 });
  const base = root(s);
  try {
    const r = await post(base, '/v1/completions', LONG);
    assert.equal(r.status, 504);
    await waitFor('the worker to drop the rows', () => !s.worker.busy && s.admission.inFlight === 0, 3000);
    assert.equal(s.worker.stats.cancelledRunning, 4);
    const t0 = performance.now();
    const next = await post(base, '/v1/completions', { prompt: 'x', max_tokens: 1 });
    assert.equal(next.status, 200);
    assert.ok(performance.now() - t0 < 250, 'nothing left in the model ahead of it');
  } finally {
    await s.close();
    ck.cleanup();
  }
});

test('admission counts a request until its reply is done and its work has left the model', async () => {
  let release!: () => void;
  const drained = new Promise<void>((r) => (release = r));
  const a = new Admission(
    1,
    () => 0,
    () => drained,
  );
  const res = new EventEmitter() as EventEmitter & { writableEnded: boolean };
  res.writableEnded = false;
  const ctx = { route: { tags: { model: true } }, res } as unknown as Ctx;
  await a.hook()(ctx);
  assert.equal(a.inFlight, 1);
  res.emit('close');
  await sleep(5);
  assert.equal(a.inFlight, 1, 'the reply is gone but the work is not');
  await assert.rejects(a.hook()({ ...ctx, res: new EventEmitter() } as unknown as Ctx), /queue is full/);
  release();
  await sleep(5);
  assert.equal(a.inFlight, 0);
});

test('a request with many jobs does not hold back one with a single job: batches take requests in turn', async () => {
  const ck = makeTinyCheckpoint();
  const s = await startServer({ model: ck.dir, port: 0, name: 'tiny', maxBatch: 4 });
  const base = root(s);
  try {
    let bigDone = false;
    const big = post(base, '/v1/completions', { prompt: Array.from({ length: 64 }, (_, i) => `p${i}`), max_tokens: 40, seed: 1 }).then(
      (r) => {
        bigDone = true;
        return r;
      },
    );
    await waitFor('the big request to start', () => s.worker.busy);
    const small = await post(base, '/v1/completions', { prompt: 'q', max_tokens: 5, seed: 1 });
    assert.equal(small.status, 200);
    assert.equal(bigDone, false, 'the small request was answered while the big one still had batches to go');
    assert.equal((await big).status, 200);
  } finally {
    await s.close();
    ck.cleanup();
  }
});

test('max_tokens over the context and prompts longer than it are 400s before the queue, while the worker is busy', async () => {
  const ck = makeTinyCheckpoint();
  const s = await startServer({ model: ck.dir, port: 0, name: 'tiny' });
  const base = root(s);
  try {
    const long = post(base, '/v1/completions', LONG);
    await waitFor('the long batch to start', () => s.worker.busy);
    const cases: [string, unknown, string, RegExp][] = [
      ['/v1/completions', { prompt: 'x', max_tokens: 10_000 }, 'max_tokens', /"max_tokens" is 10000, more than the model's context of 160/],
      [
        '/v1/chat/completions',
        { messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 161 },
        'max_completion_tokens',
        /context of 160/,
      ],
      [
        '/v1/completions',
        { prompt: ['ok', 'y'.repeat(300)], max_tokens: 1 },
        'prompt[1]',
        /"prompt\[1\]": the prompt has 301 tokens .* context of 160/,
      ],
      ['/v1/completions', { prompt: 'z'.repeat(100_000), max_tokens: 1 }, 'prompt', /"prompt" is 100000 bytes, at least \d+ tokens/],
      [
        '/v1/chat/completions',
        { messages: [{ role: 'user', content: 'm'.repeat(300) }] },
        'messages',
        /tokens .* more than the model's context of 160/,
      ],
      ['/v1/judge', { prompt: 'q', a: '1', b: '2', mode: 'cot', max_tokens: 4000 }, 'max_tokens', /context of 160/],
    ];
    for (const [path, body, param, msg] of cases) {
      const r = await post(base, path, body);
      const j = (await r.json()) as any;
      assert.equal(r.status, 400, `${path} ${param}: ${JSON.stringify(j)}`);
      assert.equal(j.error.param, param);
      assert.match(j.error.message, msg);
      assert.equal(s.worker.busy, true, `${param}: answered while the long batch still ran`);
    }
    assert.equal((await long).status, 200);
  } finally {
    await s.close();
    ck.cleanup();
  }
});

test('connections: at --max-connections a newcomer replaces the oldest connection without a request; slow-header and idle ones are cut after the header time', async () => {
  const ck = makeTinyCheckpoint();
  const s = await startServer({ model: ck.dir, port: 0, name: 'tiny', maxConnections: 20, headersTimeoutMs: 500 });
  const socks: Socket[] = [];
  try {
    const closed = new Set<Socket>();
    for (let i = 0; i < 30; i++) {
      const so = connect(s.port, '127.0.0.1');
      so.on('error', () => {});
      so.on('close', () => closed.add(so));
      socks.push(so);
      await new Promise((r) => so.once('connect', r));
      if (i < 10) so.write('POST /v1/judge HTTP/1.1\r\nHost: x\r\n'); // never ends its headers
    }
    const t0 = performance.now();
    const h = await fetch(root(s) + '/health');
    assert.equal(h.status, 200, 'a client with a request gets in while the cap is full');
    assert.ok(performance.now() - t0 < 400, 'at once, not after the header time');
    await sleep(100);
    assert.ok(
      closed.size >= 10 && socks.slice(0, 11).every((so) => closed.has(so)),
      `the oldest without a request made room (${closed.size} closed)`,
    );
    const dribble = setInterval(() => socks.slice(0, 10).forEach((so) => !so.destroyed && so.write('X-A: 1\r\n')), 100);
    await waitFor('every held connection to be cut', () => closed.size === 30, 4000);
    clearInterval(dribble);
  } finally {
    for (const so of socks) so.destroy();
    await s.close();
    ck.cleanup();
  }
});
