// genrm serve through the official `openai` SDK, as its users call it: models (list, retrieve,
// an unknown id), chat and completions, streaming with the SDK's iterator (the text a client
// concatenates equals the non-streamed reply for the same seed; the first text arrives while the
// model is still decoding; a client that leaves stops its rows), the request shapes the SDK sends
// (content parts, the developer role) and the 400s for what the server cannot do. And
// `--no-extensions`: the server then looks like vLLM or llama.cpp's, and the OpenAI backend's
// fallback (verdicts from top logprobs) gives the P(A) the embedded engine gives.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import OpenAI, { BadRequestError, NotFoundError } from 'openai';
import { EmbeddedBackend } from '../../src/backends/embedded/backend.js';
import { openModel } from '../../src/backends/open.js';
import { resolveJudgeConfig } from '../../src/judge/config.js';
import { judgePairs } from '../../src/judge/pairwise.js';
import { compactPairTemplate } from '../../src/judge/templates.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { makeTinyCheckpoint } from './helpers.js';

let ck: ReturnType<typeof makeTinyCheckpoint>;
let srv: RunningServer;
let client: OpenAI;

before(async () => {
  ck = makeTinyCheckpoint();
  srv = await startServer({ model: ck.dir, port: 0, name: 'tiny' });
  client = new OpenAI({ baseURL: srv.url, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  await srv?.close();
  ck?.cleanup();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** An SDK call that must fail with a 400 naming `param`. */
async function refused(call: Promise<unknown>, param: string, message: RegExp): Promise<void> {
  await assert.rejects(call, (e: unknown) => {
    assert.ok(e instanceof BadRequestError, String(e));
    assert.equal(e.param, param);
    assert.match(e.message, message);
    return true;
  });
}

test('models: list, retrieve by id, an unknown id is a NotFoundError (404, code model_not_found); replies carry one system_fingerprint', async () => {
  const list = await client.models.list();
  assert.deepEqual(
    list.data.map((m) => m.id),
    ['tiny'],
  );
  const one = await client.models.retrieve('tiny');
  assert.equal(one.id, 'tiny');
  assert.equal(one.object, 'model');
  await assert.rejects(
    client.models.retrieve('gpt-9'),
    (e: unknown) => e instanceof NotFoundError && e.status === 404 && e.code === 'model_not_found' && /gpt-9/.test(e.message),
  );

  const chat = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, seed: 1 });
  const text = await client.completions.create({ model: 'tiny', prompt: 'hi', max_tokens: 4, seed: 1 });
  assert.match(chat.system_fingerprint ?? '', /^fp_[0-9a-f]{12}$/);
  assert.equal(text.system_fingerprint, chat.system_fingerprint);
});

test('streaming chat, n = 2, with logprobs: each choice’s deltas add up to the non-streamed message, token for token', async () => {
  const req = {
    model: 'tiny',
    messages: [{ role: 'user' as const, content: 'Tell me more.' }],
    n: 2,
    seed: 4,
    max_tokens: 60,
    logprobs: true,
    top_logprobs: 2,
  };
  const whole = await client.chat.completions.create(req);
  const stream = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
  const text = ['', ''];
  const tokens: { token: string; logprob: number; top: string[] }[][] = [[], []];
  const finish: (string | null)[] = [null, null];
  const roles: string[] = [];
  let usage: unknown = null;
  let fingerprints = new Set<string | undefined>();
  for await (const chunk of stream) {
    fingerprints.add(chunk.system_fingerprint);
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta.role) roles.push(`${c.index}:${c.delta.role}`);
      text[c.index] += c.delta.content ?? '';
      for (const t of c.logprobs?.content ?? [])
        tokens[c.index]!.push({ token: t.token, logprob: t.logprob, top: t.top_logprobs.map((a) => a.token) });
      if (c.finish_reason) finish[c.index] = c.finish_reason;
    }
  }
  assert.deepEqual(roles.sort(), ['0:assistant', '1:assistant']);
  assert.notEqual(whole.choices[0]!.message.content, whole.choices[1]!.message.content, 'two different samples');
  for (const i of [0, 1]) {
    const ref = whole.choices[i]!;
    assert.equal(text[i], ref.message.content, `choice ${i}`);
    assert.equal(finish[i], ref.finish_reason);
    assert.deepEqual(
      tokens[i],
      ref.logprobs!.content!.map((t) => ({ token: t.token, logprob: t.logprob, top: t.top_logprobs.map((a) => a.token) })),
    );
  }
  assert.deepEqual(usage, whole.usage);
  assert.deepEqual([...fingerprints], [whole.system_fingerprint]);
});

test('streaming completions, two prompts × n = 2 and echo: each choice’s text equals the non-streamed one; a stop string is held back, never sent', async () => {
  const req = { model: 'tiny', prompt: ['Judge\nQ: 1', 'Judge\nQ: 22'], n: 2, seed: 3, max_tokens: 40, logprobs: 1 };
  const collect = async (
    body: OpenAI.CompletionCreateParamsNonStreaming,
  ): Promise<{ text: string[]; finish: string[]; offsets: number[][] }> => {
    const out = { text: [] as string[], finish: [] as string[], offsets: [] as number[][] };
    for await (const chunk of await client.completions.create({ ...body, stream: true })) {
      for (const c of chunk.choices) {
        out.text[c.index] = (out.text[c.index] ?? '') + c.text;
        (out.offsets[c.index] ??= []).push(...(c.logprobs?.text_offset ?? []));
        if (c.finish_reason) out.finish[c.index] = c.finish_reason;
      }
    }
    return out;
  };
  for (const body of [req, { ...req, echo: true }]) {
    const whole = await client.completions.create(body);
    const got = await collect(body);
    assert.equal(got.text.length, 4);
    whole.choices.forEach((c) => {
      assert.equal(got.text[c.index], c.text, `choice ${c.index}${body === req ? '' : ' (echo)'}`);
      assert.equal(got.finish[c.index], c.finish_reason);
      assert.deepEqual(got.offsets[c.index], c.logprobs!.text_offset);
    });
  }
  // A stop string from inside the free text (3 characters, no U+FFFD): the stream ends before it, as the reply does.
  const free = (await client.completions.create({ model: 'tiny', prompt: 'Judge\nQ: 1', max_tokens: 40, seed: 5 })).choices[0]!.text;
  let at = 4;
  while (at + 3 <= free.length && free.slice(at, at + 3).includes('\ufffd')) at++;
  assert.ok(at + 3 <= free.length, `no stop string to take from ${JSON.stringify(free)}`);
  const stop = free.slice(at, at + 3);
  const cut = { model: 'tiny', prompt: 'Judge\nQ: 1', max_tokens: 40, seed: 5, stop: ['never there', stop] };
  const whole = await client.completions.create(cut);
  assert.equal(whole.choices[0]!.finish_reason, 'stop');
  assert.equal(whole.choices[0]!.text, free.slice(0, free.indexOf(stop)));
  const chunks: string[] = [];
  for await (const chunk of await client.completions.create({ ...cut, stream: true })) chunks.push(...chunk.choices.map((c) => c.text));
  assert.equal(chunks.join(''), whole.choices[0]!.text);
  assert.ok(!chunks.some((c) => c.includes(stop)));
});

test('streaming is real: the first text reaches the client while the worker is still decoding, in several reads before the end; a client that leaves stops its rows', async () => {
  // A context of 1,024 so a generation lasts well beyond a scheduling hiccup of a loaded machine.
  const long = makeTinyCheckpoint(3, { maxSeqLen: 1024 });
  const s = await startServer({ model: long.dir, port: 0, name: 'long' });
  try {
    const sdk = new OpenAI({ baseURL: s.url, apiKey: 'unused', maxRetries: 0 });
    const body = { model: 'long', prompt: 'x', n: 2, seed: 1, max_tokens: 1000 };
    let busyAtFirst: boolean | null = null;
    let chunks = 0;
    for await (const chunk of await sdk.completions.create({ ...body, stream: true })) {
      if (busyAtFirst === null && chunk.choices.some((c) => c.text)) busyAtFirst = s.worker.busy;
      chunks++;
    }
    assert.equal(busyAtFirst, true, 'the first text came while the batch was computing');
    assert.ok(chunks > 10, `${chunks} chunks`);
    // Reads of the raw stream: at least two carry text before the one that ends it.
    const r = await fetch(`${s.url}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, stream: true }),
    });
    const reader = r.body!.getReader();
    const dec = new TextDecoder();
    const reads: string[] = [];
    for (let x = await reader.read(); !x.done; x = await reader.read()) reads.push(dec.decode(x.value, { stream: true }));
    const withText = reads.slice(0, -1).filter((t) => /"text":"[^"]/.test(t)).length;
    assert.ok(withText >= 2, `${withText} reads with text before the last of ${reads.length}`);

    // Leaving after the first chunk: the request's rows are cancelled in the worker, and it goes idle.
    const cancelledBefore = s.worker.stats.cancelledRunning;
    const stream = await sdk.completions.create({ ...body, seed: 2, stream: true });
    for await (const chunk of stream) if (chunk.choices.some((c) => c.text)) break; // ends the SDK's stream: the connection closes
    await waitFor('the cancel to reach the worker', () => s.worker.stats.cancelledRunning > cancelledBefore);
    await waitFor('the worker to go idle', () => !s.worker.busy && s.admission.inFlight === 0);
  } finally {
    await s.close();
    long.cleanup();
  }
});

test('what the SDK sends: content-part arrays and the developer role are read; image parts, response_format, tools and functions are 400s naming them', async () => {
  const ask = (messages: OpenAI.ChatCompletionMessageParam[], extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
    client.chat.completions.create({ model: 'tiny', messages, max_tokens: 8, temperature: 0, ...extra });
  const plain = await ask([
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'one\ntwo' },
  ]);
  const parts = await ask([
    { role: 'developer', content: 'Be brief.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'one' },
        { type: 'text', text: 'two' },
      ],
    },
  ]);
  assert.equal(parts.choices[0]!.message.content, plain.choices[0]!.message.content);
  assert.equal(parts.usage?.prompt_tokens, plain.usage?.prompt_tokens, 'developer = system; text parts joined by a newline (as vLLM)');
  const other = await ask([{ role: 'user', content: 'three' }]);
  assert.notEqual(other.usage?.prompt_tokens, plain.usage?.prompt_tokens, 'the content is read, not dropped');
  assert.equal((await ask([{ role: 'user', content: 'x' }], { response_format: { type: 'text' } })).choices.length, 1);

  const image: OpenAI.ChatCompletionContentPart = { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } };
  await refused(
    ask([{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, image] }]),
    'messages[0].content[1].type',
    /"image_url" parts are not supported/,
  );
  await refused(
    ask([{ role: 'user', content: 'x' }], { response_format: { type: 'json_object' } }),
    'response_format',
    /no constrained decoding/,
  );
  const tool: OpenAI.ChatCompletionTool = { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } };
  await refused(ask([{ role: 'user', content: 'x' }], { tools: [tool] }), 'tools', /tool and function calling is not supported/);
  await refused(ask([{ role: 'user', content: 'x' }], { tool_choice: 'auto' }), 'tool_choice', /not supported/);
  await refused(ask([{ role: 'user', content: 'x' }], { functions: [{ name: 'f' }] }), 'functions', /not supported/);
  assert.equal(
    (await ask([{ role: 'user', content: 'x' }], { tool_choice: 'none' })).choices.length,
    1,
    'tool_choice "none" asks for nothing',
  );
});

test('--no-extensions: /v1/models has no genrm block, `candidates` is a 400; judged through the top-logprob fallback, P(A) equals the embedded engine’s (base model, 4 pairs, both orders)', async () => {
  const base = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../models/base' : '../../../models/base', import.meta.url));
  const plain = await startServer({ model: base, port: 0, name: 'genrm/base', extensions: false });
  try {
    const sdk = new OpenAI({ baseURL: plain.url, apiKey: 'unused', maxRetries: 0 });
    const listed = (await sdk.models.list()).data;
    assert.deepEqual(
      listed.map((m) => m.id),
      ['genrm/base'],
    );
    assert.equal('genrm' in listed[0]!, false);
    assert.equal((await sdk.models.retrieve('genrm/base')).id, 'genrm/base', 'an id with a slash');
    const bad = await fetch(`${plain.url}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x', max_tokens: 0, candidates: ['[[A]]', '[[B]]'] }),
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { param: string } }).error.param, 'candidates');

    const pairs = [
      { id: 'add', prompt: 'What is 17+25?', answerA: '42', answerB: '41' },
      { id: 'mul', prompt: 'What is 9*7?', answerA: '56', answerB: '63' },
      { id: 'sort', prompt: 'Sort 3 1 2.', answerA: '1 2 3', answerB: '3 2 1' },
      { id: 'rev', prompt: 'Reverse a b c.', answerA: 'c b a', answerB: 'a b c' },
    ];
    const cfg = resolveJudgeConfig({ mode: 'direct', swap: true });
    const local = await judgePairs(EmbeddedBackend.load(base), pairs, compactPairTemplate, cfg);
    const http = await openModel(plain.url, { apiKeyEnv: 'GENRM_TEST_NO_KEY' });
    assert.equal(http.capabilities.singleTokenVerdicts, false, 'nothing told the client about the tokenizer');
    const viaHttp = await judgePairs(http, pairs, compactPairTemplate, cfg);
    // The server's top-20 alternatives at the prompt's end hold both verdict tokens, so the client
    // reads the very log-probs the engine computes; they differ only where the server's batch
    // shape changes float32 logits in the last bits (~1e-6), far inside 1e-4.
    viaHttp.forEach((j, i) => {
      assert.equal(j.approximate, false, j.id);
      assert.ok(Math.abs(j.pA - local[i]!.pA) < 1e-4, `${j.id}: P(A) ${j.pA} via the fallback vs ${local[i]!.pA} in-process`);
      j.orders.forEach((o, k) => assert.ok(Math.abs(o.p - local[i]!.orders[k]!.p) < 1e-4, `${j.id} order ${k}`));
    });
    assert.ok(
      local.some((j) => Math.abs(j.orders[0].p - 0.5) > 0.02),
      'the base model is not indifferent',
    );
  } finally {
    await plain.close();
  }
});
