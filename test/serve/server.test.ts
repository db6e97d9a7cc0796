// genrm serve, used for real by the OpenAI-compatible backend: one tiny random checkpoint, one
// server on an ephemeral 127.0.0.1 port, and the same model in-process as the reference.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedBackend } from '../../src/backends/embedded/backend.js';
import { OpenAIBackend, resetServerQuirks } from '../../src/backends/openai/backend.js';
import { openModel } from '../../src/cli/judge.js';
import { resolveJudgeConfig } from '../../src/judge/config.js';
import { judgePairs } from '../../src/judge/pairwise.js';
import { compactPairTemplate } from '../../src/judge/templates.js';
import { pairPrompt } from '../../src/data/judgeFormat.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { makeTinyCheckpoint } from './helpers.js';

let ck: ReturnType<typeof makeTinyCheckpoint>;
let srv: RunningServer;
let local: EmbeddedBackend;
let http: OpenAIBackend;
const noKey = { apiKeyEnv: 'GENRM_TEST_NO_KEY' };

before(async () => {
  ck = makeTinyCheckpoint();
  local = EmbeddedBackend.load(ck.dir);
  srv = await startServer({ model: ck.dir, port: 0, name: 'tiny' });
  http = new OpenAIBackend({ baseURL: srv.url, model: 'tiny', topLogprobs: local.tokenizer.vocabSize, ...noKey });
});
after(async () => {
  await srv?.close();
  ck?.cleanup();
});

async function post(path: string, body: unknown): Promise<{ status: number; json: any; text: string; headers: Headers }> {
  const r = await fetch(srv.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text, headers: r.headers };
}

const PROMPT = pairPrompt({ question: 'What is 2+3?', answerA: '5', answerB: '6' }, 'cot');

test('binds 127.0.0.1 on an ephemeral port; /v1/models describes the model', async () => {
  assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  assert.notEqual(srv.port, 0);
  const r = (await (await fetch(srv.url + '/models')).json()) as any;
  assert.equal(r.data[0].id, 'tiny');
  assert.equal(r.data[0].max_model_len, 160);
  assert.deepEqual(r.data[0].genrm, {
    singleTokenVerdicts: true,
    maxLogprobs: local.tokenizer.vocabSize,
    contextLength: 160,
    candidates: true,
    promptLists: true,
  });
});

test('completions through the HTTP backend equal the embedded backend: n samples, texts and per-token logprobs', async () => {
  const opts = { n: 3, seed: 11, temperature: 1, maxTokens: 12 };
  const [viaHttp] = await http.generate([PROMPT], opts);
  const [inProc] = await local.generate([PROMPT], opts);
  assert.equal(viaHttp!.samples.length, 3);
  assert.notDeepEqual(viaHttp!.samples[0]!.text, viaHttp!.samples[1]!.text, 'three different samples');
  viaHttp!.samples.forEach((s, i) => {
    const ref = inProc!.samples[i]!;
    assert.equal(s.text, ref.text);
    // The server leaves out tokens past the text (the stop token); the rest agree one to one.
    s.logprobs.forEach((lp, t) => assert.ok(Math.abs(lp - ref.logprobs[t]!) < 1e-4, `sample ${i} token ${t}`));
    assert.equal(s.tokens.join(''), s.text);
  });
});

test('seeds: the same seed repeats; sample i of n equals a single request with seed + i; another seed differs', async () => {
  const a = await http.generate([PROMPT], { n: 3, seed: 5, maxTokens: 10 });
  const b = await http.generate([PROMPT], { n: 3, seed: 5, maxTokens: 10 });
  assert.deepEqual(
    a[0]!.samples.map((s) => s.text),
    b[0]!.samples.map((s) => s.text),
  );
  const single = await http.generate([PROMPT], { n: 1, seed: 7, maxTokens: 10 });
  assert.equal(single[0]!.samples[0]!.text, a[0]!.samples[2]!.text);
  const c = await http.generate([PROMPT], { n: 3, seed: 99, maxTokens: 10 });
  assert.notDeepEqual(
    c[0]!.samples.map((s) => s.text),
    a[0]!.samples.map((s) => s.text),
  );
});

test('chat: logprobs with top_logprobs in the chat shape; the rendering is the embedded backend’s', async () => {
  const messages = [{ role: 'user' as const, content: 'Say something.' }];
  const r = await post('/chat/completions', { model: 'tiny', messages, max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 3 });
  assert.equal(r.status, 200, r.text);
  const ch = r.json.choices[0];
  assert.equal(ch.message.role, 'assistant');
  const content = ch.logprobs.content as {
    token: string;
    logprob: number;
    bytes: number[];
    top_logprobs: { token: string; logprob: number }[];
  }[];
  assert.ok(content.length > 0);
  for (const c of content) {
    assert.equal(c.top_logprobs.length, 3);
    // Greedy: the chosen token is the most likely one.
    assert.ok(Math.abs(c.logprob - c.top_logprobs[0]!.logprob) < 1e-6);
    assert.ok(c.top_logprobs[0]!.logprob >= c.top_logprobs[1]!.logprob && c.top_logprobs[1]!.logprob >= c.top_logprobs[2]!.logprob);
    assert.ok(Array.isArray(c.bytes));
  }
  const [ref] = await local.generate([messages], { temperature: 0, maxTokens: 6 });
  assert.equal(ch.message.content, ref!.samples[0]!.text);
  assert.equal(r.json.usage.prompt_tokens, local.encode(messages).length);
  assert.equal(r.json.usage.completion_tokens, ref!.samples[0]!.tokens.length);
});

test('stop strings end the text before the first occurrence, finish_reason stop', async () => {
  const free = await post('/completions', { prompt: PROMPT, max_tokens: 20, temperature: 0 });
  const text: string = free.json.choices[0].text;
  assert.ok(text.length >= 4, text);
  const stop = text.slice(2, 4);
  const cut = await post('/completions', { prompt: PROMPT, max_tokens: 20, temperature: 0, stop: [stop] });
  assert.equal(cut.json.choices[0].text, text.slice(0, text.indexOf(stop)));
  assert.equal(cut.json.choices[0].finish_reason, 'stop');
});

async function sse(path: string, body: unknown): Promise<any[]> {
  const r = await fetch(srv.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(r.headers.get('content-type'), 'text/event-stream');
  const events = (await r.text())
    .split('\n\n')
    .filter(Boolean)
    .map((e) => e.replace(/^data: /, ''));
  assert.equal(events.at(-1), '[DONE]');
  return events.slice(0, -1).map((e) => JSON.parse(e));
}

test('streaming (SSE): completions and chat chunks add up to the non-streamed reply', async () => {
  const body = { prompt: PROMPT, max_tokens: 10, seed: 3, n: 2, logprobs: 1 };
  const whole = await post('/completions', body);
  const chunks = await sse('/completions', { ...body, stream: true, stream_options: { include_usage: true } });
  for (const i of [0, 1]) {
    const mine = chunks.filter((c) => c.choices[0]?.index === i);
    assert.equal(mine.map((c) => c.choices[0].text).join(''), whole.json.choices[i].text);
    assert.equal(mine.at(-1).choices[0].finish_reason, whole.json.choices[i].finish_reason);
  }
  assert.deepEqual(chunks.at(-1).usage, whole.json.usage);
  const messages = [{ role: 'user', content: 'hi' }];
  const chat = await post('/chat/completions', { messages, max_tokens: 8, seed: 4 });
  const cchunks = await sse('/chat/completions', { messages, max_tokens: 8, seed: 4, stream: true });
  assert.equal(cchunks[0].choices[0].delta.role, 'assistant');
  assert.equal(cchunks.map((c) => c.choices[0].delta.content ?? '').join(''), chat.json.choices[0].message.content);
  assert.equal(cchunks.at(-1).object, 'chat.completion.chunk');
});

test('echo + max_tokens 0 scores a continuation: equals the embedded continuationLogprob', async () => {
  const items = [
    { prompt: PROMPT, continuation: 'Q: 2+3= W: =5\nA says 5: matches.\nVerdict: [[A]]' },
    { prompt: 'Judge\n', continuation: 'x' },
  ];
  const viaHttp = await http.continuationLogprob(items);
  const inProc = await local.continuationLogprob(items);
  viaHttp.forEach((v, i) => assert.ok(Math.abs(v - inProc[i]!) < 1e-3, `item ${i}: ${v} vs ${inProc[i]}`));
  assert.ok(inProc[0]! < -1, 'a real log-likelihood, not zero');
  const raw = await post('/completions', { prompt: 'ab', echo: true, logprobs: 1, max_tokens: 0 });
  assert.equal(raw.json.choices[0].text, 'ab');
  assert.deepEqual(raw.json.choices[0].logprobs.text_offset, [0, 1]);
});

test('direct judge P(A) through HTTP equals in-process (genrm server: single-token verdicts; generic client: the whole verdicts among its top logprobs)', async () => {
  const pairs = [
    { id: 'p1', prompt: 'What is 2+3?', answerA: '5', answerB: '6' },
    { id: 'p2', prompt: 'Sort 3 1 2.', answerA: '1 2 3', answerB: '3 2 1' },
  ];
  const cfg = resolveJudgeConfig({ mode: 'direct', swap: true });
  const inProc = await judgePairs(local, pairs, compactPairTemplate, cfg);
  const served = await openModel({ model: srv.url, ...noKey });
  assert.equal(served.capabilities.singleTokenVerdicts, true);
  const viaHttp = await judgePairs(served, pairs, compactPairTemplate, cfg);
  viaHttp.forEach((j, i) => {
    assert.ok(Math.abs(j.pA - inProc[i]!.pA) < 1e-4, `${j.id}: ${j.pA} vs ${inProc[i]!.pA}`);
    j.orders.forEach((o, k) => assert.ok(Math.abs(o.p - inProc[i]!.orders[k]!.p) < 1e-4, `${j.id} order ${k}`));
    assert.equal(j.approximate, false);
  });
  assert.ok(
    inProc.some((j) => Math.abs(j.orders[0].p - 0.5) > 0.01),
    'the random model is not indifferent',
  );
  // Without the `candidates` extension (a client that only reads top logprobs): the same numbers.
  const direct = compactPairTemplate.render({ question: pairs[1]!.prompt, answerA: '1 2 3', answerB: '3 2 1' }, 'direct') as string;
  const [topK] = await http.candidateLogprobs([direct], ['[[A]]', '[[B]]']);
  const [ext] = await served.candidateLogprobs([direct], ['[[A]]', '[[B]]']);
  const [ref] = await local.candidateLogprobs([direct], ['[[A]]', '[[B]]']);
  ref!.forEach((r, k) => {
    assert.ok(Math.abs(topK![k]!.logprob - r.logprob) < 1e-4 && Math.abs(ext![k]!.logprob - r.logprob) < 1e-4, `candidate ${k}`);
    assert.equal(ext![k]!.found, true);
  });
  // A generic client does not know the verdicts are single tokens; it finds them whole among the
  // alternatives at the prompt's end (judge/scoring.ts), so it reads the embedded model's P(A),
  // not the next byte after a "[[" written as text.
  resetServerQuirks();
  const generic = await judgePairs(http, pairs.slice(0, 1), compactPairTemplate, { ...cfg, swap: false });
  assert.ok(Math.abs(generic[0]!.pA - inProc[0]!.orders[0].p) < 1e-4, `${generic[0]!.pA} vs ${inProc[0]!.orders[0].p}`);
  const prompt = compactPairTemplate.render({ question: pairs[0]!.prompt, answerA: '5', answerB: '6' }, 'direct') as string;
  const [[a, b]] = (await local.candidateLogprobs([prompt + '[['], ['A', 'B'])) as unknown as [[{ logprob: number }, { logprob: number }]];
  assert.ok(
    Math.abs(generic[0]!.pA - 1 / (1 + Math.exp(b.logprob - a.logprob))) > 0.01,
    'the byte after "[[" would have said something else',
  );
});

test('the `candidates` extension: exact log-probs per prompt, in order; sampling fields with it are a 400 naming the field', async () => {
  const prompts = [pairPrompt({ question: 'What is 2+3?', answerA: '5', answerB: '6' }, 'direct'), 'Judge\n'];
  const r = await post('/completions', { prompt: prompts, max_tokens: 0, candidates: ['[[A]]', '[[B]]', 'x'] });
  assert.equal(r.status, 200);
  const ref = await local.candidateLogprobs(prompts, ['[[A]]', '[[B]]', 'x']);
  assert.equal(r.json.choices.length, 2);
  r.json.choices.forEach((c: any, i: number) => {
    assert.equal(c.index, i);
    c.candidate_logprobs.forEach((lp: number, k: number) =>
      assert.ok(Math.abs(lp - ref[i]![k]!.logprob) < 1e-4, `prompt ${i} candidate ${k}`),
    );
  });
  assert.ok(r.json.usage.prompt_tokens > 0 && r.json.usage.completion_tokens === 0);
  for (const [field, extra] of [
    ['max_tokens', { max_tokens: 3 }],
    ['echo', { max_tokens: 0, echo: true }],
    ['n', { max_tokens: 0, n: 2 }],
  ] as const) {
    const bad = await post('/completions', { prompt: 'x', candidates: ['a'], ...extra });
    assert.equal(bad.status, 400, field);
    assert.equal(bad.json.error.param, field);
  }
  assert.equal((await post('/completions', { prompt: 'x', max_tokens: 0, candidates: [] })).status, 400);
});

test('prompt lists: a batch of text prompts shares requests of at most rowsPerRequest rows, with the very samples and candidate log-probs of one request per prompt', async () => {
  const lists = new OpenAIBackend({
    baseURL: srv.url,
    model: 'tiny',
    promptLists: true,
    candidatesExtension: true,
    rowsPerRequest: 4,
    ...noKey,
  });
  const posts: { path: string; prompts: number }[] = [];
  const post0 = lists.client.post.bind(lists.client);
  lists.client.post = (async (path: string, body: Record<string, unknown>, signal?: AbortSignal) => {
    posts.push({ path, prompts: Array.isArray(body.prompt) ? body.prompt.length : 1 });
    return post0(path, body, signal);
  }) as typeof lists.client.post;
  const prompts = ['Judge\nQ: 1', 'Judge\nQ: 22', [{ role: 'user' as const, content: 'hi' }], 'Judge\nQ: 333'];
  const opts = { n: 2, temperature: 1, maxTokens: 6, seed: 5 };
  const batched = await lists.generate(prompts, opts);
  const single = await http.generate(prompts, opts);
  assert.deepEqual(
    batched.map((g) => g.samples.map((s) => s.text)),
    single.map((g) => g.samples.map((s) => s.text)),
  );
  // Log-probs up to the last bits: the server batches rows differently either way, and a row's
  // logits in another batch shape can differ there (see engine/sampling/generate.ts).
  batched.forEach((g, p) =>
    g.samples.forEach((s, i) =>
      s.logprobs.forEach((lp, t) =>
        assert.ok(Math.abs(lp - single[p]!.samples[i]!.logprobs[t]!) < 1e-4, `prompt ${p} sample ${i} token ${t}`),
      ),
    ),
  );
  // 3 text prompts × n 2 at ≤ 4 rows per request: lists of 2 and 1; the chat prompt goes alone.
  assert.deepEqual(posts.map((p) => `${p.path}:${p.prompts}`).sort(), ['/chat/completions:1', '/completions:1', '/completions:2']);
  posts.length = 0;
  const direct = ['5', '6', '7', '8', '9'].map((b) => pairPrompt({ question: 'What is 2+3?', answerA: '5', answerB: b }, 'direct'));
  const got = await lists.candidateLogprobs(direct, ['[[A]]', '[[B]]']);
  const ref = await local.candidateLogprobs(direct, ['[[A]]', '[[B]]']);
  got.forEach((row, i) =>
    row.forEach((c, k) => assert.ok(Math.abs(c.logprob - ref[i]![k]!.logprob) < 1e-4 && c.found, `prompt ${i} candidate ${k}`)),
  );
  assert.deepEqual(posts.map((p) => p.prompts).sort(), [1, 4]);
});

test('bad requests: 400 naming the field, 404 model/route, 405, 413, a prompt over the context', async () => {
  const role = await post('/chat/completions', { messages: [{ role: 'robot', content: 'x' }] });
  assert.equal(role.status, 400);
  assert.equal(role.json.error.param, 'messages[0].role');
  assert.match(role.json.error.message, /messages\[0\]\.role/);
  const temp = await post('/completions', { prompt: 'x', temperature: -1 });
  assert.equal(temp.status, 400);
  assert.equal(temp.json.error.param, 'temperature');
  const model = await post('/completions', { prompt: 'x', model: 'gpt-9' });
  assert.equal(model.status, 404);
  assert.match(model.json.error.message, /serves "tiny"/);
  assert.equal((await fetch(srv.url + '/nope')).status, 404);
  const wrong = await fetch(srv.url + '/completions');
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'POST');
  const big = await post('/completions', { prompt: 'x'.repeat(2 << 20) });
  assert.equal(big.status, 413);
  const long = await post('/completions', { prompt: 'x'.repeat(400), max_tokens: 1 });
  assert.equal(long.status, 400);
  assert.match(long.json.error.message, /401 tokens .* context of 160/);
  assert.equal(long.json.error.type, 'invalid_request_error');
  const json = await fetch(srv.url + '/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
  assert.equal(json.status, 400);
});

test('concurrent requests share worker batches; /health answers while the worker computes', async () => {
  const before = srv.worker.stats.batches;
  const long = http.generate(
    Array.from({ length: 8 }, (_, i) => `${PROMPT}${i}`),
    { n: 8, maxTokens: 120, seed: 1, temperature: 1 },
  );
  let done = false;
  void long.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 30));
  const t0 = performance.now();
  const h = (await (await fetch(srv.url.replace(/\/v1$/, '/health'))).json()) as any;
  const ms = performance.now() - t0;
  const doneAtHealth = done;
  await long;
  assert.equal(h.status, 'ok');
  assert.equal(h.busy, true, 'the worker was computing when /health answered');
  assert.equal(doneAtHealth, false, 'the generate call was still running');
  assert.ok(ms < 200, `/health took ${ms.toFixed(0)} ms`);
  const batches = srv.worker.stats.batches - before;
  assert.ok(batches < 8, `8 requests in ${batches} batches`);
  assert.ok(srv.worker.stats.largestBatch > 1);
});
