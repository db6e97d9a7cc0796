// Fault injection exercises the HTTP client's retries for real: a server that answers a share of
// model requests with 429 (Retry-After) or 500 still serves every call of a retrying client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAIBackend } from '../../src/backends/openai/backend.js';
import { APIError } from '../../src/backends/openai/errors.js';
import { parseFaults } from '../../src/serve/faults.js';
import { startServer } from '../../src/serve/server.js';
import { makeTinyCheckpoint } from './helpers.js';

test('fault specs parse; bad ones name the entry', () => {
  assert.deepEqual(parseFaults('429:0.2,500:0.1,slow:0.1:2000,seed:7'), {
    rules: [
      { kind: '429', share: 0.2, ms: 1000 },
      { kind: '500', share: 0.1, ms: 1000 },
      { kind: 'slow', share: 0.1, ms: 2000 },
    ],
    seed: 7,
  });
  assert.throws(() => parseFaults('503:0.1'), /503:0\.1": kind must be/);
  assert.throws(() => parseFaults('429:0.7,500:0.6'), /sum to 1\.3, more than 1/);
  assert.throws(() => parseFaults('slow:0.1:-5'), /ms must be/);
});

test('under 429/500/slow faults, retries make every request succeed; without retries they surface', async () => {
  const ck = makeTinyCheckpoint();
  const srv = await startServer({ model: ck.dir, port: 0, name: 'tiny', faults: '429:0.3,500:0.2,slow:0.2:50,seed:5' });
  try {
    const m = new OpenAIBackend({
      baseURL: srv.url,
      model: 'tiny',
      apiKeyEnv: 'GENRM_TEST_NO_KEY',
      retry: { maxRetries: 12, baseDelayMs: 1, maxDelayMs: 5 },
    });
    const out = await m.generate(
      Array.from({ length: 12 }, (_, i) => `q${i}`),
      { maxTokens: 2, seed: 1 },
    );
    assert.equal(out.length, 12);
    assert.ok(out.every((g) => g.samples.length === 1));
    const c = srv.faults!.counts;
    assert.ok(c['429'] > 0 && c['500'] > 0 && c.slow > 0, JSON.stringify(c));
    // /v1/models is not a model route: never faulted.
    for (let i = 0; i < 5; i++) assert.equal((await fetch(srv.url + '/models')).status, 200);
    const once = new OpenAIBackend({ baseURL: srv.url, model: 'tiny', apiKeyEnv: 'GENRM_TEST_NO_KEY', retry: { maxRetries: 0 } });
    const errors: APIError[] = [];
    for (let i = 0; i < 20; i++) await once.generate(['x'], { maxTokens: 1 }).catch((e: APIError) => errors.push(e));
    assert.ok(
      errors.some((e) => e.status === 429 && e.retryAfterMs === 10),
      'a 429 carries retry-after-ms',
    );
    assert.ok(errors.some((e) => e.status === 500));
  } finally {
    await srv.close();
    ck.cleanup();
  }
});
