import { afterEach, describe, expect, it } from 'vitest';

import { runClient, U2fClient } from '../src/client/client.js';
import {
  Fixtures,
  form,
  raw,
  registerResponse,
  signResponse,
  type RawAnswer,
} from './server-fixtures.js';

const fx = new Fixtures();
afterEach(() => fx.cleanup());

/** A client error: a 4xx JSON body `{error, message}`, never a stack trace. */
function expectRejected(answer: RawAnswer, status: number, code: string): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers.get('content-type')).toBe('application/json');
  expect(answer.json).toEqual({ error: code, message: expect.any(String) });
  expect(answer.text).not.toMatch(/\n\s+at /);
}

/** A registered key for `username` on `server`, made the curl way. */
async function enrolled(url: string, username = 'user') {
  const key = await fx.key();
  const request = (await raw(`${url}/enroll?username=${username}`)).json as {
    appId: string;
    registerRequests: { challenge: string }[];
  };
  const { response, keyHandle } = await registerResponse(key, request);
  const bound = await raw(`${url}/bind`, { body: form(response, username) });
  expect(bound.status, bound.text).toBe(200);
  return { key, keyHandle };
}

async function signRequest(url: string, username = 'user') {
  const answer = await raw(`${url}/sign?username=${username}`);
  expect(answer.status, answer.text).toBe(200);
  return answer.json as {
    appId: string;
    challenge: string;
    registeredKeys: { keyHandle: string }[];
  };
}

describe('keybench serve: the flow', () => {
  it('registers and authenticates a virtual key driven by the client', async () => {
    const server = await fx.server();
    const key = await fx.key();

    const result = await runClient({ server: server.url, device: key.device, username: 'alice' });

    expect(result.appId).toBe(`http://localhost:${server.port}`);
    expect(result.verified).toEqual({
      keyHandle: result.registeredKeyHandle,
      touch: 1,
      counter: 1,
    });
    expect(result.steps.map((s) => s.step)).toEqual([
      'enroll',
      'register',
      'bind',
      'sign',
      'authenticate',
      'verify',
    ]);
    const stored = server.store.keysOf('alice', server.appId);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.registration.keyHandle).toBe(result.registeredKeyHandle);
    expect(stored[0]!.registration.counter).toBe(1);
    expect(fx.logs.map((l) => `${l.method} ${l.path} ${l.user} ${l.status} ${l.outcome}`)).toEqual([
      'GET /enroll alice 200 ok',
      'POST /bind alice 200 ok',
      'GET /sign alice 200 ok',
      'POST /verify alice 200 ok',
    ]);
  });

  it('answers curl-shaped requests: GET /enroll, form data= to /bind, /sign, /verify', async () => {
    const server = await fx.server();
    const key = await fx.key();

    const enroll = await raw(`${server.url}/enroll`);
    expect(enroll.status).toBe(200);
    expect(enroll.headers.get('content-type')).toBe('application/json');
    const request = enroll.json as {
      appId: string;
      registerRequests: { version: string; challenge: string }[];
    };
    expect(request).toEqual({
      appId: `http://localhost:${server.port}`,
      registerRequests: [{ version: 'U2F_V2', challenge: expect.stringMatching(/^[\w-]{43}$/) }],
      registeredKeys: [],
    });

    const { response, keyHandle } = await registerResponse(key, request);
    const bind = await raw(`${server.url}/bind`, { body: form(response) });
    expect(bind.status, bind.text).toBe(200);
    expect(bind.json).toBe(true);

    const again = (await raw(`${server.url}/enroll`)).json as { registeredKeys: unknown[] };
    expect(again.registeredKeys).toEqual([{ version: 'U2F_V2', keyHandle, appId: server.appId }]);

    const sign = await signRequest(server.url);
    expect(sign).toEqual({
      appId: server.appId,
      challenge: expect.stringMatching(/^[\w-]{43}$/),
      registeredKeys: [{ version: 'U2F_V2', keyHandle, appId: server.appId }],
    });
    const verify = await raw(`${server.url}/verify`, {
      body: form(await signResponse(key, sign, keyHandle)),
    });
    expect(verify.status, verify.text).toBe(200);
    expect(verify.json).toEqual({ keyHandle, touch: 1, counter: 1 });
  });

  it('accepts JSON bodies: {"data": …, "username": …} and the bare response', async () => {
    const server = await fx.server();
    const key = await fx.key();
    const request = (await raw(`${server.url}/enroll?username=bob`)).json as {
      appId: string;
      registerRequests: { challenge: string }[];
    };
    const { response, keyHandle } = await registerResponse(key, request);

    const bind = await raw(`${server.url}/bind`, {
      body: JSON.stringify({ username: 'bob', data: response }),
      type: 'application/json; charset=utf-8',
    });
    expect(bind.status, bind.text).toBe(200);

    const sign = await signRequest(server.url, 'bob');
    const verify = await raw(`${server.url}/verify?username=bob`, {
      body: JSON.stringify(await signResponse(key, sign, keyHandle)),
      type: 'application/json',
    });
    expect(verify.status, verify.text).toBe(200);
    expect(verify.json).toEqual({ keyHandle, touch: 1, counter: 1 });

    const sign2 = await signRequest(server.url, 'bob');
    const verify2 = await raw(`${server.url}/verify`, {
      body: JSON.stringify({
        username: 'bob',
        data: JSON.stringify(await signResponse(key, sign2, keyHandle)),
      }),
      type: 'application/json',
    });
    expect(verify2.json).toEqual({ keyHandle, touch: 1, counter: 2 });
  });

  it('keeps users apart: a key of one user is unknown to another', async () => {
    const server = await fx.server();
    const { key, keyHandle } = await enrolled(server.url, 'alice');
    await enrolled(server.url, 'bob');

    const sign = await signRequest(server.url, 'bob');
    const answer = await raw(`${server.url}/verify`, {
      body: form(await signResponse(key, sign, keyHandle), 'bob'),
    });

    expectRejected(answer, 400, 'UNKNOWN_KEY_HANDLE');
    expect(server.store.keysOf('alice', server.appId)[0]!.registration.counter).toBeUndefined();
  });

  it('accepts a client on 127.0.0.1 as well as localhost by default', async () => {
    const server = await fx.server();
    const key = await fx.key();

    const result = await runClient({
      server: server.url,
      device: key.device,
      origin: `http://127.0.0.1:${server.port}`,
    });

    expect(result.verified.counter).toBe(1);
    expect(server.facets).toEqual([
      `http://localhost:${server.port}`,
      `http://127.0.0.1:${server.port}`,
    ]);
  });

  it('uses --app-id and --facet when given, and refuses other origins', async () => {
    const server = await fx.server({
      appId: 'https://bench.example/app',
      facets: ['https://login.bench.example'],
    });
    const key = await fx.key();

    const ok = await runClient({
      server: server.url,
      device: key.device,
      origin: 'https://login.bench.example',
    });
    expect(ok.appId).toBe('https://bench.example/app');
    expect(server.facets).toEqual(['https://bench.example', 'https://login.bench.example']);

    await expect(
      runClient({
        server: server.url,
        device: key.device,
        origin: `http://localhost:${server.port}`,
      }),
    ).rejects.toMatchObject({ step: 'bind', code: 'ORIGIN_NOT_ALLOWED' });
  });
});

describe('keybench serve: the page at /', () => {
  it('lists the user keys and last counters, escaping what the client sent', async () => {
    const server = await fx.server();
    const username = '<script>alert("x")</script>&';
    const key = await fx.key();
    const result = await runClient({ server: server.url, device: key.device, username });

    const page = await raw(`${server.url}/?username=${encodeURIComponent(username)}`);

    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.text).not.toContain('<script>');
    expect(page.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;');
    expect(page.text).toContain(result.registeredKeyHandle.slice(0, 24));
    expect(page.text).toMatch(/<td>1<\/td><td><code>[\w-]{24}…<\/code><\/td><td>1<\/td>/);

    const empty = await raw(`${server.url}/?username=nobody`);
    expect(empty.text).toContain('No keys registered for this user yet.');
  });
});

describe('keybench serve: bad input gets a 4xx with {error, message}', () => {
  it('unknown path: 404', async () => {
    const server = await fx.server();
    expectRejected(await raw(`${server.url}/nothing-here`), 404, 'NOT_FOUND');
    expectRejected(await raw(`${server.url}/enroll/extra`), 404, 'NOT_FOUND');
  });

  it('wrong method: 405 with Allow', async () => {
    const server = await fx.server();
    const answer = await raw(`${server.url}/bind`);
    expectRejected(answer, 405, 'METHOD_NOT_ALLOWED');
    expect(answer.headers.get('allow')).toBe('POST');
    expectRejected(
      await raw(`${server.url}/enroll`, { method: 'DELETE' }),
      405,
      'METHOD_NOT_ALLOWED',
    );
  });

  it('missing data: 400 MISSING_DATA', async () => {
    const server = await fx.server();
    await raw(`${server.url}/enroll`);
    expectRejected(await raw(`${server.url}/bind`, { body: 'username=user' }), 400, 'MISSING_DATA');
    expectRejected(await raw(`${server.url}/verify`, { method: 'POST' }), 400, 'MISSING_DATA');
  });

  it('malformed data: 400 BAD_JSON, BAD_RESPONSE, BAD_BASE64, CLIENT_DATA_INVALID', async () => {
    const server = await fx.server();
    await enrolled(server.url);

    expectRejected(
      await raw(`${server.url}/bind`, { body: 'data={"registrationData":' }),
      400,
      'BAD_JSON',
    );
    expectRejected(await raw(`${server.url}/bind`, { body: 'data=[1,2]' }), 400, 'BAD_RESPONSE');
    expectRejected(
      await raw(`${server.url}/bind`, { body: form({ clientData: 'x' }) }),
      400,
      'BAD_RESPONSE',
    );
    expectRejected(
      await raw(`${server.url}/bind`, {
        body: form({ registrationData: 'AA', clientData: '!!', version: 'U2F_V2' }),
      }),
      400,
      'BAD_BASE64',
    );
    expectRejected(
      await raw(`${server.url}/verify`, {
        body: form({ keyHandle: 'AA', signatureData: 'AA', clientData: 'e30' }),
      }),
      400,
      'UNKNOWN_KEY_HANDLE',
    );
    expectRejected(
      await raw(`${server.url}/bind`, { body: '{"data":', type: 'application/json' }),
      400,
      'BAD_BODY',
    );
    expectRejected(
      await raw(`${server.url}/bind`, { body: 'data=x', type: 'text/xml' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectRejected(await raw(`${server.url}/enroll?username=a%00b`), 400, 'BAD_USERNAME');
    expectRejected(
      await raw(`${server.url}/enroll?username=${'u'.repeat(65)}`),
      400,
      'BAD_USERNAME',
    );
  });

  it('a browser error code: 400 CLIENT_ERROR', async () => {
    const server = await fx.server();
    await raw(`${server.url}/enroll`);
    const answer = await raw(`${server.url}/bind`, { body: form({ errorCode: 4 }) });
    expectRejected(answer, 400, 'CLIENT_ERROR');
    expect((answer.json as { message: string }).message).toContain('DEVICE_INELIGIBLE');
  });

  it('wrong challenge: 400 CHALLENGE_UNKNOWN, and the issued request still works', async () => {
    const server = await fx.server();
    const key = await fx.key();
    const request = (await raw(`${server.url}/enroll`)).json as {
      appId: string;
      registerRequests: { challenge: string }[];
    };
    const forged = { ...request, registerRequests: [{ challenge: 'A'.repeat(43) }] };
    const wrong = await registerResponse(key, forged);

    expectRejected(
      await raw(`${server.url}/bind`, { body: form(wrong.response) }),
      400,
      'CHALLENGE_UNKNOWN',
    );
    expect(server.store.keysOf('user', server.appId)).toHaveLength(0);

    const right = await registerResponse(key, request);
    expect((await raw(`${server.url}/bind`, { body: form(right.response) })).json).toBe(true);
  });

  it('a challenge issued to another user: 400 CHALLENGE_UNKNOWN', async () => {
    const server = await fx.server();
    const key = await fx.key();
    const request = (await raw(`${server.url}/enroll?username=alice`)).json as {
      appId: string;
      registerRequests: { challenge: string }[];
    };
    const { response } = await registerResponse(key, request);

    expectRejected(
      await raw(`${server.url}/bind`, { body: form(response, 'mallory') }),
      400,
      'CHALLENGE_UNKNOWN',
    );
    expect(server.store.keysOf('mallory', server.appId)).toHaveLength(0);
  });

  it('replayed bind: 400 CHALLENGE_UNKNOWN, one key stored', async () => {
    const server = await fx.server();
    const key = await fx.key();
    const request = (await raw(`${server.url}/enroll`)).json as {
      appId: string;
      registerRequests: { challenge: string }[];
    };
    const { response } = await registerResponse(key, request);

    expect((await raw(`${server.url}/bind`, { body: form(response) })).status).toBe(200);
    expectRejected(
      await raw(`${server.url}/bind`, { body: form(response) }),
      400,
      'CHALLENGE_UNKNOWN',
    );
    expect(server.store.keysOf('user', server.appId)).toHaveLength(1);
  });

  it('replayed verify: 400 CHALLENGE_UNKNOWN, counter unchanged', async () => {
    const server = await fx.server();
    const { key, keyHandle } = await enrolled(server.url);
    const signed = await signResponse(key, await signRequest(server.url), keyHandle);

    expect((await raw(`${server.url}/verify`, { body: form(signed) })).json).toMatchObject({
      counter: 1,
    });
    await signRequest(server.url);
    expectRejected(
      await raw(`${server.url}/verify`, { body: form(signed) }),
      400,
      'CHALLENGE_UNKNOWN',
    );
    expect(server.store.keysOf('user', server.appId)[0]!.registration.counter).toBe(1);
  });

  it('expired challenge: 400 CHALLENGE_UNKNOWN', async () => {
    const server = await fx.server({ challengeTtlMs: 50 });
    const { key, keyHandle } = await enrolled(server.url);
    const signed = await signResponse(key, await signRequest(server.url), keyHandle);

    await new Promise((resolve) => setTimeout(resolve, 120));

    expectRejected(
      await raw(`${server.url}/verify`, { body: form(signed) }),
      400,
      'CHALLENGE_UNKNOWN',
    );
    expect(server.store.keysOf('user', server.appId)[0]!.registration.counter).toBeUndefined();
  });

  it('unknown key handle: 400 UNKNOWN_KEY_HANDLE', async () => {
    const server = await fx.server();
    await enrolled(server.url);
    const other = await fx.key();
    const otherRequest = (await raw(`${server.url}/enroll?username=other`)).json as {
      appId: string;
      registerRequests: { challenge: string }[];
    };
    const { keyHandle: foreign } = await registerResponse(other, otherRequest);
    const sign = await signRequest(server.url);

    const answer = await raw(`${server.url}/verify`, {
      body: form(await signResponse(other, sign, foreign)),
    });

    expectRejected(answer, 400, 'UNKNOWN_KEY_HANDLE');
  });

  it('tampered signature: 400 BAD_SIGNATURE, counter unchanged', async () => {
    const server = await fx.server();
    const { key, keyHandle } = await enrolled(server.url);
    const signed = await signResponse(key, await signRequest(server.url), keyHandle);
    const bytes = Buffer.from(signed.signatureData, 'base64url');
    bytes[bytes.length - 1]! ^= 0x01;

    const answer = await raw(`${server.url}/verify`, {
      body: form({ ...signed, signatureData: bytes.toString('base64url') }),
    });

    expectRejected(answer, 400, 'BAD_SIGNATURE');
    expect(server.store.keysOf('user', server.appId)[0]!.registration.counter).toBeUndefined();
  });

  it('sign with no keys: 400 NO_REGISTERED_KEYS', async () => {
    const server = await fx.server();
    expectRejected(await raw(`${server.url}/sign?username=nobody`), 400, 'NO_REGISTERED_KEYS');
  });

  it('oversized body: 413 BODY_TOO_LARGE, declared or streamed', async () => {
    const server = await fx.server({ bodyLimit: 4096 });
    await raw(`${server.url}/enroll`);

    expectRejected(
      await raw(`${server.url}/bind`, { body: `data=${'A'.repeat(5000)}` }),
      413,
      'BODY_TOO_LARGE',
    );

    const chunks = (async function* () {
      for (let i = 0; i < 8; i++) yield new TextEncoder().encode('A'.repeat(1024));
    })();
    const streamed = await fetch(`${server.url}/bind`, {
      method: 'POST',
      body: ReadableStream.from(chunks),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toMatchObject({ error: 'BODY_TOO_LARGE' });

    // The server still serves.
    expect((await raw(`${server.url}/enroll`)).status).toBe(200);
  });

  it('no client input produced a 5xx', async () => {
    const server = await fx.server();
    const bodies = [
      '',
      'data=',
      'data=null',
      'data=1',
      'data="x"',
      'data={}',
      'data=%zz',
      '&&&',
      'data=[]',
    ];
    for (const path of ['/bind', '/verify']) {
      for (const body of bodies) {
        const answer = await raw(`${server.url}${path}`, { body });
        expect(answer.status, `${path} ${body}: ${answer.text}`).toBeGreaterThanOrEqual(400);
        expect(answer.status, `${path} ${body}: ${answer.text}`).toBeLessThan(500);
      }
    }
    expect(fx.logs.every((l) => l.status < 500)).toBe(true);
  });
});

describe('keybench serve: counters', () => {
  it('a counter that did not go up: 400 COUNTER_NOT_INCREASED, stored counter kept', async () => {
    const server = await fx.server();
    const { key, keyHandle } = await enrolled(server.url);
    server.store.db.prepare('UPDATE registrations SET counter = 100').run();

    const answer = await raw(`${server.url}/verify`, {
      body: form(await signResponse(key, await signRequest(server.url), keyHandle)),
    });

    expectRejected(answer, 400, 'COUNTER_NOT_INCREASED');
    expect(server.store.keysOf('user', server.appId)[0]!.registration.counter).toBe(100);
  });

  it('with --counter-policy warn the same answer passes and the counter never goes down', async () => {
    const server = await fx.server({ counterPolicy: 'warn' });
    const { key, keyHandle } = await enrolled(server.url);
    server.store.db.prepare('UPDATE registrations SET counter = 100').run();

    const answer = await raw(`${server.url}/verify`, {
      body: form(await signResponse(key, await signRequest(server.url), keyHandle)),
    });

    expect(answer.json).toEqual({ keyHandle, touch: 1, counter: 1 });
    expect(server.store.keysOf('user', server.appId)[0]!.registration.counter).toBe(100);
  });
});

describe('keybench serve: persistence', () => {
  it('a restart between bind and sign keeps the registration and the counter', async () => {
    const db = `${fx.tempDir()}/serve.db`;
    const appId = 'http://localhost:8081';
    const first = await fx.server({ db, appId });
    const key = await fx.key();
    const client = new U2fClient({ server: first.url, device: key.device, username: 'carol' });
    const keyHandle = await client.register();
    expect((await client.authenticate()).counter).toBe(1);
    await first.close();

    const second = await fx.server({ db, appId });
    const again = new U2fClient({ server: second.url, device: key.device, username: 'carol' });
    const verified = await again.authenticate();

    expect(verified).toEqual({ keyHandle, touch: 1, counter: 2 });
    expect(second.store.keysOf('carol', appId).map((k) => k.registration.counter)).toEqual([2]);
  });

  it('a restart between enroll and bind loses only the pending challenge', async () => {
    const db = `${fx.tempDir()}/serve.db`;
    const first = await fx.server({ db, appId: 'http://localhost:8081' });
    const key = await fx.key();
    const request = (await raw(`${first.url}/enroll`)).json as {
      appId: string;
      registerRequests: { challenge: string }[];
    };
    await first.close();

    const second = await fx.server({ db, appId: 'http://localhost:8081' });
    const { response } = await registerResponse(key, request);
    expectRejected(
      await raw(`${second.url}/bind`, { body: form(response) }),
      400,
      'CHALLENGE_UNKNOWN',
    );
    expect(second.store.keysOf('user', second.appId)).toHaveLength(0);
  });
});
