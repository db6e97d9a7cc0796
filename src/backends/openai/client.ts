// A small HTTP client for OpenAI-compatible servers (vLLM, SGLang, llama.cpp's server, Ollama,
// hosted APIs), on Node's built-in fetch. It owns transport concerns only: auth, per-request
// timeout, retries with backoff, a cap on requests in flight, typed errors. What to ask the server
// is the backend's business (backend.ts).
import { APIConnectionError, APIError, APITimeoutError, isRetryableStatus, redact, statusHint } from './errors.js';
import { DEFAULT_RETRY, backoffMs, retryAfterMs, sleep, type RetryPolicy } from './retry.js';
import { Semaphore } from './semaphore.js';

export interface ClientOptions {
  /** e.g. "http://127.0.0.1:8000/v1" (a trailing slash is fine). */
  baseURL: string;
  /** Env var holding the API key. Default OPENAI_API_KEY; unset or empty = no Authorization header. */
  apiKeyEnv?: string;
  /** Per-attempt timeout in ms. 600 s: long CoT batches on a busy server are slow but not dead. */
  timeoutMs?: number;
  /** Requests in flight at once. 16: keeps a vLLM batch full without flooding a laptop server. */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  /** Injected for tests; defaults to globalThis.fetch. */
  fetch?: typeof fetch;
  /** Injected for tests: the jitter source. */
  random?: () => number;
}

export class OpenAIClient {
  readonly baseURL: string;
  readonly apiKeyEnv: string;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  private readonly sem: Semaphore;
  private readonly fetchFn: typeof fetch;
  private readonly random: () => number;

  constructor(o: ClientOptions) {
    let u: URL;
    try {
      u = new URL(o.baseURL);
    } catch {
      throw new RangeError(`openai client: baseURL is not a URL: ${JSON.stringify(o.baseURL)}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new RangeError(`openai client: baseURL must be http(s), got ${u.protocol}`);
    this.baseURL = o.baseURL.replace(/\/+$/, '');
    this.apiKeyEnv = o.apiKeyEnv ?? 'OPENAI_API_KEY';
    this.timeoutMs = o.timeoutMs ?? 600_000;
    this.retry = { ...DEFAULT_RETRY, ...o.retry };
    this.sem = new Semaphore(o.concurrency ?? 16);
    this.fetchFn = o.fetch ?? globalThis.fetch;
    this.random = o.random ?? Math.random;
  }

  /** Read at call time so a rotated key is picked up; never stored on the instance or printed. */
  private apiKey(): string | undefined {
    const k = process.env[this.apiKeyEnv];
    return k ? k : undefined;
  }

  /** POST a JSON body; the parsed JSON reply, or a typed error after retries. */
  async post<T = unknown>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return this.request<T>('POST', path, body, signal);
  }

  async get<T = unknown>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, undefined, signal);
  }

  private async request<T>(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const where = `${method} ${this.baseURL}${path}`;
    for (let attempt = 0; ; attempt++) {
      let wait: number | undefined;
      try {
        // The slot is held per attempt, not across backoff, so a waiting retry does not block others.
        return await this.sem.run(() => this.once<T>(method, path, body, where, signal));
      } catch (e) {
        const retryable = (e instanceof APIError || e instanceof APIConnectionError) && e.retryable;
        if (!retryable || attempt >= this.retry.maxRetries || signal?.aborted) throw e;
        wait = (e instanceof APIError ? e.retryAfterMs : undefined) ?? backoffMs(attempt, this.retry, this.random);
      }
      await sleep(wait, signal);
    }
  }

  private async once<T>(method: string, path: string, body: unknown, where: string, signal?: AbortSignal): Promise<T> {
    const key = this.apiKey();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (key) headers.authorization = `Bearer ${key}`;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(`${this.baseURL}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: combined,
      });
      text = await res.text();
    } catch (e) {
      if (signal?.aborted) throw signal.reason ?? e;
      if (timeout.aborted)
        throw new APITimeoutError(
          `${where}: no response within ${this.timeoutMs} ms (raise the timeout, or check the server is not overloaded)`,
        );
      const cause = e as Error & { cause?: { code?: string; message?: string } };
      const detail = redact(cause.cause?.code ?? cause.cause?.message ?? cause.message, key);
      throw new APIConnectionError(`${where}: connection failed (${detail}); is the server running at ${this.baseURL}?`, { cause: e });
    }
    if (!res.ok) {
      const safe = redact(text, key);
      let msg = safe.slice(0, 500);
      try {
        const j = JSON.parse(text) as { error?: { message?: string } | string; message?: string; detail?: string };
        const m = typeof j.error === 'string' ? j.error : (j.error?.message ?? j.message ?? j.detail);
        if (typeof m === 'string') msg = redact(m, key);
      } catch {
        /* not JSON: keep the raw text */
      }
      const err = new APIError(
        res.status,
        safe,
        isRetryableStatus(res.status),
        `${where}: ${res.status} ${msg}.${statusHint(res.status, this.apiKeyEnv)}`,
      );
      const ra = retryAfterMs(res.headers);
      if (ra !== undefined) err.retryAfterMs = ra;
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new APIError(
        res.status,
        redact(text.slice(0, 2000), key),
        false,
        `${where}: reply is not JSON: ${redact(text.slice(0, 200), key)}`,
      );
    }
  }
}
