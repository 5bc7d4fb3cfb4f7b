import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { runClient, U2fClient } from '../src/client/client.js';
import { DeviceError } from '../src/errors.js';
import { ExchangeFailure } from '../src/exchange.js';
import { createU2fHandler } from '../src/server/app.js';
import { ServerStore } from '../src/server/store.js';
import { Fixtures } from './server-fixtures.js';

const fx = new Fixtures();
const stubs: Server[] = [];

afterEach(async () => {
  for (const stub of stubs.splice(0)) {
    stub.closeAllConnections();
    await new Promise((resolve) => stub.close(resolve));
  }
  await fx.cleanup();
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A loopback HTTP server answering with `handler`; returns its base URL. */
async function stub(handler: Handler): Promise<string> {
  const server = createServer(handler);
  stubs.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Our server's handler on an in-memory store, with some paths answered by `override`. */
async function realServerExcept(override: Record<string, Handler>): Promise<string> {
  const store = new ServerStore(':memory:');
  let real: Handler = () => undefined;
  const url = await stub((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    (override[path] ?? real)(req, res);
  });
  stubs.at(-1)!.on('close', () => store.close());
  const handler = createU2fHandler({ appId: url, facets: [url], store });
  real = (req, res) => void handler(req, res);
  return url;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the client to fail');
}

describe('keybench client', () => {
  it('reports a non-2xx answer with the step and the server error code', async () => {
    const server = await fx.server({ appId: 'https://bench.example' });
    const key = await fx.key();

    const error = await failure(
      runClient({ server: server.url, device: key.device, origin: 'https://evil.example' }),
    );

    expect(error).toBeInstanceOf(ExchangeFailure);
    expect(error).toMatchObject({ step: 'bind', code: 'ORIGIN_NOT_ALLOWED' });
    expect((error as Error).message).toContain('POST /bind: HTTP 400 ORIGIN_NOT_ALLOWED');
  });

  it('reports a text answer (the python example sends tracebacks) as HTTP_<status>', async () => {
    const url = await stub((_req, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('Traceback (most recent call last):\n  File "u2f_server.py"\nValueError: boom');
    });
    const key = await fx.key();

    const error = await failure(runClient({ server: url, device: key.device }));

    expect(error).toMatchObject({ step: 'enroll', code: 'HTTP_400' });
    expect((error as Error).message).toContain('ValueError: boom');
  });

  it('reports malformed JSON in a 2xx answer with the step', async () => {
    const url = await stub((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"appId": "http://x", "registerRequests": [');
    });
    const key = await fx.key();

    const error = await failure(runClient({ server: url, device: key.device }));

    expect(error).toMatchObject({ step: 'enroll', code: 'BAD_SERVER_JSON' });
  });

  it('reports a verify answer without counter as BAD_SERVER_JSON at verify', async () => {
    const url = await realServerExcept({
      '/verify': (req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"keyHandle": "x"}');
      },
    });
    const key = await fx.key();

    const error = await failure(runClient({ server: url, device: key.device }));

    expect(error).toMatchObject({ step: 'verify', code: 'BAD_SERVER_JSON' });
  });

  it('reports an unreachable server as a DeviceError naming the step', async () => {
    const url = await stub(() => undefined);
    const closed = stubs.pop()!;
    await new Promise((resolve) => closed.close(resolve));
    const key = await fx.key();

    const error = await failure(runClient({ server: url, device: key.device }));

    expect(error).toBeInstanceOf(DeviceError);
    expect((error as Error).message).toMatch(
      /^enroll: server http:\/\/127\.0\.0\.1:\d+ unreachable/,
    );
  });

  it('gives up on a silent server after the HTTP deadline', async () => {
    const url = await stub(() => undefined);
    const key = await fx.key();

    const error = await failure(runClient({ server: url, device: key.device, httpTimeoutMs: 200 }));

    expect(error).toBeInstanceOf(DeviceError);
    expect((error as Error).message).toContain('no answer within 200 ms');
  });

  it('asks the key about each offered key handle, as a browser does', async () => {
    const server = await fx.server();
    const first = await fx.key();
    const second = await fx.key();
    await new U2fClient({ server: server.url, device: first.device, username: 'dora' }).register();
    const secondHandle = await new U2fClient({
      server: server.url,
      device: second.device,
      username: 'dora',
    }).register();

    const fresh = new U2fClient({ server: server.url, device: second.device, username: 'dora' });
    const verified = await fresh.authenticate();

    expect(verified.keyHandle).toBe(secondHandle);
    expect(fresh.steps.find((s) => s.step === 'sign')!.detail).toContain('2 key(s) offered');
  });

  it('fails with DEVICE_INELIGIBLE when the key holds none of the offered handles', async () => {
    const server = await fx.server();
    const owner = await fx.key();
    const stranger = await fx.key();
    await new U2fClient({ server: server.url, device: owner.device, username: 'erin' }).register();

    const error = await failure(
      new U2fClient({
        server: server.url,
        device: stranger.device,
        username: 'erin',
      }).authenticate(),
    );

    expect(error).toMatchObject({ step: 'authenticate', code: 'DEVICE_INELIGIBLE' });
  });

  it('refuses a server that is not an http(s) URL', () => {
    expect(() => new U2fClient({ server: 'ftp://x', device: undefined as never })).toThrow(
      TypeError,
    );
    expect(() => new U2fClient({ server: 'nope', device: undefined as never })).toThrow(TypeError);
  });
});
