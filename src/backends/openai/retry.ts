// When to retry and how long to wait. Exponential backoff with full jitter (AWS architecture
// blog, "Exponential Backoff And Jitter"): wait uniform(0, min(maxDelay, base * 2^attempt)), so
// many clients hitting one rate limit spread out instead of retrying in lockstep. A server's
// Retry-After (seconds, or an HTTP date; or the non-standard retry-after-ms) wins when present
// and sane (0..60 s, as openai-node also bounds it).

export interface RetryPolicy {
  /** Retries after the first attempt. 2: as openai-node; enough for a blip, quick to fail when down. */
  maxRetries: number;
  /** First backoff ceiling in ms. 500 ms. */
  baseDelayMs: number;
  /** Backoff ceiling in ms. 8 s. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 2, baseDelayMs: 500, maxDelayMs: 8000 };

/** Parse Retry-After / retry-after-ms into milliseconds; undefined when absent, malformed or out of range. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) {
    const v = Number(ms);
    if (v >= 0 && v <= 60_000) return v;
  }
  const ra = headers.get('retry-after');
  if (ra === null) return undefined;
  let v: number;
  if (/^\d+(\.\d+)?$/.test(ra.trim())) v = Number(ra) * 1000;
  else {
    const t = Date.parse(ra);
    if (Number.isNaN(t)) return undefined;
    v = Math.max(0, t - now);
  }
  return v >= 0 && v <= 60_000 ? v : undefined;
}

export function backoffMs(attempt: number, p: RetryPolicy, random: () => number = Math.random): number {
  return random() * Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** attempt);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
