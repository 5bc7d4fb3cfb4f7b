import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildClientData, CLIENT_DATA_TYP, sha256, websafe } from '../src/client-data.js';
import { openDevice, type OpenedDevice } from '../src/open-device.js';
import type { RequestLogEntry } from '../src/server/app.js';
import {
  startU2fServer,
  type RunningU2fServer,
  type U2fServerOptions,
} from '../src/server/server.js';

/** Shared by the server and client tests: servers, keys and temp dirs, all cleaned up. */
export class Fixtures {
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  readonly logs: RequestLogEntry[] = [];

  tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'keybench-serve-'));
    this.cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** A server on a free loopback port, with a fresh database unless `db` is given. */
  async server(options: Partial<U2fServerOptions> = {}): Promise<RunningU2fServer> {
    const server = await startU2fServer({
      port: 0,
      db: options.db ?? join(this.tempDir(), 'serve.db'),
      log: (entry) => this.logs.push(entry),
      ...options,
    });
    this.cleanups.push(() => server.close());
    return server;
  }

  /** An in-process virtual key that touches itself. */
  async key(): Promise<OpenedDevice> {
    const opened = await openDevice({ kind: 'virtual', text: 'virtual' });
    this.cleanups.push(() => opened.close());
    return opened;
  }

  async cleanup(): Promise<void> {
    for (const step of this.cleanups.splice(0).reverse()) await step();
    this.logs.length = 0;
  }
}

/** What a raw HTTP exchange answered. */
export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** One request as curl would send it: `-d 'data=…'` is a raw form body, not re-encoded. */
export async function raw(
  url: string,
  init: { method?: string; body?: string; type?: string } = {},
): Promise<RawAnswer> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined)
    headers['content-type'] = init.type ?? 'application/x-www-form-urlencoded';
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The RegisterResponse a browser would send for `request`, made with `key`. */
export async function registerResponse(
  key: OpenedDevice,
  request: { appId: string; registerRequests: { challenge: string }[] },
  origin = new URL(request.appId).origin,
) {
  const clientData = buildClientData(
    CLIENT_DATA_TYP.REGISTER,
    request.registerRequests[0]!.challenge,
    origin,
  );
  const registrationData = await key.device.register(sha256(clientData), sha256(request.appId));
  const keyHandleLength = registrationData[66]!;
  return {
    response: {
      registrationData: websafe(registrationData),
      clientData: websafe(clientData),
      version: 'U2F_V2',
    },
    keyHandle: websafe(registrationData.subarray(67, 67 + keyHandleLength)),
  };
}

/** The SignResponse a browser would send for `request` with `keyHandle`, made with `key`. */
export async function signResponse(
  key: OpenedDevice,
  request: { appId: string; challenge: string },
  keyHandle: string,
  origin = new URL(request.appId).origin,
) {
  const clientData = buildClientData(CLIENT_DATA_TYP.SIGN, request.challenge, origin);
  const signatureData = await key.device.authenticate(
    sha256(clientData),
    sha256(request.appId),
    Buffer.from(keyHandle, 'base64url'),
  );
  return { keyHandle, signatureData: websafe(signatureData), clientData: websafe(clientData) };
}

/** `data=JSON` exactly as `curl -d` sends it. */
export function form(data: unknown, username?: string): string {
  const user = username === undefined ? '' : `username=${encodeURIComponent(username)}&`;
  return `${user}data=${JSON.stringify(data)}`;
}
