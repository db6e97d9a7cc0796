// A minimal router over node:http: exact (method, path) routes, 404 for unknown paths, 405 with
// Allow for a known path and the wrong method, every thrown error answered through errorReply.
// Middleware-like hooks (`before`) run ahead of a route's handler: fault injection today, auth and
// limits later, in one place for every endpoint.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorReply, HttpError } from './errors.js';

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  route: RouteInfo;
}

export interface RouteInfo {
  method: string;
  path: string;
  /** Tags hooks read, e.g. `model: true` for routes that reach the model (fault injection). */
  tags: Record<string, boolean>;
}

export type Handler = (ctx: Ctx) => Promise<void>;
export type Hook = (ctx: Ctx) => Promise<void>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, e: unknown): void {
  const r = errorReply(e);
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

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const byMethod = this.routes.get(path);
      if (!byMethod) throw new HttpError(404, `no route ${req.method} ${path}`, 'not_found_error');
      const r = byMethod.get(req.method ?? 'GET');
      if (!r) throw new HttpError(405, `${path} takes ${[...byMethod.keys()].join(', ')}, not ${req.method}`, 'invalid_request_error', null, null, { allow: [...byMethod.keys()].join(', ') });
      const ctx: Ctx = { req, res, url, route: r.info };
      for (const h of this.hooks) {
        await h(ctx);
        if (res.writableEnded) return;
      }
      await r.handler(ctx);
    } catch (e) {
      sendError(res, e);
    }
  }
}
