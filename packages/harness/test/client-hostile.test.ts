import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { runClient } from '../src/client/client.js';
import { DeviceError } from '../src/errors.js';
import { ExchangeFailure } from '../src/exchange.js';
import { createU2fHandler } from '../src/server/app.js';
import { ServerStore } from '../src/server/store.js';
import { Fixtures } from './server-fixtures.js';

// `keybench client` against a hostile server: every wrong answer is an ExchangeFailure (or,
// for a server that cannot be talked to, a DeviceError) naming the step; never a TypeError,
// never a hang, never a followed redirect.

const fx = new Fixtures();
const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
afterAll(() => fx.cleanup());

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(handler: Handler): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the client to fail');
}

let key: Awaited<ReturnType<Fixtures['key']>>;
beforeAll(async () => {
  key = await fx.key();
});

const STEPS = ['enroll', 'bind', 'sign', 'verify'] as const;

/** Our real server, except that `step`'s path answers `answer`. */
async function realServerBut(step: (typeof STEPS)[number], answer: Handler): Promise<string> {
  const store = new ServerStore(':memory:');
  let real: Handler = () => undefined;
  const url = await serve((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    (path === `/${step}` ? answer : real)(req, res);
  });
  servers.at(-1)!.on('close', () => store.close());
  const handler = createU2fHandler({ appId: url, facets: [url], store });
  real = (req, res) => void handler(req, res);
  return url;
}

const json =
  (value: unknown): Handler =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };

describe('keybench client against a hostile server', () => {
  it('any JSON shape at any step: a failure naming that step', async () => {
    const shapes = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          appId: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
          challenge: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
          registerRequests: fc.oneof(fc.array(fc.jsonValue(), { maxLength: 2 }), fc.string()),
          registeredKeys: fc.oneof(fc.array(fc.jsonValue(), { maxLength: 2 }), fc.integer()),
          keyHandle: fc.oneof(fc.string(), fc.integer()),
          counter: fc.oneof(fc.string(), fc.double(), fc.constant(-1)),
          touch: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...STEPS), shapes, async (step, shape) => {
        const url = await realServerBut(step, json(shape));
        let error: Error | undefined;
        try {
          await runClient({ server: url, device: key.device, httpTimeoutMs: 2000 });
        } catch (caught) {
          error = caught as Error;
        } finally {
          const server = servers.pop()!;
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
        }
        // A shape that happens to be a valid answer may pass (verify: any counter object).
        if (error === undefined) return;
        expect(error, `${step} ${JSON.stringify(shape)}: ${error.stack}`).toBeInstanceOf(
          ExchangeFailure,
        );
        expect((error as ExchangeFailure).step).toBe(step);
      }),
      { numRuns: 60, seed: 4242 },
    );
  }, 30_000);

  it('a 500 with an HTML page: HTTP_500 at that step, the page quoted briefly', async () => {
    const url = await realServerBut('bind', (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end(`<html><body><h1>Internal Server Error</h1>${'x'.repeat(5000)}</body></html>`);
    });

    const error = await failure(runClient({ server: url, device: key.device }));

    expect(error).toBeInstanceOf(ExchangeFailure);
    expect(error).toMatchObject({ step: 'bind', code: 'HTTP_500' });
    expect(error.message.length).toBeLessThan(400);
  });

  it('HTML with status 200 instead of JSON: BAD_SERVER_JSON at that step', async () => {
    const url = await realServerBut('sign', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>Sign in</title>');
    });

    const error = await failure(runClient({ server: url, device: key.device }));

    expect(error).toMatchObject({ step: 'sign', code: 'BAD_SERVER_JSON' });
  });

  it('a response that never ends: given up after the HTTP deadline, naming the step', async () => {
    const url = await realServerBut('enroll', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"appId": "');
      const timer = setInterval(() => res.write('aaaa'), 20);
      res.on('close', () => clearInterval(timer));
    });

    const started = Date.now();
    const error = await failure(runClient({ server: url, device: key.device, httpTimeoutMs: 300 }));

    expect(Date.now() - started).toBeLessThan(3000);
    expect(error).toBeInstanceOf(DeviceError);
    expect(error.message).toMatch(/^enroll: .*no answer within 300 ms/);
  });

  it('an endless answer is cut off at the size limit, naming the step', async () => {
    const chunk = 'a'.repeat(64 * 1024);
    const url = await realServerBut('enroll', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const pump = () => {
        while (res.write(chunk)) if (res.destroyed) return;
      };
      res.on('drain', pump);
      pump();
    });

    const error = await failure(
      runClient({ server: url, device: key.device, httpTimeoutMs: 10_000 }),
    );

    expect(error).toMatchObject({ step: 'enroll', code: 'SERVER_ANSWER_TOO_LARGE' });
  });

  it('a redirect is not followed: the step fails naming where it pointed', async () => {
    let followed = false;
    const elsewhere = await serve((_req, res) => {
      followed = true;
      json(true)(_req, res);
    });
    const url = await realServerBut('bind', (_req, res) => {
      res.writeHead(307, { location: `${elsewhere}/bind` });
      res.end();
    });

    const error = await failure(runClient({ server: url, device: key.device }));

    expect(error).toMatchObject({ step: 'bind', code: 'HTTP_307' });
    expect(error.message).toContain(`redirect to ${elsewhere}/bind, not followed`);
    expect(followed).toBe(false);
  });
});
