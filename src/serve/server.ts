// `genrm serve`: THE HTTP stack of DESIGN.md §5. node:http + a small router; the model runs in a
// worker thread (modelWorker.ts), so the event loop answers /health and reads new requests while a
// batch computes. Endpoints today: GET /health, GET /v1/models, POST /v1/completions,
// POST /v1/chat/completions. Later issues add routes (reward API) and hooks (auth, limits, queue)
// to the same router: routes tagged `model` get every model-route hook (fault injection now).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, resolve } from 'node:path';
import { DEFAULT_BODY_LIMIT } from './body.js';
import { Faults, parseFaults } from './faults.js';
import { ModelWorker } from './modelWorker.js';
import { chatHandler } from './openai/chat.js';
import { completionsHandler } from './openai/completions.js';
import { modelsHandler } from './openai/models.js';
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
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:41234/v1 — what an OpenAI client takes as its base URL. */
  url: string;
  port: number;
  host: string;
  worker: ModelWorker;
  faults: Faults | null;
  /** Stops accepting, lets requests in flight finish (up to graceMs), then stops the worker. */
  close(graceMs?: number): Promise<void>;
}

export function buildRouter(worker: ModelWorker, faults: Faults | null, bodyLimit: number): Router {
  const created = Math.floor(Date.now() / 1000);
  const router = new Router();
  if (faults) router.before(async (ctx) => {
    if (ctx.route.tags.model) await faults.apply();
  });
  router.add('GET', '/health', async (ctx) => sendJson(ctx.res, 200, { status: 'ok', model: worker.info.id, busy: worker.busy, queued: worker.queued, stats: worker.stats }));
  router.add('GET', '/v1/models', modelsHandler(worker, created));
  router.add('POST', '/v1/completions', completionsHandler(worker, bodyLimit), { model: true });
  router.add('POST', '/v1/chat/completions', chatHandler(worker, bodyLimit), { model: true });
  return router;
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const faultSpec = o.faults ?? process.env.GENRM_FAULTS;
  const faults = faultSpec ? new Faults(parseFaults(faultSpec, o.faults !== undefined ? '--faults' : 'GENRM_FAULTS')) : null;
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? 8000;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new RangeError(`--port must be an integer in [0, 65535], got ${port}`);
  const worker = await ModelWorker.start(o.model, { id: o.name ?? basename(resolve(o.model)), ...(o.maxBatchRows !== undefined ? { maxBatchRows: o.maxBatchRows } : {}) });
  const router = buildRouter(worker, faults, o.bodyLimit ?? DEFAULT_BODY_LIMIT);
  const server: Server = createServer((req, res) => void router.handle(req, res));
  try {
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(port, host, () => res());
    });
  } catch (e) {
    await worker.close();
    throw e;
  }
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${shown}:${addr.port}/v1`,
    port: addr.port,
    host: addr.address,
    worker,
    faults,
    close(graceMs = 10_000) {
      closing ??= (async () => {
        const closed = new Promise<void>((res) => server.close(() => res()));
        // Keep-alive connections that finish their request go idle; close those as they do.
        const tick = setInterval(() => server.closeIdleConnections(), 50);
        const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
        server.closeIdleConnections();
        await closed;
        clearInterval(tick);
        clearTimeout(deadline);
        await worker.close();
      })();
      return closing;
    },
  };
}
