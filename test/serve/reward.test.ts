// The reward API of genrm serve, for real: a tiny random checkpoint served on an ephemeral port,
// every endpoint's numbers checked against the same judge run in-process on the same model
// (EmbeddedBackend), every kind of bad request answered with the right status and field, the
// bearer token, and the Prometheus exposition.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { EmbeddedBackend } from '../../src/backends/embedded/backend.js';
import { resolveJudgeConfig } from '../../src/judge/config.js';
import { judgePairs } from '../../src/judge/pairwise.js';
import { verifyAnswers } from '../../src/judge/pointwise.js';
import { rankCandidates } from '../../src/judge/ranking.js';
import { compactPairTemplate, compactPointTemplate } from '../../src/judge/templates.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { makeTinyCheckpoint } from './helpers.js';

let ck: ReturnType<typeof makeTinyCheckpoint>;
let srv: RunningServer;
let locked: RunningServer;
let local: EmbeddedBackend;
let base: string;

before(async () => {
  ck = makeTinyCheckpoint();
  local = EmbeddedBackend.load(ck.dir);
  srv = await startServer({ model: ck.dir, port: 0, name: 'tiny', bodyLimit: 64 * 1024 });
  locked = await startServer({ model: ck.dir, port: 0, name: 'tiny', token: 's3cret-token' });
  base = srv.url.replace(/\/v1$/, '');
});
after(async () => {
  await srv?.close();
  await locked?.close();
  ck?.cleanup();
});

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  at = base,
): Promise<{ status: number; json: any; headers: Headers }> {
  const r = await fetch(at + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: r.status, json, headers: r.headers };
}

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-4, `${what}: ${a} vs ${b}`);

test('/v1/judge direct: p_a and verdict equal the in-process judge, both orders; no swap differs', async () => {
  const r = await post('/v1/judge', { prompt: 'What is 2+3?', a: '5', b: '6' });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const [want] = await judgePairs(
    local,
    [{ prompt: 'What is 2+3?', answerA: '5', answerB: '6' }],
    compactPairTemplate,
    resolveJudgeConfig({ mode: 'direct', swap: true }),
  );
  close(r.json.p_a, want!.pA, 'p_a');
  assert.equal(r.json.verdict, want!.verdict);
  close(r.json.position_bias, want!.positionBias!, 'position_bias');
  const one = await post('/v1/judge', { prompt: 'What is 2+3?', a: '5', b: '6', swap: false });
  close(one.json.p_a, want!.orders[0].p, 'order 1 alone');
  assert.equal(one.json.position_bias, undefined);
});

test('/v1/judge cot: votes and rationales per original answer, equal to the in-process seeded judge', async () => {
  const r = await post('/v1/judge', { prompt: 'What is 2+3?', a: '5', b: '6', mode: 'cot', votes: 3, max_tokens: 24, seed: 5 });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const cfg = resolveJudgeConfig({ mode: 'cot', votes: 3, maxTokens: 24, seed: 5, swap: true });
  const [want] = await judgePairs(local, [{ prompt: 'What is 2+3?', answerA: '5', answerB: '6' }], compactPairTemplate, cfg);
  assert.equal(r.json.rationales.length, 6);
  assert.deepEqual(
    r.json.rationales.map((x: any) => x.text),
    want!.orders.flatMap((o) => o.cot!.rationales.map((x) => x.text)),
  );
  // Order 2 showed B first: its "pos" votes are for B.
  const o1 = want!.orders[0].cot!.votes;
  const o2 = want!.orders[1]!.cot!.votes;
  assert.deepEqual(r.json.votes, { a: o1.pos + o2.neg, b: o1.neg + o2.pos, invalid: o1.invalid + o2.invalid });
  close(r.json.p_a, want!.pA, 'p_a');
});

test('/v1/rank: Bradley–Terry scores and best equal rankCandidates in-process', async () => {
  const candidates = ['4', '5', 'five', '6'];
  // One order: the random tiny model's verdicts depend mostly on position, which swap cancels.
  const r = await post('/v1/rank', { prompt: 'What is 2+3?', candidates, swap: false });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const want = await rankCandidates(local, 'What is 2+3?', candidates, compactPairTemplate, resolveJudgeConfig({ swap: false }));
  r.json.scores.forEach((s: number, i: number) => close(s, want.scores[i]!, `score ${i}`));
  assert.equal(r.json.best, want.best);
  assert.deepEqual(r.json.order, want.order);
  assert.ok(Math.abs(r.json.scores.reduce((a: number, b: number) => a + b, 0)) < 1e-9, 'mean 0');
  assert.ok(Math.max(...r.json.scores) - Math.min(...r.json.scores) > 1e-3, 'the scores are not all equal');
});

test('/v1/reward: vs reference where given, Bradley–Terry within the same prompt otherwise, a lone item 0', async () => {
  const body = {
    prompts: ['What is 2+3?', 'Sort 3 1 2.', 'What is 2+3?', 'Sort 3 1 2.', 'What is 2+3?', 'Name a colour.'],
    responses: ['5', '1 2 3', '6', '3 2 1', 'five', 'red'],
    references: [null, '1 2 3', null, null, null, null],
    swap: false,
  };
  const r = await post('/v1/reward', body);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const cfg = resolveJudgeConfig({ swap: false });
  const [vsRef] = await judgePairs(local, [{ prompt: 'Sort 3 1 2.', answerA: '1 2 3', answerB: '1 2 3' }], compactPairTemplate, cfg);
  close(r.json.rewards[1], vsRef!.pA, 'vs reference');
  const group = await rankCandidates(local, 'What is 2+3?', ['5', '6', 'five'], compactPairTemplate, cfg);
  [0, 2, 4].forEach((i, k) => close(r.json.rewards[i], group.scores[k]!, `group item ${i}`));
  assert.ok(Math.max(...group.scores) - Math.min(...group.scores) > 1e-3, 'the group scores differ');
  // "Sort 3 1 2." without a reference has one member; so has "Name a colour.".
  assert.equal(r.json.rewards[3], 0);
  assert.equal(r.json.rewards[5], 0);
  assert.equal(r.json.rewards.length, 6);
});

test('/get_reward speaks OpenRLHF serve_rm: {query, prompts, labels} -> {rewards, scores, extra_logs}', async () => {
  const prompts = ['Q: What is 1+1?\nA: ', 'Q: What is 1+1?\nA: ', 'Q: Is the sky green?\nA: '];
  const responses = ['2', '3', 'No.'];
  const r = await post('/get_reward', { query: prompts.map((p, i) => p + responses[i]), prompts, labels: ['2', null, ''] });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(Object.keys(r.json).sort(), ['extra_logs', 'rewards', 'scores']);
  assert.deepEqual(r.json.scores, r.json.rewards);
  assert.deepEqual(r.json.extra_logs, { genrm_vs_label: [1, 0, 0] });
  const cfg = resolveJudgeConfig({});
  const [pair] = await judgePairs(local, [{ prompt: prompts[0]!, answerA: '2', answerB: '2' }], compactPairTemplate, cfg);
  close(r.json.rewards[0], pair!.pA, 'vs label');
  const point = await verifyAnswers(
    local,
    [
      { prompt: prompts[1]!, answer: '3' },
      { prompt: prompts[2]!, answer: 'No.' },
    ],
    compactPointTemplate,
    cfg,
  );
  close(r.json.rewards[1], point[0]!.pYes, 'P(Yes) without a label');
  close(r.json.rewards[2], point[1]!.pYes, 'P(Yes) with an empty label');
  assert.notEqual(r.json.rewards[1], r.json.rewards[2]);
  // Without prompts the whole query is the answer; OpenRLHF's oldest clients send only `query`.
  const bare = await post('/get_reward', { query: ['just text'] });
  assert.equal(bare.status, 200);
  const [p0] = await verifyAnswers(local, [{ prompt: '', answer: 'just text' }], compactPointTemplate, cfg);
  close(bare.json.rewards[0], p0!.pYes, 'query alone');
  const bad = await post('/get_reward', { query: ['abc', 'xyz'], prompts: ['a', 'q'] });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.param, 'query[1]');
});

test('bad requests: malformed JSON, wrong types, missing and unknown fields, length mismatch, 413, invalid UTF-8, 404, 405', async () => {
  const bad = async (path: string, body: unknown, status: number, param: string | null, re?: RegExp): Promise<void> => {
    const r = await post(path, body);
    assert.equal(r.status, status, `${path} ${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.error.param, param);
    if (re) assert.match(r.json.error.message, re);
    assert.equal(typeof r.json.error.type, 'string');
  };
  await bad('/v1/judge', '{"prompt": "x", "a": ', 400, null, /not valid JSON/);
  await bad('/v1/judge', { prompt: 'x', a: 'y', b: 'z', votes: 'many' }, 400, 'votes', /"votes"/);
  await bad('/v1/judge', { prompt: 'x', a: 'y', b: 'z', mode: 'psychic' }, 400, 'mode');
  await bad('/v1/judge', { prompt: 'x', a: 'y' }, 400, 'b', /"b"/);
  await bad('/v1/judge', { prompt: 'x', a: 'y', b: 'z', vote: 3 }, 400, 'vote', /vote/);
  await bad('/v1/rank', { prompt: 'x', candidates: ['only one'] }, 400, 'candidates');
  await bad('/v1/rank', { prompt: 'x', candidates: ['a', 7] }, 400, 'candidates[1]');
  await bad('/v1/reward', { prompts: ['a', 'b'], responses: ['x'] }, 400, 'responses', /1 items but prompts has 2/);
  await bad('/v1/reward', { prompts: ['a'], responses: ['x'], references: ['r', 's'] }, 400, 'references');
  await bad('/get_reward', { query: 'not a list' }, 400, 'query');
  await bad('/get_reward', { query: ['a', 'b'], labels: ['x'] }, 400, 'labels');
  await bad('/v1/judge', [1, 2], 400, null);
  await bad('/v1/judge', { prompt: 'x', a: 'y'.repeat(70 * 1024), b: 'z' }, 413, null, /over the limit/);
  // A judge prompt longer than the model's context: the worker's error, 400 with the token counts.
  await bad('/v1/judge', { prompt: 'x'.repeat(400), a: 'y', b: 'z' }, 400, null, /context of 160/);
  // Invalid UTF-8 (a lone 0xff byte inside a JSON string) is refused, not read as U+FFFD.
  const raw = Buffer.concat([Buffer.from('{"prompt": "'), Buffer.from([0xff, 0xfe]), Buffer.from('", "a": "y", "b": "z"}')]);
  const utf = await rawPost(new URL(base).port, '/v1/judge', raw);
  assert.equal(utf.status, 400);
  assert.match(utf.body, /not valid UTF-8/);
  const nope = await post('/v1/nothing', {});
  assert.equal(nope.status, 404);
  assert.equal(nope.json.error.type, 'not_found_error');
  const wrong = await fetch(base + '/v1/judge');
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'POST');
  await wrong.text();
});

function rawPost(port: string, path: string, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: Number(port),
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('bearer token: 401 without it or with a wrong one (any route, unknown ones too), 200 with it; /health stays open', async () => {
  const at = locked.url.replace(/\/v1$/, '');
  const body = { prompt: 'What is 2+3?', a: '5', b: '6' };
  const none = await post('/v1/judge', body, {}, at);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  assert.match(none.json.error.message, /Authorization: Bearer/);
  for (const t of ['s3cret-tokem', 's3cret-token-and-more', '', 's'])
    assert.equal((await post('/v1/judge', body, { authorization: `Bearer ${t}` }, at)).status, 401, `token "${t}"`);
  assert.equal((await post('/v1/judge', body, { authorization: 'Basic czNjcmV0LXRva2Vu' }, at)).status, 401);
  assert.equal((await post('/no/such/route', body, {}, at)).status, 401, 'no route map for strangers');
  assert.equal((await fetch(at + '/metrics')).status, 401);
  assert.equal((await fetch(locked.url + '/models')).status, 401);
  const ok = await post('/v1/judge', body, { authorization: 'Bearer s3cret-token' }, at);
  assert.equal(ok.status, 200);
  assert.ok(ok.json.p_a > 0 && ok.json.p_a < 1);
  assert.equal((await fetch(at + '/health')).status, 200);
});

test('/metrics: Prometheus text with requests by route and status, latency histogram, batches, tokens, errors by kind', async () => {
  const before = await scrape();
  await post('/v1/judge', { prompt: 'What is 2+3?', a: '5', b: '6' });
  await post('/v1/judge', { prompt: 'x', a: 'y' });
  const r = await fetch(base + '/metrics');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const m = parse(await r.text());
  const key = 'genrm_http_requests_total{route="/v1/judge",method="POST",status="200"}';
  assert.equal(m.get(key), (before.get(key) ?? 0) + 1);
  const bad = 'genrm_http_requests_total{route="/v1/judge",method="POST",status="400"}';
  assert.equal(m.get(bad), (before.get(bad) ?? 0) + 1);
  assert.ok(m.get('genrm_http_errors_total{kind="invalid_request_error"}')! >= 1);
  // Histogram: cumulative buckets, +Inf = count.
  const les = [...m.entries()].filter(([k]) => k.startsWith('genrm_http_request_duration_seconds_bucket{route="/v1/judge"'));
  const counts = les.map(([, v]) => v);
  assert.ok(
    counts.every((c, i) => i === 0 || c >= counts[i - 1]!),
    'cumulative',
  );
  assert.equal(
    m.get('genrm_http_request_duration_seconds_bucket{route="/v1/judge",le="+Inf"}'),
    m.get('genrm_http_request_duration_seconds_count{route="/v1/judge"}'),
  );
  assert.ok(m.get('genrm_batch_size_count')! > (before.get('genrm_batch_size_count') ?? 0));
  assert.ok(m.get('genrm_prompt_tokens_total')! > (before.get('genrm_prompt_tokens_total') ?? 0));
  assert.equal(m.get('genrm_queue_depth'), 0);
  assert.ok(m.get('process_resident_memory_bytes')! > 1e6);
  const text = await (await fetch(base + '/metrics')).text();
  for (const line of text.trim().split('\n'))
    assert.match(line, /^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [-+0-9.eInfa]+)$/, line);
});

async function scrape(): Promise<Map<string, number>> {
  return parse(await (await fetch(base + '/metrics')).text());
}

function parse(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    m.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return m;
}
