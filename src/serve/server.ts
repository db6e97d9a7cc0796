// `genrm serve`: THE HTTP stack (docs/ARCHITECTURE.md, Contracts). node:http + a small router; the model runs in a
// worker thread (modelWorker.ts), so the event loop answers /health and reads new requests while a
// batch computes. Endpoints: GET /health, GET /metrics, GET /v1/models(/{id}), POST /v1/completions,
// POST /v1/chat/completions, and the reward API (reward/handlers.ts): POST /v1/judge, /v1/rank,
// /v1/reward, /get_reward. What guards them is shared by all: the bearer-token gate, the body
// limit (413), the bounded queue (429 + Retry-After), the deadline (504) and client-disconnect
// cancellation on every route tagged `model` (the worker drops a request's rows when it goes), the
// prompt checks before queueing (promptGate.ts), the caps on connections and on the time to send
// headers, fault injection, and the metrics.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { basename, resolve } from 'node:path';
import { resolveJudgeConfig, type JudgeConfigInput } from '../judge/config.js';
import { resolveTemplate } from '../judge/resolveTemplate.js';
import { DEFAULT_BODY_LIMIT } from './body.js';
import { Admission, bearerGate } from './limits.js';
import { Metrics } from './metrics.js';
import { getRewardHandler, judgeHandler, rankHandler, rewardHandler } from './reward/handlers.js';
import { WorkerModel } from './workerModel.js';
import { Faults, parseFaults } from './faults.js';
import { ModelWorker } from './modelWorker.js';
import { PromptGate } from './promptGate.js';
import { chatHandler } from './openai/chat.js';
import { completionsHandler } from './openai/completions.js';
import { modelsHandlers } from './openai/models.js';
import { systemFingerprint } from './openai/common.js';
import { Router, sendJson } from './router.js';

export interface ServeOptions {
  /** Checkpoint folder (kind 'lm'). */
  model: string;
  /** Interface to bind. 127.0.0.1: reachable from this machine only unless asked. */
  host?: string;
  /** 0 = an ephemeral port (the bound one is in `url`). Default 8000 (vLLM's). */
  port?: number;
  /** The id clients send as `model`. Default: the checkpoint folder's name. */
  name?: string;
  /** Fault-injection spec (faults.ts); default: env GENRM_FAULTS; unset = off. */
  faults?: string;
  /** Largest request body in bytes. Default 1 MiB. */
  bodyLimit?: number;
  maxBatchRows?: number;
  /** KV-cache precision of generation: 'f32' (default) or 'f16' (half the cache memory, batch-64 decoding ~20 % faster; see the engine's DecodeOptions.kvCache). */
  kvCache?: 'f32' | 'f16';
  /** Most jobs (prompts) in one worker batch. 256: far above what a CPU batch gains from; 1 = one at a time. */
  maxBatch?: number;
  /** When the worker is idle, gather jobs until none has arrived for this long (at most 10 times it) before sending a batch. 2 ms (see modelWorker.ts). */
  batchWaitMs?: number;
  /** Model requests admitted at once; one more gets 429. 1024: four times the largest load the bench drives. */
  maxQueue?: number;
  /** Deadline per model request in ms (504 past it; 0 = none). 120 s: OpenRLHF's client gives up at 180 s. */
  timeoutMs?: number;
  /** Bearer token required on every route but GET /health; default env GENRM_TOKEN; unset = open. */
  token?: string;
  /** Judge defaults of the reward endpoints (mode, votes, maxTokens, swap, ...). */
  judge?: JudgeConfigInput;
  /**
   * Open connections at once. Past it, a new connection takes the place of the oldest one that
   * has not yet sent a whole request (slow-header and idle ones go first), or is closed at accept
   * when every connection is busy with a request. Default maxQueue + 64: a connection for every
   * request the queue admits, and room for probes and scrapes beside them.
   */
  maxConnections?: number;
  /**
   * genrm's extensions of the OpenAI endpoints: `candidates` on /v1/completions and the `genrm`
   * block of /v1/models. Default on; off (`--no-extensions`), a request with `candidates` is a 400
   * naming it and /v1/models shows OpenAI's and vLLM's fields only, so clients meet the server as
   * they would vLLM or llama.cpp's (how the OpenAI backend's top-logprob fallback is tested).
   */
  extensions?: boolean;
  /**
   * Time a client has to send a request's headers, in ms (then its connection is closed): 10 s.
   * A client on the same machine or network sends them in milliseconds; a connection that dribbles
   * them (slowloris) or sends nothing would otherwise hold its slot for Node's default 60 s.
   */
  headersTimeoutMs?: number;
}

/** Time to receive a whole request (headers and body): 60 s, six times the header limit, for a 1 MiB body on a slow link. */
const REQUEST_TIMEOUT_MS = 60_000;
/** How often Node checks the header and request time limits: each is enforced within this. */
const TIMEOUT_CHECK_MS = 1_000;

export interface RunningServer {
  /** e.g. http://127.0.0.1:41234/v1 — what an OpenAI client takes as its base URL. */
  url: string;
  port: number;
  host: string;
  worker: ModelWorker;
  faults: Faults | null;
  metrics: Metrics;
  admission: Admission;
  /** Stops accepting, lets requests in flight finish (up to graceMs), then stops the worker. */
  close(graceMs?: number): Promise<void>;
}

export interface RouterParts {
  worker: ModelWorker;
  gate: PromptGate;
  faults: Faults | null;
  bodyLimit: number;
  admission: Admission;
  metrics: Metrics;
  timeoutMs: number;
  token: string | undefined;
  judge: JudgeConfigInput;
  /** The OpenAI replies' `system_fingerprint`. */
  fingerprint: string;
  /** genrm's extensions of the OpenAI API (ServeOptions.extensions). */
  extensions: boolean;
}

export function buildRouter(p: RouterParts): Router {
  const { worker, faults, bodyLimit, admission, metrics } = p;
  const created = Math.floor(Date.now() / 1000);
  const router = new Router({
    timeoutMs: p.timeoutMs,
    observe: (o) => {
      metrics.requests.inc({ route: o.route, method: o.method, status: String(o.status) });
      metrics.latency.observe(o.seconds, { route: o.route });
      if (o.errorKind) metrics.errors.inc({ kind: o.errorKind });
    },
  });
  if (p.token !== undefined) router.gate(bearerGate(p.token));
  router.before(admission.hook());
  if (faults)
    router.before(async (ctx) => {
      if (ctx.route.tags.model) await faults.apply();
    });
  router.add('GET', '/health', async (ctx) =>
    sendJson(ctx.res, 200, {
      status: 'ok',
      model: worker.info.id,
      busy: worker.busy,
      queued: worker.queued,
      inFlight: admission.inFlight,
      stats: worker.stats,
    }),
  );
  router.add('GET', '/metrics', async (ctx) => {
    const text = metrics.render();
    ctx.res.writeHead(200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
    });
    ctx.res.end(text);
  });
  const openai = { worker, gate: p.gate, bodyLimit, fingerprint: p.fingerprint, extensions: p.extensions };
  const models = modelsHandlers(openai, created);
  router.add('GET', '/v1/models', models.list);
  router.add('GET', '/v1/models/*', models.one);
  router.add('POST', '/v1/completions', completionsHandler(openai), { model: true });
  router.add('POST', '/v1/chat/completions', chatHandler(openai), { model: true });
  const caps = new WorkerModel(worker).capabilities;
  const judge = resolveJudgeConfig(p.judge, 'genrm serve judge options');
  const deps = {
    worker,
    gate: p.gate,
    bodyLimit,
    judge,
    pair: resolveTemplate(judge.template, 'pair', caps),
    point: resolveTemplate('auto', 'point', caps),
  };
  router.add('POST', '/v1/judge', judgeHandler(deps), { model: true });
  router.add('POST', '/v1/rank', rankHandler(deps), { model: true });
  router.add('POST', '/v1/reward', rewardHandler(deps), { model: true });
  router.add('POST', '/get_reward', getRewardHandler(deps), { model: true });
  return router;
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const faultSpec = o.faults ?? process.env.GENRM_FAULTS;
  const faults = faultSpec ? new Faults(parseFaults(faultSpec, o.faults !== undefined ? '--faults' : 'GENRM_FAULTS')) : null;
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? 8000;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new RangeError(`--port must be an integer in [0, 65535], got ${port}`);
  const token = o.token ?? (process.env.GENRM_TOKEN || undefined);
  const timeoutMs = o.timeoutMs ?? 120_000;
  if (!(Number.isInteger(timeoutMs) && timeoutMs >= 0)) throw new RangeError(`--timeout-ms must be an integer >= 0, got ${timeoutMs}`);
  const maxQueue = o.maxQueue ?? 1024;
  const maxConnections = o.maxConnections ?? maxQueue + 64;
  if (!(Number.isInteger(maxConnections) && maxConnections >= 1))
    throw new RangeError(`--max-connections must be an integer >= 1, got ${maxConnections}`);
  const headersTimeoutMs = o.headersTimeoutMs ?? 10_000;
  if (!(Number.isInteger(headersTimeoutMs) && headersTimeoutMs >= 100 && headersTimeoutMs <= REQUEST_TIMEOUT_MS))
    throw new RangeError(`--headers-timeout-ms must be an integer in [100, ${REQUEST_TIMEOUT_MS}], got ${headersTimeoutMs}`);
  // Metrics read the worker and the admission live; both exist before the first scrape.
  let worker: ModelWorker | undefined;
  let admission: Admission | undefined;
  const metrics = new Metrics({
    queueDepth: () => worker?.queued ?? 0,
    inFlight: () => admission?.inFlight ?? 0,
    busy: () => worker?.busy ?? false,
    stats: () => worker?.stats ?? { jobs: 0, cancelled: 0, cancelledRunning: 0, promptTokens: 0, generatedTokens: 0 },
  });
  worker = await ModelWorker.start(o.model, {
    id: o.name ?? basename(resolve(o.model)),
    ...(o.maxBatchRows !== undefined ? { maxBatchRows: o.maxBatchRows } : {}),
    ...(o.kvCache ? { kvCache: o.kvCache } : {}),
    ...(o.maxBatch !== undefined ? { maxBatchJobs: o.maxBatch } : {}),
    ...(o.batchWaitMs !== undefined ? { batchWindowMs: o.batchWaitMs } : {}),
    onBatch: (jobs, ms) => {
      metrics.batchSize.observe(jobs);
      metrics.batchSeconds.observe(ms / 1000);
    },
  });
  const w = worker;
  let router: Router;
  try {
    admission = new Admission(
      maxQueue,
      () => w.stats.ewmaBatchMs,
      (ctx) => w.drained(ctx.signal),
    );
    const gate = PromptGate.load(o.model, w.info.contextLength);
    const fingerprint = systemFingerprint(o.model, { kvCache: o.kvCache ?? 'f32', maxBatchRows: o.maxBatchRows ?? null });
    router = buildRouter({
      worker: w,
      gate,
      faults,
      bodyLimit: o.bodyLimit ?? DEFAULT_BODY_LIMIT,
      admission,
      metrics,
      timeoutMs,
      token,
      judge: o.judge ?? {},
      fingerprint,
      extensions: o.extensions ?? true,
    });
  } catch (e) {
    await w.close();
    throw e;
  }
  // Connections that have not yet sent a whole request (oldest first): Node's headersTimeout cuts
  // one that has begun its headers, but not one that sends nothing (or a partial first line); the
  // timer here does. At the connection cap they are the ones a new connection replaces, so
  // clients that hold connections without requests cannot lock out one that sends its request.
  const fresh = new Map<Socket, NodeJS.Timeout>();
  const open = new Set<Socket>();
  const server: Server = createServer(
    { headersTimeout: headersTimeoutMs, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_MS },
    (req, res) => {
      const t = fresh.get(req.socket);
      if (t) {
        clearTimeout(t);
        fresh.delete(req.socket);
      }
      void router.handle(req, res);
    },
  );
  server.on('connection', (sock: Socket) => {
    if (open.size >= maxConnections) {
      const oldest = fresh.keys().next();
      if (oldest.done) return void sock.destroy(); // all busy with requests: refuse the newcomer
      oldest.value.destroy();
      clearTimeout(fresh.get(oldest.value));
      fresh.delete(oldest.value);
      open.delete(oldest.value);
    }
    open.add(sock);
    fresh.set(sock, setTimeout(() => sock.destroy(), headersTimeoutMs).unref());
    sock.once('close', () => {
      clearTimeout(fresh.get(sock));
      fresh.delete(sock);
      open.delete(sock);
    });
  });
  try {
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(port, host, () => res());
    });
  } catch (e) {
    await w.close();
    throw e;
  }
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${shown}:${addr.port}/v1`,
    port: addr.port,
    host: addr.address,
    worker: w,
    faults,
    metrics,
    admission: admission as Admission,
    close(graceMs = 10_000) {
      closing ??= (async () => {
        const closed = new Promise<void>((res) => server.close(() => res()));
        for (const sock of fresh.keys()) sock.destroy(); // no request on them: nothing to finish
        // Keep-alive connections that finish their request go idle; close those as they do.
        const tick = setInterval(() => server.closeIdleConnections(), 50);
        const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
        server.closeIdleConnections();
        await closed;
        clearInterval(tick);
        clearTimeout(deadline);
        await w.close();
      })();
      return closing;
    },
  };
}
