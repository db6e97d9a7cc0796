// Limits that guard every endpoint of the stack: the optional bearer token and the bounded queue.
// (The body-size limit is body.ts's; the per-request deadline and client disconnects are the
// router's, through ctx.signal; connection and header-time caps are server.ts's.)
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';
import type { Ctx, Gate, Hook } from './router.js';

/** Paths answered without a token: liveness probes carry none. */
const OPEN_PATHS = new Set(['/health']);

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * `Authorization: Bearer <token>` on every path but /health; 401 otherwise. The comparison is over
 * SHA-256 digests (equal length whatever was sent) with crypto.timingSafeEqual, so the time taken
 * says nothing about how much of the token was right, nor its length.
 */
export function bearerGate(token: string): Gate {
  if (token.length === 0) throw new RangeError('--token / GENRM_TOKEN: the token must not be empty');
  const want = digest(token);
  return (req: IncomingMessage, path: string) => {
    if (OPEN_PATHS.has(path) && req.method === 'GET') return;
    const h = String(req.headers.authorization ?? '');
    const m = /^Bearer\s+(.+)$/i.exec(h);
    const ok = m !== null && timingSafeEqual(digest(m[1]!.trim()), want);
    if (!ok) {
      throw new HttpError(
        401,
        h
          ? 'the bearer token is not the one this server was started with'
          : 'this server needs "Authorization: Bearer <token>" (genrm serve --token / GENRM_TOKEN)',
        'invalid_request_error',
        null,
        'invalid_api_key',
        { 'www-authenticate': 'Bearer' },
      );
    }
  };
}

/**
 * The bounded queue: at most `capacity` model requests admitted at once (each waits for its
 * batches, is being computed, or is being answered). One more gets 429 with Retry-After, the
 * seconds a batch has lately taken (at least 1), so clients back off instead of piling up
 * unbounded memory. A request counts until its reply is done AND `drained` says its work left the
 * model (a request that timed out or lost its client still holds its slot while its rows stop).
 */
export class Admission {
  private n = 0;

  constructor(
    readonly capacity: number,
    private readonly batchMs: () => number,
    private readonly drained: (ctx: Ctx) => Promise<void> = async () => {},
  ) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`--max-queue must be an integer >= 1, got ${capacity}`);
  }

  get inFlight(): number {
    return this.n;
  }

  /** A `before` hook for model routes: admit or refuse; the slot frees when the connection is done. */
  hook(): Hook {
    return async (ctx: Ctx) => {
      if (!ctx.route.tags.model) return;
      if (this.n >= this.capacity) {
        const retry = Math.max(1, Math.ceil(this.batchMs() / 1000));
        throw new HttpError(
          429,
          `the server's queue is full (${this.capacity} requests, --max-queue); retry after ${retry} s`,
          'rate_limit_error',
          null,
          'queue_full',
          { 'retry-after': String(retry) },
        );
      }
      this.n++;
      ctx.res.once('close', () => void this.drained(ctx).then(() => this.n--));
    };
  }
}
