// Errors of the HTTP stack, and THE one place that maps an error to a status code and OpenAI's
// error body: { "error": { "message", "type", "param", "code" } } (the shape OpenAI's API and vLLM
// answer with, so existing clients show the message).
import { CapabilityError } from '../backends/types.js';

export type ErrorType = 'invalid_request_error' | 'not_found_error' | 'rate_limit_error' | 'server_error' | 'service_unavailable';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ErrorType = status >= 500 ? 'server_error' : 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** An error thrown in the model worker, carried across the thread boundary by name and message. */
export interface WireError {
  name: string;
  message: string;
}

export function toWireError(e: unknown): WireError {
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message };
}

export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: { error: { message: string; type: ErrorType; param: string | null; code: string | null } };
}

/**
 * Status and body for any error. Bad input found by the engine (RangeError: a prompt longer than
 * the context, a bad option) or a capability the model lacks is the client's fault (400); anything
 * else is ours (500), with its message (no stack: the message is what the person can act on).
 */
export function errorReply(e: unknown): ErrorReply {
  let status = 500;
  let type: ErrorType = 'server_error';
  let param: string | null = null;
  let code: string | null = null;
  let headers: Record<string, string> = {};
  let message = e instanceof Error ? e.message : String(e);
  const name = e instanceof Error ? e.name : (e as Partial<WireError> | null)?.name;
  if (e instanceof HttpError) {
    ({ status, type, param, code, headers } = e);
  } else if (name === 'RangeError' || e instanceof CapabilityError || name === 'CapabilityError') {
    status = 400;
    type = 'invalid_request_error';
  } else if (typeof e === 'object' && e !== null && !(e instanceof Error) && typeof (e as WireError).message === 'string') {
    message = (e as WireError).message;
  }
  return { status, headers, body: { error: { message, type, param, code } } };
}
