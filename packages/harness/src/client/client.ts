import { ApduError, CtapHidError, SW, TransportError, type U2fDevice } from '@keybench/hid-transport';
import { parseRegistrationData, U2fError, websafeDecode } from '@keybench/server-core';

import { buildClientData, CLIENT_DATA_TYP, sha256, websafe } from '../client-data.js';
import { DeviceError } from '../errors.js';
import { ExchangeFailure } from '../exchange.js';
import { callServer } from './http.js';

/** The steps of one run, in order: the four HTTP calls and the two key commands. */
export type ClientStepName = 'enroll' | 'register' | 'bind' | 'sign' | 'authenticate' | 'verify';

/** One finished step. */
export interface ClientStep {
  step: ClientStepName;
  /** HTTP status for the server steps. */
  status?: number;
  ms: number;
  /** One line on what happened (challenge, key handle, answer). */
  detail: string;
}

/** What the server's /verify answered. */
export interface VerifyAnswer {
  keyHandle: string;
  touch: number;
  counter: number;
}

/** Options of {@link U2fClient}. */
export interface ClientOptions {
  /** Base URL of the server, e.g. `http://localhost:8081`. */
  server: string;
  device: U2fDevice;
  /** Sent as `username` (default "user"). */
  username?: string;
  /** clientData origin; default the origin of the appId the server sends. */
  origin?: string;
  /** Deadline of each touch-gated key command (default 30 s). */
  touchTimeoutMs?: number;
  /** Deadline of each HTTP call (default 10 s). */
  httpTimeoutMs?: number;
  onStep?: (step: ClientStep) => void;
  onTouchNeeded?: (step: ClientStepName) => void;
}

interface SignCandidate {
  keyHandle: string;
  appId: string;
}

function record(value: unknown, step: ClientStepName, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ExchangeFailure(step, 'BAD_SERVER_JSON', `${what}: expected a JSON object, got ${
      JSON.stringify(value)?.slice(0, 80)}`);
  }
  return value as Record<string, unknown>;
}

function text(object: Record<string, unknown>, name: string, step: ClientStepName,
  what: string): string {
  const value = object[name];
  if (typeof value !== 'string' || value === '') {
    throw new ExchangeFailure(step, 'BAD_SERVER_JSON', `${what}.${name}: expected a string, got ${
      JSON.stringify(value)?.slice(0, 80) ?? 'nothing'}`);
  }
  return value;
}

/** A key that is not there, or answers wrongly, is the device's fault or the check's. */
function classify(step: ClientStepName, error: unknown): Error {
  if (error instanceof ExchangeFailure || error instanceof DeviceError) return error;
  if (error instanceof U2fError) return new ExchangeFailure(step, error.code, error.message, { cause: error });
  if (error instanceof ApduError) {
    return new ExchangeFailure(step, `SW_${error.swName}`, error.message, { cause: error });
  }
  if (error instanceof CtapHidError || error instanceof TransportError) {
    return new DeviceError(`${step}: ${error.message}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

const NOT_THIS_KEY: ReadonlySet<number> = new Set([SW.WRONG_DATA, SW.WRONG_LENGTH]);

/**
 * Drives a server speaking python-u2flib-server's example flow with a key, as a browser's
 * U2F JS API would: GET /enroll, REGISTER, POST /bind; GET /sign, AUTHENTICATE, POST /verify.
 * Methods throw ExchangeFailure (a step the server or the key rejected; `step` names it)
 * and DeviceError (server or key unreachable).
 */
export class U2fClient {
  readonly steps: ClientStep[] = [];
  readonly username: string;
  /** The appId the server sent with its last request. */
  appId: string | undefined;
  /** The origin put in the last clientData. */
  origin: string | undefined;
  /** Key handle registered by the last {@link register}. */
  keyHandle: string | undefined;

  private readonly base: URL;

  /** Throws TypeError when `server` is not an http(s) URL. */
  constructor(private readonly options: ClientOptions) {
    let base: URL;
    try {
      base = new URL(options.server);
    } catch {
      throw new TypeError(`client: server "${options.server}" is not a URL (e.g. http://localhost:8081)`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new TypeError(`client: server "${options.server}" must be an http:// or https:// URL`);
    }
    this.base = base;
    this.username = options.username ?? 'user';
  }

  private endpoint(name: string): URL {
    const url = new URL(name, this.base.href.endsWith('/') ? this.base : `${this.base.href}/`);
    return url;
  }

  private async timed<T>(step: ClientStepName, work: () => Promise<T>,
    describe: (value: T) => { detail: string; status?: number }): Promise<T> {
    const start = performance.now();
    let value: T;
    try {
      value = await work();
    } catch (error) {
      throw classify(step, error);
    }
    const entry: ClientStep = { step, ms: performance.now() - start, ...describe(value) };
    this.steps.push(entry);
    this.options.onStep?.(entry);
    return value;
  }

  private originFor(appId: string): string {
    if (this.options.origin !== undefined) return this.options.origin;
    try {
      const origin = new URL(appId).origin;
      if (origin !== 'null') return origin;
    } catch {
      // A non-URL appId: the page's origin is the server's.
    }
    return this.base.origin;
  }

  private touch(step: ClientStepName) {
    return {
      timeoutMs: this.options.touchTimeoutMs ?? 30_000,
      onTouchNeeded: () => this.options.onTouchNeeded?.(step),
    };
  }

  private get(step: ClientStepName, path: string) {
    const url = this.endpoint(path);
    url.searchParams.set('username', this.username);
    return callServer(step, 'GET', url, undefined, this.options.httpTimeoutMs ?? 10_000);
  }

  private post(step: ClientStepName, path: string, data: unknown) {
    const form = { username: this.username, data: JSON.stringify(data) };
    return callServer(step, 'POST', this.endpoint(path), form, this.options.httpTimeoutMs ?? 10_000);
  }

  /** enroll, register, bind: returns the new key handle (base64url). */
  async register(): Promise<string> {
    const enrolled = await this.timed('enroll', () => this.get('enroll', 'enroll'), (call) => ({
      status: call.status, detail: '' }));
    const request = record(enrolled.body, 'enroll', 'register request');
    const appId = text(request, 'appId', 'enroll', 'register request');
    const registerRequests = request['registerRequests'];
    const first = Array.isArray(registerRequests)
      ? registerRequests.map((r) => record(r, 'enroll', 'registerRequests[]'))
        .find((r) => r['version'] === undefined || r['version'] === 'U2F_V2')
      : undefined;
    if (first === undefined) {
      throw new ExchangeFailure('enroll', 'BAD_SERVER_JSON',
        'register request: expected registerRequests with a U2F_V2 entry');
    }
    const challenge = text(first, 'challenge', 'enroll', 'registerRequests[]');
    this.appId = appId;
    this.origin = this.originFor(appId);
    this.steps.at(-1)!.detail = `appId ${appId}, challenge ${challenge.slice(0, 12)}…`;

    const clientData = buildClientData(CLIENT_DATA_TYP.REGISTER, challenge, this.origin);
    const { registrationData, keyHandle } = await this.timed('register', async () => {
      const bytes = await this.options.device.register(sha256(clientData), sha256(appId),
        this.touch('register'));
      return { registrationData: bytes, keyHandle: websafe(parseRegistrationData(bytes).keyHandle) };
    }, (r) => ({ detail: `${r.registrationData.length} bytes, key handle ${r.keyHandle.slice(0, 12)}…` }));

    const response = {
      registrationData: websafe(registrationData),
      clientData: websafe(clientData),
      version: 'U2F_V2',
    };
    await this.timed('bind', () => this.post('bind', 'bind', response), (call) => ({
      status: call.status, detail: JSON.stringify(call.body).slice(0, 80) }));
    this.keyHandle = keyHandle;
    return keyHandle;
  }

  /** sign, authenticate, verify: returns what /verify answered. */
  async authenticate(): Promise<VerifyAnswer> {
    const signed = await this.timed('sign', () => this.get('sign', 'sign'), (call) => ({
      status: call.status, detail: '' }));
    const request = record(signed.body, 'sign', 'sign request');
    const appId = text(request, 'appId', 'sign', 'sign request');
    const challenge = text(request, 'challenge', 'sign', 'sign request');
    const keys = Array.isArray(request['registeredKeys']) ? request['registeredKeys'] : [];
    const candidates: SignCandidate[] = keys.map((key) => {
      const entry = record(key, 'sign', 'registeredKeys[]');
      const handle = text(entry, 'keyHandle', 'sign', 'registeredKeys[]');
      return { keyHandle: handle, appId: typeof entry['appId'] === 'string' ? entry['appId'] : appId };
    });
    if (candidates.length === 0) {
      throw new ExchangeFailure('sign', 'BAD_SERVER_JSON', 'sign request: no registeredKeys');
    }
    // As a browser does, ask the key about each offered handle; ours goes first.
    candidates.sort((a, b) => Number(b.keyHandle === this.keyHandle) - Number(a.keyHandle === this.keyHandle));
    this.appId = appId;
    this.origin = this.originFor(appId);
    this.steps.at(-1)!.detail = `challenge ${challenge.slice(0, 12)}…, ${candidates.length} key(s) offered`;

    const clientData = buildClientData(CLIENT_DATA_TYP.SIGN, challenge, this.origin);
    const { candidate, signatureData } = await this.timed('authenticate',
      () => this.signWithAny(candidates, clientData),
      ({ candidate: c, signatureData: s }) => ({
        detail: `key handle ${c.keyHandle.slice(0, 12)}…, ${s.length} bytes of signature data` }));

    const response = {
      keyHandle: candidate.keyHandle,
      signatureData: websafe(signatureData),
      clientData: websafe(clientData),
    };
    const verified = await this.timed('verify', () => this.post('verify', 'verify', response),
      (call) => ({ status: call.status, detail: JSON.stringify(call.body).slice(0, 120) }));
    const answer = record(verified.body, 'verify', 'verify answer');
    const counter = answer['counter'];
    const touch = answer['touch'];
    if (typeof counter !== 'number' || typeof touch !== 'number') {
      throw new ExchangeFailure('verify', 'BAD_SERVER_JSON',
        `verify answer: expected {"keyHandle", "touch", "counter"}, got ${JSON.stringify(answer).slice(0, 120)}`);
    }
    const keyHandle = typeof answer['keyHandle'] === 'string' ? answer['keyHandle'] : candidate.keyHandle;
    return { keyHandle, touch, counter };
  }

  private async signWithAny(candidates: SignCandidate[], clientData: string) {
    const challengeParam = sha256(clientData);
    for (const candidate of candidates) {
      let handle: Uint8Array;
      try {
        handle = websafeDecode(candidate.keyHandle, 'registeredKeys[].keyHandle');
      } catch {
        continue;
      }
      if (handle.length < 1 || handle.length > 255) continue;
      try {
        const signatureData = await this.options.device.authenticate(challengeParam,
          sha256(candidate.appId), handle, this.touch('authenticate'));
        return { candidate, signatureData };
      } catch (error) {
        if (error instanceof ApduError && NOT_THIS_KEY.has(error.sw)) continue;
        throw error;
      }
    }
    throw new ExchangeFailure('authenticate', 'DEVICE_INELIGIBLE',
      `the key holds none of the ${candidates.length} key handle(s) the server offered`);
  }
}

/** What {@link runClient} found. */
export interface ClientResult {
  server: string;
  username: string;
  appId: string;
  origin: string;
  registeredKeyHandle: string;
  verified: VerifyAnswer;
  steps: ClientStep[];
}

/**
 * One whole run: register a new key with the server, then authenticate with it. Throws as
 * {@link U2fClient}'s methods do.
 */
export async function runClient(options: ClientOptions): Promise<ClientResult> {
  const client = new U2fClient(options);
  const registeredKeyHandle = await client.register();
  const verified = await client.authenticate();
  return {
    server: options.server,
    username: client.username,
    appId: client.appId!,
    origin: client.origin!,
    registeredKeyHandle,
    verified,
    steps: client.steps,
  };
}
