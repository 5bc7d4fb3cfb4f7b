import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import {
  buildClientData,
  CLIENT_DATA_TYP,
  openDevice,
  sha256,
  websafe,
  type OpenedDevice,
} from '@keybench/harness';
import { afterEach, describe, expect, it } from 'vitest';

import { CLI, runCli } from './helpers/cli.js';

const run = promisify(execFile);

/** A `keybench serve --port 0` process: its URL, and its stderr log so far. */
interface ServeProcess {
  url: string;
  port: number;
  stdout(): string;
  stderr(): string;
  stop(): Promise<number | null>;
}

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keybench-serve-e2e-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'serve.db');
}

/** Starts `keybench serve --port 0 ARGS`; resolves on its first stdout line. */
function startServe(args: string[], timeoutMs = 15_000): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    const code = await exited;
    clearTimeout(killer);
    return code;
  };
  cleanups.push(stop);

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`serve did not start within ${timeoutMs} ms: ${out}${err}`));
    }, timeoutMs);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const first = out.split('\n')[0]!;
      const match = /^keybench serve listening on (http:\/\/\S+):(\d+)$/.exec(first);
      if (out.includes('\n') && match) {
        clearTimeout(timer);
        resolve({
          url: `${match[1]}:${match[2]}`,
          port: Number(match[2]),
          stdout: () => out,
          stderr: () => err,
          stop,
        });
      } else if (out.includes('\n')) {
        clearTimeout(timer);
        reject(new Error(`unexpected first line: ${first}`));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening: ${out}${err}`));
    });
  });
}

async function key(): Promise<OpenedDevice> {
  const opened = await openDevice({ kind: 'virtual', text: 'virtual' });
  cleanups.push(() => opened.close());
  return opened;
}

async function getJson(url: string): Promise<any> {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return response.json();
}

async function post(url: string, data: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `data=${JSON.stringify(data)}`,
  });
  return { status: response.status, json: await response.json() };
}

async function registerWith(device: OpenedDevice, request: any) {
  const origin = new URL(request.appId).origin;
  const clientData = buildClientData(
    CLIENT_DATA_TYP.REGISTER,
    request.registerRequests[0].challenge,
    origin,
  );
  const registrationData = await device.device.register(sha256(clientData), sha256(request.appId));
  const keyHandle = websafe(registrationData.subarray(67, 67 + registrationData[66]!));
  const response = {
    registrationData: websafe(registrationData),
    clientData: websafe(clientData),
    version: 'U2F_V2',
  };
  return { response, keyHandle };
}

async function signWith(device: OpenedDevice, request: any, keyHandle: string) {
  const clientData = buildClientData(
    CLIENT_DATA_TYP.SIGN,
    request.challenge,
    new URL(request.appId).origin,
  );
  const signatureData = await device.device.authenticate(
    sha256(clientData),
    sha256(request.appId),
    Buffer.from(keyHandle, 'base64url'),
  );
  return { keyHandle, signatureData: websafe(signatureData), clientData: websafe(clientData) };
}

async function hasCurl(): Promise<boolean> {
  try {
    await run('curl', ['--version']);
    return true;
  } catch {
    return false;
  }
}

describe('keybench serve and keybench client as processes', () => {
  it('prints the listening line first, and client + virtual key go through', async () => {
    const server = await startServe(['--db', tempDb()]);
    expect(server.stdout()).toMatch(/^keybench serve listening on http:\/\/127\.0\.0\.1:\d+\n/);

    const result = await runCli([
      'client',
      '--server',
      server.url,
      '--device',
      'virtual',
      '--username',
      'ann',
      '--json',
    ]);

    expect(result.code, result.stderr).toBe(0);
    const outcome = JSON.parse(result.stdout);
    expect(outcome).toMatchObject({
      ok: true,
      username: 'ann',
      verified: { touch: 1, counter: 1 },
    });
    expect(outcome.steps.map((s: { step: string }) => s.step)).toEqual([
      'enroll',
      'register',
      'bind',
      'sign',
      'authenticate',
      'verify',
    ]);
    const log = server.stderr();
    for (const line of [
      'GET /enroll user=ann 200 ok',
      'POST /bind user=ann 200 ok',
      'GET /sign user=ann 200 ok',
      'POST /verify user=ann 200 ok',
    ]) {
      expect(log).toMatch(new RegExp(`^\\S+Z ${line} \\d+\\.\\d ms$`, 'm'));
    }
    expect(await server.stop()).toBe(0);
  });

  it('prints each step of the client in human form', async () => {
    const server = await startServe(['--db', tempDb()]);

    const result = await runCli(['client', '--server', server.url, '--device', 'virtual']);

    expect(result.code, result.stderr).toBe(0);
    for (const step of ['enroll', 'register', 'bind', 'sign', 'authenticate', 'verify']) {
      expect(result.stdout).toMatch(new RegExp(`✔ ${step}\\s`));
    }
    expect(result.stdout).toMatch(/counter\s+1/);
  });

  it('works with curl: GET /enroll, POST /bind -d data=…, /sign, /verify', async (context) => {
    // curl is an outside client; without it installed there is nothing to run.
    if (!(await hasCurl())) context.skip('curl is not installed');
    const server = await startServe(['--db', tempDb()]);
    const device = await key();
    // A failure names the curl call and shows the server's log, so it can be read afterwards.
    const curl = async (...args: string[]) => {
      try {
        return (await run('curl', ['-sS', '--max-time', '10', ...args])).stdout;
      } catch (error) {
        throw new Error(
          `curl ${args.join(' ').slice(0, 200)} failed: ${(error as Error).message}\n` +
            `server log:\n${server.stderr()}`,
        );
      }
    };

    const request = JSON.parse(await curl(`${server.url}/enroll`));
    const { response, keyHandle } = await registerWith(device, request);
    const bound = await curl(`${server.url}/bind`, '-d', `data=${JSON.stringify(response)}`);
    expect(bound, server.stderr()).toBe('true');

    const sign = JSON.parse(await curl(`${server.url}/sign`));
    const signed = await signWith(device, sign, keyHandle);
    const verified = JSON.parse(
      await curl(`${server.url}/verify`, '-d', `data=${JSON.stringify(signed)}`),
    );
    expect(verified, server.stderr()).toEqual({ keyHandle, touch: 1, counter: 1 });

    const rejected = await curl(
      '-w',
      '\n%{http_code}',
      `${server.url}/verify`,
      '-d',
      `data=${JSON.stringify(signed)}`,
    );
    const [body, status] = rejected.split('\n');
    expect(status, rejected).toBe('400');
    expect(JSON.parse(body!)).toMatchObject({ error: 'CHALLENGE_UNKNOWN' });
  });

  it('a restart between bind and sign keeps the registration (same --db)', async () => {
    const db = tempDb();
    const appId = ['--app-id', 'http://localhost:8081'];
    const device = await key();

    const first = await startServe(['--db', db, ...appId]);
    const request = await getJson(`${first.url}/enroll?username=zed`);
    const { response, keyHandle } = await registerWith(device, request);
    expect((await post(`${first.url}/bind?username=zed`, response)).json).toBe(true);
    expect(await first.stop()).toBe(0);

    const second = await startServe(['--db', db, ...appId]);
    const sign = await getJson(`${second.url}/sign?username=zed`);
    expect(sign.registeredKeys.map((k: { keyHandle: string }) => k.keyHandle)).toEqual([keyHandle]);
    const verified = await post(
      `${second.url}/verify?username=zed`,
      await signWith(device, sign, keyHandle),
    );
    expect(verified).toEqual({ status: 200, json: { keyHandle, touch: 1, counter: 1 } });
    expect(await second.stop()).toBe(0);

    const third = await startServe(['--db', db, ...appId]);
    const page = await (await fetch(`${third.url}/?username=zed`)).text();
    expect(page).toMatch(/<td>1<\/td><td><code>[\w-]{24}…<\/code><\/td><td>1<\/td>/);
  });

  it('client: a server-side rejection exits 1 naming the step', async () => {
    const server = await startServe(['--db', tempDb()]);

    const result = await runCli([
      'client',
      '--server',
      server.url,
      '--device',
      'virtual',
      '--origin',
      'https://evil.example',
    ]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'ORIGIN_NOT_ALLOWED: bind: POST /bind: HTTP 400 ORIGIN_NOT_ALLOWED',
    );
    expect(server.stderr()).toContain('POST /bind user=user 400 ORIGIN_NOT_ALLOWED');
  });

  it('client: an unreachable server exits 2', async () => {
    const server = await startServe(['--db', tempDb()]);
    await server.stop();

    const result = await runCli([
      'client',
      '--server',
      server.url,
      '--device',
      'virtual',
      '--json',
    ]);

    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      message: expect.stringContaining('unreachable'),
    });
  });

  it('serve: a --db that is not a database exits 2 and is left as it was', async () => {
    const db = tempDb();
    writeFileSync(db, 'not a database, some notes\n');

    const result = await runCli(['serve', '--port', '0', '--db', db]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`cannot use ${db} as the server database`);
    expect(readFileSync(db, 'utf8')).toBe('not a database, some notes\n');
  });

  it('serve: a port in use exits 2', async () => {
    const server = await startServe(['--db', tempDb()]);

    const result = await runCli(['serve', '--port', String(server.port), '--db', tempDb()]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`port ${server.port} on 127.0.0.1 is already in use`);
  });
});
