import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

import { afterEach, describe, expect, it } from 'vitest';

import {
  buildClientData,
  CLIENT_DATA_TYP,
  openDevice,
  sha256,
  startU2fServer,
  websafe,
  type OpenedDevice,
} from '@keybench/harness';

import { runCli } from './helpers/cli.js';

/**
 * Interop: `keybench client` against python-u2flib-server's own example server, as Debian's
 * python3-u2flib-server ships it (with python3-webob). Skipped when those are not installed.
 */
const EXAMPLE = '/usr/share/doc/python3-u2flib-server/examples/u2f_server.py.gz';

/** Debian's own interpreter: the one its python3-* packages are installed for. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/**
 * Runs the example's WSGI app on 127.0.0.1 and a free port, printing the port first.
 * u2flib 5.0.0 calls `verifier()`, which cryptography removed in 37 (Debian 12 has 38; see
 * Yubico/python-u2flib-server#46), so this adds that method back on top of `verify()`
 * before loading the example; nothing else is changed.
 */
const LAUNCHER = `
import gzip, sys
from cryptography.hazmat.backends.openssl import ec as openssl_ec

class _Verifier:
    def __init__(self, key, signature, algorithm):
        self.key, self.signature, self.algorithm, self.data = key, signature, algorithm, b''
    def update(self, data):
        self.data += data
    def verify(self):
        self.key.verify(self.signature, self.data, self.algorithm)

if not hasattr(openssl_ec._EllipticCurvePublicKey, 'verifier'):
    openssl_ec._EllipticCurvePublicKey.verifier = (
        lambda self, signature, algorithm: _Verifier(self, signature, algorithm))

namespace = {'__name__': 'u2f_example'}
exec(compile(gzip.open(sys.argv[1]).read(), 'u2f_server.py', 'exec'), namespace)

from wsgiref.simple_server import make_server, WSGIRequestHandler
class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass
httpd = make_server('127.0.0.1', 0, namespace['application'], handler_class=Quiet)
print('listening on http://127.0.0.1:%d' % httpd.server_port, flush=True)
httpd.serve_forever()
`;

function pythonExampleAvailable(): boolean {
  if (!existsSync(EXAMPLE)) return false;
  try {
    execFileSync(PYTHON, ['-c', 'import u2flib_server, webob'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0)) await step();
});

function startExample(): Promise<string> {
  const child = spawn(PYTHON, ['-c', LAUNCHER, EXAMPLE], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  });

  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`python example did not start: ${text}`)),
      15_000,
    );
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then(() => reject(new Error(`python example exited: ${text}`)));
  });
}

describe.skipIf(!pythonExampleAvailable())('keybench client against python-u2flib-server', () => {
  it('enrolls, binds, signs and verifies with a virtual key', async () => {
    const url = await startExample();

    const result = await runCli(['client', '--server', url, '--device', 'virtual', '--json']);

    expect(result.code, result.stdout + result.stderr).toBe(0);
    const outcome = JSON.parse(result.stdout);
    expect(outcome).toMatchObject({ ok: true, appId: url, verified: { touch: 1, counter: 1 } });
    expect(outcome.verified.keyHandle).toBe(outcome.registeredKeyHandle);
  });

  it('reports its traceback answer (HTTP 400) with the step that failed', async () => {
    const url = await startExample();

    const result = await runCli([
      'client',
      '--server',
      url,
      '--device',
      'virtual',
      '--origin',
      'https://evil.example',
    ]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('bind: POST /bind: HTTP 400');
  });
});

/** Each step of the curl transcript, as form posts, against one server; the answers. */
async function transcript(url: string, key: OpenedDevice) {
  const post = (path: string, data: unknown) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `data=${JSON.stringify(data)}`,
    });

  const enroll = await (await fetch(`${url}/enroll`)).json();
  const origin = new URL(enroll.appId).origin;
  const registerClientData = buildClientData(
    CLIENT_DATA_TYP.REGISTER,
    enroll.registerRequests[0].challenge,
    origin,
  );
  const registrationData = await key.device.register(
    sha256(registerClientData),
    sha256(enroll.appId),
  );
  const keyHandle = websafe(registrationData.subarray(67, 67 + registrationData[66]!));
  const bindResponse = await post('/bind', {
    registrationData: websafe(registrationData),
    clientData: websafe(registerClientData),
    version: 'U2F_V2',
  });
  const bind = { status: bindResponse.status, body: await bindResponse.json() };

  const sign = await (await fetch(`${url}/sign`)).json();
  const signClientData = buildClientData(CLIENT_DATA_TYP.SIGN, sign.challenge, origin);
  const signatureData = await key.device.authenticate(
    sha256(signClientData),
    sha256(sign.appId),
    Buffer.from(keyHandle, 'base64url'),
  );
  const verifyResponse = await post('/verify', {
    keyHandle,
    signatureData: websafe(signatureData),
    clientData: websafe(signClientData),
  });
  const verify = { status: verifyResponse.status, body: await verifyResponse.json() };
  return { enroll, bind, sign, verify, keyHandle };
}

describe.skipIf(!pythonExampleAvailable())(
  'keybench serve answers as python-u2flib-server does',
  () => {
    it('the same curl-shaped transcript gets the same JSON shapes from both', async () => {
      const key = await openDevice({ kind: 'virtual', text: 'virtual' });
      cleanups.push(() => key.close());
      const ours = await startU2fServer({ port: 0, db: ':memory:' });
      cleanups.push(() => ours.close());
      const theirs = await startExample();

      const a = await transcript(theirs, key);
      const b = await transcript(ours.url, key);

      const shape = (value: unknown): unknown =>
        Array.isArray(value)
          ? value.map(shape)
          : value !== null && typeof value === 'object'
            ? Object.fromEntries(
                Object.entries(value)
                  .sort()
                  .map(([k, v]) => [k, shape(v)]),
              )
            : typeof value;
      expect(shape(b.enroll)).toEqual(shape(a.enroll));
      expect(b.bind).toEqual(a.bind);
      expect(b.bind).toEqual({ status: 200, body: true });
      expect(shape(b.sign)).toEqual(shape(a.sign));
      expect(a.verify).toEqual({
        status: 200,
        body: { keyHandle: a.keyHandle, touch: 1, counter: 1 },
      });
      expect(b.verify).toEqual({
        status: 200,
        body: { keyHandle: b.keyHandle, touch: 1, counter: 2 },
      });
    });
  },
);
