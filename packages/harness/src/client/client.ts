import {
  ApduError,
  CtapHidError,
  SW,
  TransportError,
  type U2fDevice,
} from '@keybench/hid-transport';
import { parseRegistrationData, U2fError, websafeDecode } from '@keybench/server-core';

import { buildClientData, CLIENT_DATA_TYP, sha256, websafe } from '../client-data.js';
import { DeviceError } from '../errors.js';
import { ExchangeFailure, untilTouchedOrFail } from '../exchange.js';
import { callServer, type HttpCall } from './http.js';
import {
  readEnrollAnswer,
  readSignAnswer,
  readVerifyAnswer,
  type SignCandidate,
  type VerifyAnswer,
} from './server-answers.js';

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

/** Status words meaning "this key does not hold that handle": try the next one. */
const NOT_THIS_KEY: ReadonlySet<number> = new Set([SW.WRONG_DATA, SW.WRONG_LENGTH]);

const short = (text: string) => `${text.slice(0, 12)}…`;

/** A wrong answer is a failed step (exit 1); a key that cannot be reached, exit 2. */
function classify(step: ClientStepName, error: unknown): Error {
  if (error instanceof ExchangeFailure || error instanceof DeviceError) return error;
  if (error instanceof U2fError) {
    return new ExchangeFailure(step, error.code, error.message, { cause: error });
  }
  if (error instanceof ApduError) {
    return new ExchangeFailure(step, `SW_${error.swName}`, error.message, { cause: error });
  }
  if (error instanceof CtapHidError || error instanceof TransportError) {
    return new DeviceError(`${step}: ${error.message}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

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
  /** Key handle registered by the last {@link register}; offered first when signing. */
  keyHandle: string | undefined;

  private readonly base: URL;
  private readonly options: ClientOptions;

  /** Throws TypeError when `server` is not an http(s) URL. */
  constructor(options: ClientOptions) {
    let base: URL;
    try {
      base = new URL(options.server);
    } catch {
      const example = 'e.g. http://localhost:8081';
      throw new TypeError(`client: server "${options.server}" is not a URL (${example})`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new TypeError(`client: server "${options.server}" must be an http:// or https:// URL`);
    }
    this.base = base.href.endsWith('/') ? base : new URL(`${base.href}/`);
    this.options = options;
    this.username = options.username ?? 'user';
  }

  /** enroll, register, bind: returns the new key handle (base64url). */
  async register(): Promise<string> {
    const { appId, challenge } = await this.step('enroll', async () => {
      const call = await this.get('enroll');
      const answer = readEnrollAnswer(call.body);
      return {
        ...answer,
        status: call.status,
        detail: `appId ${answer.appId}, challenge ${short(answer.challenge)}`,
      };
    });
    const origin = this.useAppId(appId);

    const clientData = buildClientData(CLIENT_DATA_TYP.REGISTER, challenge, origin);
    const { registrationData, keyHandle } = await this.step('register', async () => {
      const bytes = await this.touched('register', (touch) =>
        this.options.device.register(sha256(clientData), sha256(appId), touch),
      );
      const handle = websafe(parseRegistrationData(bytes).keyHandle);
      return {
        registrationData: bytes,
        keyHandle: handle,
        detail: `${bytes.length} bytes, key handle ${short(handle)}`,
      };
    });

    const response = {
      registrationData: websafe(registrationData),
      clientData: websafe(clientData),
      version: 'U2F_V2',
    };
    await this.step('bind', async () => {
      const call = await this.post('bind', response);
      // The flow answers a stored registration with `true`; anything else stored nothing.
      if (call.body !== true) {
        throw new ExchangeFailure(
          'bind',
          'BAD_SERVER_JSON',
          `POST /bind: expected true, got ${JSON.stringify(call.body).slice(0, 80)}`,
        );
      }
      return { status: call.status, detail: 'true' };
    });
    this.keyHandle = keyHandle;
    return keyHandle;
  }

  /** sign, authenticate, verify: returns what /verify answered. */
  async authenticate(): Promise<VerifyAnswer> {
    const { appId, challenge, candidates } = await this.step('sign', async () => {
      const call = await this.get('sign');
      const answer = readSignAnswer(call.body);
      return {
        ...answer,
        status: call.status,
        detail:
          `challenge ${short(answer.challenge)}, ` + `${answer.candidates.length} key(s) offered`,
      };
    });
    const origin = this.useAppId(appId);

    const clientData = buildClientData(CLIENT_DATA_TYP.SIGN, challenge, origin);
    const { candidate, signatureData } = await this.step('authenticate', async () => {
      const signed = await this.signWithAny(candidates, clientData);
      return {
        ...signed,
        detail:
          `key handle ${short(signed.candidate.keyHandle)}, ` +
          `${signed.signatureData.length} bytes of signature data`,
      };
    });

    const response = {
      keyHandle: candidate.keyHandle,
      signatureData: websafe(signatureData),
      clientData: websafe(clientData),
    };
    return this.step('verify', async () => {
      const call = await this.post('verify', response);
      const answer = readVerifyAnswer(call.body, candidate.keyHandle);
      return {
        ...answer,
        status: call.status,
        detail: `touch ${answer.touch}, counter ${answer.counter}`,
      };
    }).then(({ keyHandle, touch, counter }) => ({ keyHandle, touch, counter }));
  }

  /** Runs one step, timing it, and reports it once it is done. */
  private async step<T extends { detail: string; status?: number }>(
    step: ClientStepName,
    work: () => Promise<T>,
  ): Promise<T> {
    const start = performance.now();
    let value: T;
    try {
      value = await work();
    } catch (error) {
      throw classify(step, error);
    }

    const entry: ClientStep = { step, ms: performance.now() - start, detail: value.detail };
    if (value.status !== undefined) entry.status = value.status;
    this.steps.push(entry);
    this.options.onStep?.(entry);
    return value;
  }

  /** Remembers the appId and returns the clientData origin to use with it. */
  private useAppId(appId: string): string {
    this.appId = appId;
    this.origin = this.options.origin ?? originOf(appId) ?? this.base.origin;
    return this.origin;
  }

  /** A touch-gated device call; no touch in time is a failed step (NO_TOUCH), exit 1. */
  private touched<T>(
    step: ClientStepName,
    work: (touch: { timeoutMs: number; onTouchNeeded: () => void }) => Promise<T>,
  ): Promise<T> {
    const timeoutMs = this.options.touchTimeoutMs ?? 30_000;
    return untilTouchedOrFail(
      step,
      timeoutMs,
      (onTouchNeeded) => work({ timeoutMs, onTouchNeeded }),
      () => this.options.onTouchNeeded?.(step),
    );
  }

  private get(step: 'enroll' | 'sign'): Promise<HttpCall> {
    const url = new URL(step, this.base);
    url.searchParams.set('username', this.username);
    return callServer(step, 'GET', url, undefined, this.options.httpTimeoutMs ?? 10_000);
  }

  private post(step: 'bind' | 'verify', data: unknown): Promise<HttpCall> {
    const form = { username: this.username, data: JSON.stringify(data) };
    const timeoutMs = this.options.httpTimeoutMs ?? 10_000;
    return callServer(step, 'POST', new URL(step, this.base), form, timeoutMs);
  }

  /**
   * As a browser does, asks the key about each offered handle (ours first) until one is its
   * own; a key answering 6A80 or 6700 does not hold that handle.
   */
  private async signWithAny(candidates: SignCandidate[], clientData: string) {
    const ordered = [...candidates].sort(
      (a, b) => Number(b.keyHandle === this.keyHandle) - Number(a.keyHandle === this.keyHandle),
    );
    const challengeParam = sha256(clientData);

    for (const candidate of ordered) {
      const handle = decodeHandle(candidate.keyHandle);
      if (handle === undefined) continue;
      try {
        const signatureData = await this.touched('authenticate', (touch) =>
          this.options.device.authenticate(challengeParam, sha256(candidate.appId), handle, touch),
        );
        return { candidate, signatureData };
      } catch (error) {
        if (error instanceof ApduError && NOT_THIS_KEY.has(error.sw)) continue;
        throw error;
      }
    }
    throw new ExchangeFailure(
      'authenticate',
      'DEVICE_INELIGIBLE',
      `the key holds none of the ${candidates.length} key handle(s) the server offered`,
    );
  }
}

/** The origin of a URL appId; undefined for one that is not a URL (then the page's). */
function originOf(appId: string): string | undefined {
  try {
    const origin = new URL(appId).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/** A key handle a key command can carry (1..255 bytes), or undefined. */
function decodeHandle(keyHandle: string): Uint8Array | undefined {
  try {
    const bytes = websafeDecode(keyHandle, 'registeredKeys[].keyHandle');
    return bytes.length >= 1 && bytes.length <= 255 ? bytes : undefined;
  } catch {
    return undefined;
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
