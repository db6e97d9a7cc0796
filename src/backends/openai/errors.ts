// Typed errors of the OpenAI-compatible client, in the spirit of openai-node: an HTTP error
// carries its status, the response body and whether a retry could help; connection failures and
// timeouts have their own classes. No message ever contains the API key (see redact()).

import { GenrmError } from '../../util/errors.js';

export class APIError extends GenrmError {
  /** The server's Retry-After, in ms, when it sent a usable one. */
  retryAfterMs?: number;
  constructor(
    readonly status: number,
    /** The response body as text (redacted), for the person debugging. */
    readonly body: string,
    readonly retryable: boolean,
    message: string,
  ) {
    super(message, status >= 400 && status < 500 && status !== 408 && status !== 429 ? 'usage' : 'runtime');
    this.name = 'APIError';
  }
}

export class APIConnectionError extends GenrmError {
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'runtime', options);
    this.name = 'APIConnectionError';
  }
}

export class APITimeoutError extends APIConnectionError {
  constructor(message: string) {
    super(message);
    this.name = 'APITimeoutError';
  }
}

/** 408 timeout, 409 conflict (lock contention), 429 rate limit and 5xx are worth retrying. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** What to do about common statuses, named by the env var, never by the key's value. */
export function statusHint(status: number, apiKeyEnv: string): string {
  if (status === 401 || status === 403) return ` Check the API key in $${apiKeyEnv}.`;
  if (status === 404) return ' Check the base URL (it usually ends in /v1) and the model name.';
  if (status === 429) return ' Rate limited: lower the concurrency or retry later.';
  return '';
}

/** Replace every occurrence of the secret with "***" (servers sometimes echo request headers). */
export function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('***') : text;
}
