import { connect } from 'node:net';
import { Readable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createU2fHandler, type RequestLogEntry } from '../src/server/app.js';
import { ServerStore } from '../src/server/store.js';
import { Fixtures, form, raw, registerResponse, signResponse } from './server-fixtures.js';

// Hostile HTTP against `keybench serve`: every answer to client input is a 4xx JSON body (or
// the 200 of a GET that needs no input), never a 500, and what is stored stays as it was.

const fx = new Fixtures();
afterAll(() => fx.cleanup());

/** One request/response pair through the in-process handler, no sockets. */
interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

function fakeRequest(
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Uint8Array,
) {
  const req = Readable.from(
    body.length > 0 ? [Buffer.from(body)] : [],
  ) as unknown as IncomingMessage;
  Object.assign(req, { method, url, headers });
  return req;
}

function fakeResponse(done: (answer: Answer) => void): ServerResponse {
  let status = 0;
  let headers: Record<string, unknown> = {};
  const res = {
    headersSent: false,
    writeHead(code: number, given: Record<string, unknown>) {
      status = code;
      headers = given;
      res.headersSent = true;
      return res;
    },
    end(bytes?: Buffer) {
      done({ status, headers, body: bytes ? bytes.toString('utf8') : '' });
    },
    destroy() {
      done({ status: -1, headers, body: 'destroyed' });
    },
  };
  return res as unknown as ServerResponse;
}

const APP_ID = 'http://localhost:8081';
let store: ServerStore;
let handle: ReturnType<typeof createU2fHandler>;
const logs: RequestLogEntry[] = [];
let valid: { register: Record<string, unknown>; sign: Record<string, unknown> };
let snapshot: string;

function send(method: string, url: string, headers: Record<string, string>, body: Uint8Array) {
  return new Promise<Answer>((resolve) => {
    void handle(fakeRequest(method, url, headers, body), fakeResponse(resolve));
  });
}

const stored = () =>
  JSON.stringify(store.db.prepare('SELECT * FROM registrations ORDER BY id').all());

beforeAll(async () => {
  store = new ServerStore(':memory:');
  handle = createU2fHandler({
    appId: APP_ID,
    facets: [APP_ID],
    store,
    log: (entry) => logs.push(entry),
  });

  // A registered user with a counter, and a real register and sign response to mutate.
  const key = await fx.key();
  const json = async (answer: Promise<Answer>) => JSON.parse((await answer).body);
  const enrollRequest = await json(send('GET', '/enroll?username=alice', {}, new Uint8Array()));
  const { response: register, keyHandle } = await registerResponse(key, enrollRequest);
  const formType = { 'content-type': 'application/x-www-form-urlencoded' };
  const bound = await send('POST', '/bind', formType, Buffer.from(form(register, 'alice')));
  expect(bound.status, bound.body).toBe(200);
  const signRequest = await json(send('GET', '/sign?username=alice', {}, new Uint8Array()));
  const sign = await signResponse(key, signRequest, keyHandle);
  const verified = await send('POST', '/verify', formType, Buffer.from(form(sign, 'alice')));
  expect(verified.status, verified.body).toBe(200);
  valid = { register, sign };
  snapshot = stored();
});

afterAll(() => store.close());

function expectClientError(answer: Answer, what: string): void {
  expect(answer.status, `${what}: ${answer.body}`).toBeGreaterThanOrEqual(400);
  expect(answer.status, `${what}: ${answer.body}`).toBeLessThan(500);
  expect(answer.headers['content-type'], what).toBe('application/json');
  const parsed = JSON.parse(answer.body) as Record<string, unknown>;
  expect(typeof parsed.error, what).toBe('string');
  expect(typeof parsed.message, what).toBe('string');
  expect(answer.body, what).not.toMatch(/\n\s+at /);
}

/** A JSON value of any type, for a field that should hold something else. */
const wrongValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.integer(),
  fc.string(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string(), { maxKeys: 3 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** A real response with one field (or a new one) replaced by a value of another type. */
const mutatedResponse = fc
  .tuple(fc.constantFrom('register', 'sign'), fc.string({ maxLength: 20 }), wrongValue)
  .chain(([kind, extra, value]) => {
    const base = valid[kind as 'register' | 'sign'];
    return fc
      .constantFrom(...Object.keys(base), extra)
      .map((field) => ({ kind, data: { ...base, [field]: value } }));
  });

const paths = fc.oneof(
  fc.constantFrom(
    '/',
    '/enroll',
    '/bind',
    '/sign',
    '/verify',
    '/bind/',
    '//bind',
    '/../bind',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/..%2f..%2fetc%2fpasswd',
    '/verify%00',
    '/%zz',
    '/bind?%zz',
    '/sign?username=%ff%fe',
    '/enroll?username=a&username=b',
  ),
  fc.string({ maxLength: 30 }).map((s) => `/${s}`),
);

const bodies = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
  mutatedResponse.map(({ data }) => Buffer.from(form(data, 'alice'))),
  mutatedResponse.map(({ data }) => Buffer.from(JSON.stringify(data))),
  mutatedResponse.map(({ data }) => Buffer.from(JSON.stringify({ data, username: 'alice' }))),
  fc.constant(Buffer.from('data=%zz%&username=%E0%A4%A')),
  fc.constant(Buffer.from([0x64, 0x61, 0x74, 0x61, 0x3d, 0xff, 0xfe, 0x7b])),
);

describe('keybench serve, in process: random hostile requests', () => {
  it('answer 4xx JSON or a plain GET 200, never a 500, and lose nothing stored', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'P\u00d6ST'),
        paths,
        fc.constantFrom(
          undefined,
          'application/x-www-form-urlencoded',
          'application/json',
          'text/plain',
          'application/json; charset=latin1',
          'multipart/form-data',
          '\u0000',
        ),
        bodies,
        async (method, path, type, body) => {
          const headers: Record<string, string> =
            type === undefined ? {} : { 'content-type': type };
          const answer = await send(method, path, headers, body);
          const what = `${method} ${path} ${type} ${Buffer.from(body).toString('hex').slice(0, 80)}`;
          expect(answer.status, what).not.toBe(-1);
          if (answer.status === 200) {
            expect(['GET', 'HEAD', 'POST'], what).toContain(method);
            expect(['/', '/enroll', '/sign'], what).toContain(
              new URL(path, 'http://x').pathname.replace(/\/+$/, '') || '/',
            );
          } else {
            if (method !== 'HEAD') expectClientError(answer, what);
            else expect(answer.status).toBeLessThan(500);
          }
        },
      ),
      { numRuns: 400, seed: 20261204 },
    );

    expect(logs.filter((entry) => entry.status >= 500)).toEqual([]);
    expect(stored()).toBe(snapshot);
  }, 30_000);

  it('wrong types at every field of a real response: 400 naming the error, nothing stored', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedResponse, async ({ kind, data }) => {
        const path = kind === 'register' ? '/bind' : '/verify';
        const type = { 'content-type': 'application/x-www-form-urlencoded' };
        const answer = await send('POST', path, type, Buffer.from(form(data, 'alice')));
        expectClientError(answer, `${path} ${JSON.stringify(data).slice(0, 120)}`);
      }),
      { numRuns: 300, seed: 7 },
    );
    expect(stored()).toBe(snapshot);
  }, 30_000);

  it('a 10 KB username is refused, in the query, a form and JSON', async () => {
    const long = 'u'.repeat(10 * 1024);
    const answers = [
      await send('GET', `/enroll?username=${long}`, {}, new Uint8Array()),
      await send('POST', '/enroll', {}, Buffer.from(`username=${long}`)),
      await send(
        'POST',
        '/enroll',
        { 'content-type': 'application/json' },
        Buffer.from(JSON.stringify({ username: long })),
      ),
    ];
    for (const answer of answers) {
      expectClientError(answer, 'long username');
      expect(JSON.parse(answer.body).error).toBe('BAD_USERNAME');
      expect(answer.body.length).toBeLessThan(400);
    }
  });

  it('duplicate form fields: the first one counts', async () => {
    const answer = await send('POST', '/enroll', {}, Buffer.from('username=bob&username=eve'));
    expect(answer.status).toBe(200);
    expect(logs.at(-1)?.user).toBe('bob');
  });

  it('path traversal finds no file: 404 JSON', async () => {
    for (const path of [
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/..%2f..%2fetc%2fpasswd',
      '/static/../../../etc/passwd',
      '/bind/../../etc/passwd',
    ]) {
      const answer = await send('GET', path, {}, new Uint8Array());
      expectClientError(answer, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body).not.toContain('root:');
    }
  });
});

/** Speaks raw HTTP/1.1 over a socket and gives back all the server sent until it hung up. */
function rawExchange(
  port: number,
  chunks: Array<string | Buffer>,
  options: { pauseMs?: number; limitMs?: number } = {},
) {
  return new Promise<{ text: string; closedAfterMs: number }>((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const limit = setTimeout(() => {
      socket.destroy();
      reject(new Error(`server kept the connection open for ${options.limitMs} ms: ${text}`));
    }, options.limitMs ?? 5000);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(limit);
      resolve({ text, closedAfterMs: Date.now() - started });
    });
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
      }
    });
  });
}

describe('keybench serve over a socket: hostile connections', () => {
  let port: number;
  beforeAll(async () => {
    const server = await fx.server({ requestTimeoutMs: 600, headersTimeoutMs: 400 });
    port = server.port;
  });

  const jsonAnswer = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));

  it('a body that never completes is cut off by the request timeout with a 408 JSON', async () => {
    const { text, closedAfterMs } = await rawExchange(port, [
      'POST /bind HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
        'Content-Length: 1000\r\n\r\ndata=',
    ]);
    expect(closedAfterMs).toBeLessThan(4000);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(jsonAnswer(text)).toMatchObject({ error: 'REQUEST_TIMEOUT' });
  });

  it('headers sent a byte at a time are cut off by the headers timeout', async () => {
    const request = 'GET /enroll HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(200);
    const { text, closedAfterMs } = await rawExchange(port, [...request], { pauseMs: 20 });
    expect(closedAfterMs).toBeLessThan(4000);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('huge headers: 431 JSON', async () => {
    const { text } = await rawExchange(port, [
      `GET /enroll HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`,
    ]);
    expect(text).toMatch(/^HTTP\/1\.1 431 /);
    expect(jsonAnswer(text)).toMatchObject({ error: 'HEADERS_TOO_LARGE' });
  });

  it('a request line that is not HTTP: 400 JSON', async () => {
    const { text } = await rawExchange(port, ['HELLO THERE\r\n\r\n']);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(jsonAnswer(text)).toMatchObject({ error: 'BAD_REQUEST' });
  });

  it('a request target outside the root: 404 JSON, no file', async () => {
    const { text } = await rawExchange(port, [
      'GET ../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    ]);
    expect(text).toMatch(/^HTTP\/1\.1 (400|404) /);
    expect(text).not.toContain('root:');
  });

  it('invalid UTF-8 and percent-encoding in query and body: 4xx JSON', async () => {
    const server = `http://127.0.0.1:${port}`;
    for (const [path, body] of [
      ['/bind?username=%ff', 'data=%7b%ff%fe'],
      ['/verify', 'data=%zz'],
      ['/enroll?username=%E0%A4%A', undefined],
    ] as const) {
      const answer = await raw(`${server}${path}`, body === undefined ? {} : { body });
      expect(answer.status, `${path}: ${answer.text}`).toBeLessThan(500);
      if (answer.status >= 400) expect(answer.json).toMatchObject({ error: expect.any(String) });
    }
  });
});
