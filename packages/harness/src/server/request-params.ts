import type { IncomingMessage } from 'node:http';

import { HttpError, SERVER_ERROR } from './http-error.js';

/** Largest request body accepted; a RegisterResponse with a big certificate is ~3 KiB. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** The parameters of one request: the query merged with the form or JSON body. */
export interface RequestParams {
  /** The `username` parameter (default "user"). */
  username: string;
  /** The `data` parameter: JSON text, or undefined when absent. */
  data: string | undefined;
}

const USERNAME_MAX = 64;

/**
 * Reads the whole body, up to `limit` bytes. Throws HttpError 413 as soon as the declared
 * or received length passes the limit (the rest is not buffered).
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit, `${declared} declared`);

  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw tooLarge(limit, `more than ${limit} sent`);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof HttpError) throw error;
    const message = `request body: the client stopped after ${size} bytes`;
    throw new HttpError(400, SERVER_ERROR.BAD_BODY, message);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number, actual: string): HttpError {
  return new HttpError(
    413,
    SERVER_ERROR.BODY_TOO_LARGE,
    `request body: expected at most ${limit} bytes, got ${actual}`,
  );
}

/** `data` from a JSON body: a string is JSON text already; an object is serialised. */
function jsonData(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The body's parameters. `application/x-www-form-urlencoded` (what `curl -d` sends, and the
 * default when no type is given) or `application/json`: either `{"data": …, "username": …}`
 * or the U2F response object itself. Throws HttpError 415 for other types, 400 for a body
 * that does not parse.
 */
function bodyParams(req: IncomingMessage, body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  if (body.length === 0) return out;

  const type = (req.headers['content-type'] ?? 'application/x-www-form-urlencoded')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
      if (!out.has(name)) out.set(name, value);
    }
    return out;
  }
  if (type !== 'application/json') {
    throw new HttpError(
      415,
      SERVER_ERROR.UNSUPPORTED_MEDIA_TYPE,
      'request body: expected application/x-www-form-urlencoded or application/json, ' +
        `got ${type.slice(0, 80)}`,
    );
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    const message = 'request body: expected JSON text, got unparseable text';
    throw new HttpError(400, SERVER_ERROR.BAD_BODY, message);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HttpError(400, SERVER_ERROR.BAD_BODY, 'request body: expected a JSON object');
  }
  const record = parsed as Record<string, unknown>;
  const isResponse = 'registrationData' in record || 'signatureData' in record;
  const data = isResponse ? JSON.stringify(record) : jsonData(record['data']);
  if (data !== undefined) out.set('data', data);
  if (typeof record['username'] === 'string') out.set('username', record['username']);
  else if (record['username'] !== undefined) {
    throw new HttpError(400, SERVER_ERROR.BAD_USERNAME, 'username: expected a string');
  }
  return out;
}

/** Refuses user names that are empty, too long or hold control characters. */
function checkUsername(username: string): string {
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u001f\u007f]/.test(username);
  if (username.length === 0 || username.length > USERNAME_MAX || control) {
    throw new HttpError(
      400,
      SERVER_ERROR.BAD_USERNAME,
      `username: expected 1 to ${USERNAME_MAX} printable characters, got ` +
        JSON.stringify(username.slice(0, USERNAME_MAX + 1)),
    );
  }
  return username;
}

/**
 * The username and data of a request, body parameters before query parameters (as the
 * python example's `request.params` reads both). Throws HttpError (400, 413, 415).
 */
export async function readParams(
  req: IncomingMessage,
  url: URL,
  limit: number,
): Promise<RequestParams> {
  const bodyless = req.method === 'GET' || req.method === 'HEAD';
  const body = bodyless ? Buffer.alloc(0) : await readBody(req, limit);
  const fromBody = bodyParams(req, body);
  const pick = (name: string) => fromBody.get(name) ?? url.searchParams.get(name) ?? undefined;
  return { username: checkUsername(pick('username') ?? 'user'), data: pick('data') };
}
