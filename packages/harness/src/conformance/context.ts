import { createHash } from 'node:crypto';

import {
  AUTH_P1,
  CTAPHID,
  U2F_INS,
  toHex,
  type CtapHidChannel,
  type DeviceInfo,
  type U2fDevice,
} from '@keybench/hid-transport';
import {
  parseAttestationCertificate,
  parseRegistrationData,
  parseSignatureData,
  statusWordText,
  verifyAuthenticationSignature,
  verifyRegistrationSignature,
  type SignatureData,
} from './u2f-imports.js';

import type { PersonNeed } from './case.js';
import { ConformanceFailure, SkipCase } from './failure.js';
import type { PresenceDriver } from './presence.js';
import type { Profile } from './profiles.js';
import { RawLink } from './raw-link.js';

/** A key handle registered during the run, with what is needed to check its signatures. */
export interface Credential {
  readonly appParam: Uint8Array;
  readonly keyHandle: Uint8Array;
  /** The user public key, 65 bytes. */
  readonly publicKey: Uint8Array;
  /** The whole REGISTER response data. */
  readonly registrationData: Uint8Array;
}

/** A response APDU: data and status word. */
export interface ApduReply {
  readonly data: Uint8Array;
  readonly sw: number;
}

/** What a case talks to; replaced when the key is replugged. */
export interface Target {
  readonly channel: CtapHidChannel;
  readonly device: U2fDevice;
}

export interface ContextOptions {
  profile: Profile;
  presence: PresenceDriver;
  /** The live target (the runner swaps it after a replug). */
  target: () => Target;
  raw: () => RawLink;
  /** Reopens the key after presence.replug(). */
  reopen: () => Promise<void>;
  /** Deadline for requests that wait for a touch. */
  touchTimeoutMs: number;
  /** The run-wide registration shared by cases that only need some key handle. */
  sharedCredential: () => Promise<Credential>;
  /** The last counter seen per key handle (hex) during the run, shared by all cases. */
  counters: Map<string, number>;
}

export const sha256 = (input: Uint8Array | string) =>
  new Uint8Array(createHash('sha256').update(input).digest());

/** Application parameters of the run: the suite's own appId and a second one. */
export const APP_ID = 'https://keybench.example/conformance';
export const OTHER_APP_ID = 'https://other.keybench.example/conformance';

export const swHex = (sw: number) => sw.toString(16).padStart(4, '0');

/**
 * Everything a case needs: the key at three levels (raw frames, CTAPHID transactions, U2F
 * commands), the profile, user presence, and checks that throw ConformanceFailure with the
 * expectation and what came.
 */
export class TestContext {
  readonly profile: Profile;
  readonly presence: PresenceDriver;
  readonly metrics: Record<string, number | string> = {};
  readonly notes: string[] = [];
  private readonly options: ContextOptions;

  constructor(options: ContextOptions) {
    this.options = options;
    this.profile = options.profile;
    this.presence = options.presence;
  }

  get channel(): CtapHidChannel {
    return this.options.target().channel;
  }

  get device(): U2fDevice {
    return this.options.target().device;
  }

  get raw(): RawLink {
    return this.options.raw();
  }

  get info(): DeviceInfo {
    return this.channel.info;
  }

  /** Records a measurement shown with the result (latencies, counters). */
  metric(name: string, value: number | string): void {
    this.metrics[name] = typeof value === 'number' ? Math.round(value * 1000) / 1000 : value;
  }

  note(text: string): void {
    this.notes.push(text);
  }

  skip(reason: string): never {
    throw new SkipCase(reason);
  }

  fail(expected: string, actual: string): never {
    throw new ConformanceFailure(expected, actual);
  }

  /** Fails with `expected` / `actual()` unless `condition` holds. */
  check(condition: boolean, expected: string, actual: () => string): void {
    if (!condition) throw new ConformanceFailure(expected, actual());
  }

  /** Skips unless the person (or the harness) can supply `need`. */
  require(need: PersonNeed): void {
    const reason = this.presence.unavailable(need);
    if (reason) this.skip(reason);
  }

  /** Sends raw APDU bytes in one MSG transaction; returns data and status word. */
  async apdu(bytes: Uint8Array, timeoutMs = 5000): Promise<ApduReply> {
    const reply = await this.channel.transaction(CTAPHID.MSG, bytes, { timeoutMs });
    if (reply.length < 2) {
      this.fail(
        'a response APDU ending in a status word',
        `${reply.length} bytes: ${toHex(reply)}`,
      );
    }
    const sw = ((reply[reply.length - 2]! << 8) | reply[reply.length - 1]!) >>> 0;
    return { data: reply.subarray(0, reply.length - 2), sw };
  }

  /** Fails unless `reply` has one of `accepted` status words and, when not 9000, no data. */
  expectSw(reply: ApduReply, accepted: number | readonly number[], what: string): void {
    const list = typeof accepted === 'number' ? [accepted] : accepted;
    const wanted = list.map((sw) => `${swHex(sw)} (${statusWordText(sw)})`).join(' or ');
    this.check(list.includes(reply.sw), `${what}: ${wanted}`, () => describeApdu(reply));
    if (reply.sw !== 0x9000) {
      this.check(reply.data.length === 0, `${what}: ${wanted} with no data (ER-02)`, () =>
        describeApdu(reply),
      );
    }
  }

  /** A key handle registered once per run (for cases that only need some valid handle). */
  credential(): Promise<Credential> {
    return this.options.sharedCredential();
  }

  /**
   * REGISTER with a touch, and checks the response completely: RAW §4.3 layout, attestation
   * certificate, canonical DER and a signature that verifies. Fails naming what was wrong.
   */
  async register(what: string, options: { p1?: number; appParam?: Uint8Array } = {}) {
    const challengeParam = randomBytes(32);
    const appParam = options.appParam ?? sha256(APP_ID);
    await this.presence.touch(what);
    const registrationData = await expectAnswer(
      `${what}: 9000 with registration data (RAW §4.3) after a touch`,
      this.device.register(challengeParam, appParam, {
        timeoutMs: this.options.touchTimeoutMs,
        ...(options.p1 === undefined ? {} : { p1: options.p1 }),
      }),
    );
    return checkRegistration(registrationData, challengeParam, appParam);
  }

  /** One REGISTER attempt without waiting for a touch. */
  registerOnce(appParam = sha256(APP_ID), p1 = 0x03): Promise<ApduReply> {
    const data = concat(randomBytes(32), appParam);
    return this.device.sendApdu({ ins: U2F_INS.REGISTER, p1, data });
  }

  /** The AUTHENTICATE request body: challenge, application, L, key handle. */
  authData(challengeParam: Uint8Array, appParam: Uint8Array, keyHandle: Uint8Array) {
    return concat(challengeParam, appParam, Uint8Array.of(keyHandle.length), keyHandle);
  }

  /** One AUTHENTICATE attempt, no polling: what the key answered. */
  authenticateOnce(
    credential: Credential,
    p1: number,
    options: { keyHandle?: Uint8Array; appParam?: Uint8Array; challengeParam?: Uint8Array } = {},
  ): Promise<ApduReply> {
    const data = this.authData(
      options.challengeParam ?? randomBytes(32),
      options.appParam ?? credential.appParam,
      options.keyHandle ?? credential.keyHandle,
    );
    return this.device.sendApdu({ ins: U2F_INS.AUTHENTICATE, p1, data });
  }

  /**
   * AUTHENTICATE that must succeed: with P1 0x03 after a touch (polling 0x6985), with 0x08
   * without one. Checks the RAW §5.4 layout and the signature. Returns the parsed response.
   */
  async authenticate(
    credential: Credential,
    what: string,
    p1: number = AUTH_P1.ENFORCE_USER_PRESENCE,
  ): Promise<SignatureData> {
    const challengeParam = randomBytes(32);
    let data: Uint8Array;
    if (p1 === AUTH_P1.ENFORCE_USER_PRESENCE) {
      await this.presence.touch(what);
      data = await expectAnswer(
        `${what}: 9000 with signature data (RAW §5.4) after a touch`,
        this.device.authenticate(challengeParam, credential.appParam, credential.keyHandle, {
          timeoutMs: this.options.touchTimeoutMs,
        }),
      );
    } else {
      const reply = await this.authenticateOnce(credential, p1, { challengeParam });
      this.expectSw(reply, 0x9000, what);
      data = reply.data;
    }
    const signed = checkSignature(data, credential, challengeParam);
    this.checkCounter(credential, signed.counter);
    return signed;
  }

  /**
   * Every signature of a key handle during the run must carry a higher counter than the one
   * before (RAW §5.4); a repeat or a step back (regression, wrap) fails whichever case sees it.
   */
  checkCounter(credential: Credential, counter: number): void {
    const key = toHex(credential.keyHandle);
    const last = this.options.counters.get(key);
    this.options.counters.set(key, counter);
    if (last !== undefined) {
      this.check(
        counter > last,
        `a counter above ${last} (the last one seen for this handle)`,
        () => `${counter}`,
      );
    }
  }

  /** Unplugs and replugs (or restarts) the key, then opens it again. */
  async replug(what: string): Promise<void> {
    await this.presence.replug(what);
    await this.options.reopen();
  }
}

/**
 * The answer `request` resolves to; an error on the way (a status word other than 9000, a
 * timeout) fails with `expected` and the error as what came.
 */
async function expectAnswer<T>(expected: string, request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof ConformanceFailure) throw error;
    const actual = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new ConformanceFailure(expected, actual);
  }
}

/** Parses and verifies a REGISTER response; fails (ConformanceFailure) on any defect. */
export function checkRegistration(
  registrationData: Uint8Array,
  challengeParam: Uint8Array,
  appParam: Uint8Array,
): Credential {
  try {
    const parsed = parseRegistrationData(registrationData);
    const certificate = parseAttestationCertificate(parsed.certificate);
    if (!certificate.publicKeyPoint) {
      throw new ConformanceFailure('a P-256 attestation certificate', `key of another type`);
    }
    verifyRegistrationSignature({
      appParam,
      challengeParam,
      keyHandle: parsed.keyHandle,
      publicKey: parsed.publicKey,
      attestationPoint: certificate.publicKeyPoint,
      signature: parsed.signature,
    });
    return {
      appParam,
      keyHandle: Uint8Array.from(parsed.keyHandle),
      publicKey: Uint8Array.from(parsed.publicKey),
      registrationData,
    };
  } catch (error) {
    if (error instanceof ConformanceFailure) throw error;
    throw new ConformanceFailure(
      'registration data as RAW §4.3 lays it out, with a valid attestation signature',
      error instanceof Error ? error.message : String(error),
    );
  }
}

/** Parses and verifies an AUTHENTICATE response; fails (ConformanceFailure) on any defect. */
export function checkSignature(
  data: Uint8Array,
  credential: Credential,
  challengeParam: Uint8Array,
): SignatureData {
  try {
    const parsed = parseSignatureData(data);
    verifyAuthenticationSignature({
      appParam: credential.appParam,
      flagsAndCounter: parsed.flagsAndCounter,
      challengeParam,
      publicKey: credential.publicKey,
      signature: parsed.signature,
    });
    return parsed;
  } catch (error) {
    throw new ConformanceFailure(
      'signature data as RAW §5.4 lays it out, with a signature that verifies',
      error instanceof Error ? error.message : String(error),
    );
  }
}

export function describeApdu(reply: ApduReply): string {
  const data =
    reply.data.length === 0
      ? 'no data'
      : `${reply.data.length} data bytes ${toHex(reply.data.subarray(0, 16))}${reply.data.length > 16 ? '…' : ''}`;
  return `${swHex(reply.sw)} (${statusWordText(reply.sw)}), ${data}`;
}

export function randomBytes(length: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
