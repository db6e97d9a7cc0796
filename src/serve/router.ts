// A minimal router over node:http: exact (method, path) routes and prefix routes ("/v1/models/*":
// the rest of the path is ctx.rest), 404 for unknown paths, 405 with Allow for a known path and
// the wrong method, every thrown error answered through errorReply.
//
// What applies to every endpoint lives here, in one place:
//   - a gate before routing (bearer-token auth), so an unknown path without a token is a 401, not
//     a map of the routes;
//   - hooks (`before`) ahead of a route's handler: fault injection, the bounded queue;
//   - a per-request AbortSignal (ctx.signal) that fires when the client disconnects or, on routes
//     tagged `model`, when the request runs past its deadline; the handler's model work listens to
//     it (queued jobs leave, computing rows stop: modelWorker.ts), and the router answers 504 at
//     the deadline itself, whatever the handler is doing;
//   - one observation per request when its connection is done (route, status, seconds, error kind)
//     for the metrics.
import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorReply, HttpError } from './errors.js';

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  route: RouteInfo;
  /** Aborts when the client goes away (reason: ClientClosedError) or the deadline passes (HttpError 504). */
  signal: AbortSignal;
  /** A prefix route's rest of the path, URL-decoded ('' on exact routes). */
  rest: string;
}

export interface RouteInfo {
  method: string;
  path: string;
  /** Tags hooks read, e.g. `model: true` for routes that reach the model (faults, queue, deadline). */
  tags: Record<string, boolean>;
}

export type Handler = (ctx: Ctx) => Promise<void>;
export type Hook = (ctx: Ctx) => Promise<void>;
/** Runs before routing; throws (e.g. HttpError 401) to refuse the request. */
export type Gate = (req: IncomingMessage, path: string) => void;

export interface Observation {
  /** The matched route's path, or "unmatched". */
  route: string;
  method: string;
  /** The status sent; 499 (nginx's "client closed request") when the client left first. */
  status: number;
  seconds: number;
  /** For errors: the OpenAI error code or type (e.g. "rate_limit_error", "timeout"); "client_closed". */
  errorKind: string | null;
}

export interface RouterOptions {
  /** Deadline for routes tagged `model`, in ms (0 = none). */
  timeoutMs?: number;
  observe?: (o: Observation) => void;
}

/** The client closed its connection before the reply: nothing can be sent. */
export class ClientClosedError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientClosedError';
  }
}

const errorKinds = new WeakMap<ServerResponse, string>();

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return; // answered already (deadline) or the client left
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, e: unknown): void {
  if (e instanceof ClientClosedError) {
    errorKinds.set(res, 'client_closed');
    return;
  }
  const r = errorReply(e);
  if (!res.headersSent) errorKinds.set(res, r.body.error.code ?? r.body.error.type);
  if (res.headersSent) {
    // Mid-stream (SSE): the status is gone; end the stream with an error event.
    if (!res.writableEnded) res.end(`data: ${JSON.stringify(r.body)}\n\n`);
    return;
  }
  sendJson(res, r.status, r.body, r.headers);
}

export class Router {
  private readonly routes = new Map<string, Map<string, { info: RouteInfo; handler: Handler }>>();
  private readonly hooks: Hook[] = [];
  private readonly gates: Gate[] = [];

  constructor(private readonly o: RouterOptions = {}) {}

  /** `path` ending in "/*" is a prefix route: it takes every longer path under it (exact routes first). */
  add(method: string, path: string, handler: Handler, tags: Record<string, boolean> = {}): this {
    let byMethod = this.routes.get(path);
    if (!byMethod) this.routes.set(path, (byMethod = new Map()));
    byMethod.set(method, { info: { method, path, tags }, handler });
    return this;
  }

  before(hook: Hook): this {
    this.hooks.push(hook);
    return this;
  }

  gate(g: Gate): this {
    this.gates.push(g);
    return this;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    const ac = new AbortController();
    // Several parts of a request listen (the model worker once per request, the handler's own
    // waits); none outlives the request. Not a leak.
    setMaxListeners(0, ac.signal);
    let route = 'unmatched';
    let timer: NodeJS.Timeout | undefined;
    res.once('close', () => {
      clearTimeout(timer);
      const finished = res.writableFinished;
      if (!finished) ac.abort(new ClientClosedError());
      const kind = finished ? (errorKinds.get(res) ?? null) : 'client_closed';
      this.o.observe?.({
        route,
        method: req.method ?? 'GET',
        status: finished ? res.statusCode : 499,
        seconds: (performance.now() - t0) / 1000,
        errorKind: kind,
      });
    });
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      for (const g of this.gates) g(req, path);
      let byMethod = this.routes.get(path);
      let rest = '';
      if (!byMethod) {
        const prefix = [...this.routes.keys()].find((k) => k.endsWith('/*') && path.startsWith(k.slice(0, -1)));
        if (prefix) {
          byMethod = this.routes.get(prefix);
          try {
            rest = decodeURIComponent(path.slice(prefix.length - 1));
          } catch {
            throw new HttpError(400, `the path ${path} is not valid percent-encoding`);
          }
        }
      }
      if (!byMethod) throw new HttpError(404, `no route ${req.method} ${path}`, 'not_found_error');
      const r = byMethod.get(req.method ?? 'GET');
      if (!r)
        throw new HttpError(
          405,
          `${path} takes ${[...byMethod.keys()].join(', ')}, not ${req.method}`,
          'invalid_request_error',
          null,
          null,
          { allow: [...byMethod.keys()].join(', ') },
        );
      route = r.info.path;
      const ctx: Ctx = { req, res, url, route: r.info, signal: ac.signal, rest };
      const deadline = r.info.tags.model ? (this.o.timeoutMs ?? 0) : 0;
      if (deadline > 0) {
        timer = setTimeout(
          () =>
            ac.abort(
              new HttpError(
                504,
                `the request took longer than the server's limit of ${deadline} ms (--timeout-ms); its queued work was dropped`,
                'server_error',
                null,
                'timeout',
              ),
            ),
          deadline,
        );
      }
      // Whichever comes first: the handler's answer, or the abort (deadline -> 504, client gone -> nothing).
      const aborted = new Promise<never>((_, rej) => {
        if (ac.signal.aborted) rej(ac.signal.reason);
        ac.signal.addEventListener('abort', () => rej(ac.signal.reason), { once: true });
      });
      aborted.catch(() => {});
      const run = (async () => {
        for (const h of this.hooks) {
          await h(ctx);
          if (res.writableEnded) return;
        }
        await r.handler(ctx);
      })();
      run.catch(() => {}); // after an abort the handler's late error has nowhere to go
      await Promise.race([run, aborted]);
    } catch (e) {
      sendError(res, e);
    } finally {
      clearTimeout(timer);
    }
  }
}
