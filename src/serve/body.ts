// Request bodies: read with a size limit, parse JSON, validate with a zod schema. Every failure is
// an HttpError whose message (and OpenAI `param`) names the field.
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { HttpError } from './errors.js';

/** 1 MiB: a judge prompt is a few KB; a bigger body is a mistake or an attack. */
export const DEFAULT_BODY_LIMIT = 1 << 20;

export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit)
    throw new HttpError(413, `request body is ${declared} bytes, over the limit of ${limit}`);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > limit) throw new HttpError(413, `request body is over the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  try {
    // fatal: a body that is not UTF-8 is refused, never read with U+FFFD in place of its bytes.
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new HttpError(
      400,
      'request body is not valid UTF-8 (JSON bodies must be UTF-8 encoded)',
      'invalid_request_error',
      null,
      'invalid_utf8',
    );
  }
}

/** "messages[0].role" from a zod path. */
export function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

export async function readJson<T>(req: IncomingMessage, schema: z.ZodType<T>, limit: number): Promise<T> {
  const ct = String(req.headers['content-type'] ?? '');
  if (ct && !ct.includes('json')) throw new HttpError(415, `content-type must be application/json, got "${ct}"`);
  const text = await readBody(req, limit);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `request body is not valid JSON (${(e as Error).message})`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    // An unknown key (strict schemas) is named by the key itself, under the object it sits in.
    const path = issue?.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : (issue?.path ?? []);
    const field = fieldName(path);
    throw new HttpError(
      400,
      `${field ? `"${field}": ` : ''}${issue?.message ?? 'invalid request'}`,
      'invalid_request_error',
      field || null,
    );
  }
  return r.data;
}
