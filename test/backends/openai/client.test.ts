import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAIClient } from '../../../src/backends/openai/client.js';
import { APIConnectionError, APIError, APITimeoutError } from '../../../src/backends/openai/errors.js';
import { retryAfterMs, backoffMs } from '../../../src/backends/openai/retry.js';
import { Semaphore } from '../../../src/backends/openai/semaphore.js';
import { startFixture } from '../fixtures/openaiServer.js';

const ask = { model: 'm', prompt: 'hi', max_tokens: 4 };
const noJitter = { random: () => 0, apiKeyEnv: 'GENRM_TEST_NO_KEY' };

test("429 with Retry-After is retried after the server's delay", async () => {
  const fx = await startFixture({ faults: [{ status: 429, headers: { 'retry-after': '1' } }] });
  try {
    const c = new OpenAIClient({ baseURL: fx.url, ...noJitter });
    const t0 = performance.now();
    const r = await c.post<{ choices: unknown[] }>('/completions', ask);
    const dt = performance.now() - t0;
    assert.equal(r.choices.length, 1);
    assert.equal(fx.requests.length, 2);
    assert.ok(dt >= 950, `waited ${dt.toFixed(0)} ms; Retry-After asked 1000 (jitter is 0 here)`);
  } finally {
    await fx.close();
  }
});

test('500 is retried; 400 is not; exhausted retries surface the last status', async () => {
  const fx = await startFixture({ faults: [{ status: 500 }] });
  try {
    const c = new OpenAIClient({ baseURL: fx.url, ...noJitter });
    await c.post('/completions', ask);
    assert.equal(fx.requests.length, 2);
  } finally {
    await fx.close();
  }
  const bad = await startFixture({ faults: [{ status: 400, body: JSON.stringify({ error: { message: 'bad field foo' } }) }] });
  try {
    const c = new OpenAIClient({ baseURL: bad.url, ...noJitter });
    await assert.rejects(
      c.post('/completions', ask),
      (e: unknown) => e instanceof APIError && e.status === 400 && !e.retryable && /bad field foo/.test(e.message),
    );
    assert.equal(bad.requests.length, 1);
  } finally {
    await bad.close();
  }
  const down = await startFixture({ faults: [{ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }] });
  try {
    const c = new OpenAIClient({ baseURL: down.url, retry: { maxRetries: 2 }, ...noJitter });
    await assert.rejects(c.post('/completions', ask), (e: unknown) => e instanceof APIError && e.status === 503 && e.retryable);
    assert.equal(down.requests.length, 3);
  } finally {
    await down.close();
  }
});

test('a slow server times out with APITimeoutError', async () => {
  const fx = await startFixture({ delayMs: 400 });
  try {
    const c = new OpenAIClient({ baseURL: fx.url, timeoutMs: 50, retry: { maxRetries: 0 }, ...noJitter });
    await assert.rejects(c.post('/completions', ask), (e: unknown) => e instanceof APITimeoutError && /50 ms/.test((e as Error).message));
  } finally {
    await fx.close();
  }
});

test('no server: APIConnectionError naming the URL', async () => {
  const fx = await startFixture();
  const url = fx.url;
  await fx.close();
  const c = new OpenAIClient({ baseURL: url, retry: { maxRetries: 1, baseDelayMs: 1 }, ...noJitter });
  await assert.rejects(c.post('/completions', ask), (e: unknown) => e instanceof APIConnectionError && (e as Error).message.includes(url));
});

test('the concurrency limit caps requests in flight', async () => {
  const fx = await startFixture({ delayMs: 40 });
  try {
    const c = new OpenAIClient({ baseURL: fx.url, concurrency: 3, ...noJitter });
    await Promise.all(Array.from({ length: 10 }, () => c.post('/completions', ask)));
    assert.equal(fx.requests.length, 10);
    assert.equal(fx.maxInFlight, 3);
  } finally {
    await fx.close();
  }
});

test('the API key is sent but never appears in an error', async () => {
  const key = 'sk-test-SECRET-0123456789';
  process.env.GENRM_TEST_KEY = key;
  const fx = await startFixture({ faults: [{ status: 401, body: JSON.stringify({ error: { message: `invalid key ${key}` } }) }] });
  try {
    const c = new OpenAIClient({ baseURL: fx.url, apiKeyEnv: 'GENRM_TEST_KEY', random: () => 0 });
    const err = await c.post('/completions', ask).then(
      () => undefined,
      (e: unknown) => e as APIError,
    );
    assert.ok(err instanceof APIError);
    assert.equal(fx.requests[0]?.headers.authorization, `Bearer ${key}`);
    for (const s of [err.message, err.body, String(err.stack), JSON.stringify(err)]) assert.ok(!s.includes(key), s);
    assert.match(err.message, /\$GENRM_TEST_KEY/); // says where to look, by name
  } finally {
    delete process.env.GENRM_TEST_KEY;
    await fx.close();
  }
});

test('Retry-After parsing: seconds, HTTP date, retry-after-ms, bad values', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const h = (o: Record<string, string>): Headers => new Headers(o);
  assert.equal(retryAfterMs(h({ 'retry-after': '3' }), now), 3000);
  assert.equal(retryAfterMs(h({ 'retry-after': 'Wed, 01 Jan 2025 00:00:05 GMT' }), now), 5000);
  assert.equal(retryAfterMs(h({ 'retry-after-ms': '250', 'retry-after': '9' }), now), 250);
  assert.equal(retryAfterMs(h({ 'retry-after': 'soon' }), now), undefined);
  assert.equal(retryAfterMs(h({ 'retry-after': '3600' }), now), undefined); // beyond 60 s: use our own backoff
  // Full jitter: uniform under a ceiling that doubles per attempt and is capped.
  const p = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(
    backoffMs(0, p, () => 0.999999),
    99.9999,
  );
  assert.equal(
    backoffMs(3, p, () => 0.5),
    400,
  );
  assert.equal(
    backoffMs(10, p, () => 0.5),
    500,
  );
});

test('semaphore: hands slots over in order and never exceeds its limit', async () => {
  const s = new Semaphore(2);
  let active = 0;
  let peak = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      s.run(async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 5));
        order.push(i);
        active--;
      }),
    ),
  );
  assert.equal(peak, 2);
  assert.deepEqual(order.slice().sort(), [0, 1, 2, 3, 4, 5]);
});
