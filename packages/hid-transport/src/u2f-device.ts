import { type Apdu, type ApduEncoding, encodeApdu, parseApduResponse } from './apdu.js';
import type { CtapHidChannel, TransactionOptions } from './channel.js';
import { AUTH_P1, CTAPHID, SW, U2F_INS } from './constants.js';
import { ApduError } from './errors.js';
import { type TouchOptions, untilTouched } from './touch.js';

export interface U2fDeviceOptions {
  /** APDU encoding for every request. Default 'extended'. */
  apduEncoding?: ApduEncoding;
}

export interface RegisterOptions extends TouchOptions {
  /** REGISTER P1: 0x03 (the default, as most hosts send) or 0x00 (python-fido2, libfido2). */
  p1?: number;
}

export interface AuthenticateOptions extends TouchOptions {
  /** AUTH_P1: 0x03 enforce presence (default), 0x07 check only, 0x08 don't enforce. */
  p1?: number;
}

const PARAM_SIZE = 32;

function checkParam(name: string, value: Uint8Array): void {
  if (!(value instanceof Uint8Array) || value.length !== PARAM_SIZE) {
    const got = value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
    throw new RangeError(`u2f: ${name} must be ${PARAM_SIZE} bytes, got ${got}`);
  }
}

/**
 * U2F commands (Raw Message Formats v1.2) over a CTAPHID channel: each request is an APDU
 * in a MSG (0x83) transaction. Requests needing a touch are re-sent while the key answers
 * 0x6985.
 */
export class U2fDevice {
  readonly channel: CtapHidChannel;
  readonly apduEncoding: ApduEncoding;

  constructor(channel: CtapHidChannel, options: U2fDeviceOptions = {}) {
    this.channel = channel;
    this.apduEncoding = options.apduEncoding ?? 'extended';
    if (this.apduEncoding !== 'extended' && this.apduEncoding !== 'short') {
      throw new RangeError(`u2f: apduEncoding must be 'extended' or 'short'`);
    }
  }

  /**
   * Sends one APDU and returns data and status word without judging the status. Throws
   * RangeError for a bad APDU, CtapHidError / TransportError from the channel.
   */
  async sendApdu(
    apdu: Apdu,
    options: TransactionOptions = {},
  ): Promise<{ data: Uint8Array; sw: number }> {
    const request = encodeApdu(apdu, this.apduEncoding);
    const reply = await this.channel.transaction(CTAPHID.MSG, request, options);
    return parseApduResponse(reply);
  }

  /**
   * VERSION (RAW §6): the protocol version string, "U2F_V2". A key that answers the ISO
   * 7-byte form with 0x6700 is asked again in the 9-byte form python-fido2 and u2flib send
   * (`00 03 00 00 00 00 00 00 00`, authenticator-rs#190). Throws ApduError unless 9000.
   */
  async version(options: TransactionOptions = {}): Promise<string> {
    let { data, sw } = await this.sendApdu({ ins: U2F_INS.VERSION }, options);
    if (sw === SW.WRONG_LENGTH && this.apduEncoding === 'extended') {
      const legacy = Uint8Array.of(0x00, U2F_INS.VERSION, 0, 0, 0, 0, 0, 0, 0);
      ({ data, sw } = parseApduResponse(
        await this.channel.transaction(CTAPHID.MSG, legacy, options),
      ));
    }
    if (sw !== SW.NO_ERROR) throw new ApduError(sw);
    return new TextDecoder().decode(data);
  }

  /**
   * REGISTER (RAW §4): waits for a touch, re-sending every pollIntervalMs while the key
   * answers 0x6985. Returns registrationData without the status word. Throws RangeError for
   * parameters that are not 32 bytes, ApduError for another status word,
   * TransportError('timeout' | 'aborted') and the channel's errors.
   */
  async register(
    challengeParam: Uint8Array,
    appParam: Uint8Array,
    options: RegisterOptions = {},
  ): Promise<Uint8Array> {
    checkParam('challengeParam', challengeParam);
    checkParam('appParam', appParam);
    const data = new Uint8Array(2 * PARAM_SIZE);
    data.set(challengeParam, 0);
    data.set(appParam, PARAM_SIZE);
    const apdu = { ins: U2F_INS.REGISTER, p1: options.p1 ?? 0x03, data };

    return untilTouched(
      'u2f REGISTER',
      (timeoutMs) => this.sendApdu(apdu, { timeoutMs, ...signalOf(options) }),
      options,
    );
  }

  /**
   * AUTHENTICATE (RAW §5) with control byte `p1`. With 0x03 (default) and 0x08 it waits for
   * a touch while the key answers 0x6985 and returns signatureData. With 0x07 (check only)
   * it sends once: a key holding the handle answers 0x6985, thrown as ApduError(0x6985);
   * 0x6a80 / 0x6700 mean "not this key". Throws RangeError for bad parameters or a key
   * handle outside 1..255 bytes, ApduError, TransportError, CtapHidError.
   */
  async authenticate(
    challengeParam: Uint8Array,
    appParam: Uint8Array,
    keyHandle: Uint8Array,
    options: AuthenticateOptions = {},
  ): Promise<Uint8Array> {
    checkParam('challengeParam', challengeParam);
    checkParam('appParam', appParam);
    if (!(keyHandle instanceof Uint8Array) || keyHandle.length < 1 || keyHandle.length > 255) {
      throw new RangeError(`u2f: keyHandle must be 1..255 bytes`);
    }
    const p1 = options.p1 ?? AUTH_P1.ENFORCE_USER_PRESENCE;
    const data = new Uint8Array(2 * PARAM_SIZE + 1 + keyHandle.length);
    data.set(challengeParam, 0);
    data.set(appParam, PARAM_SIZE);
    data[2 * PARAM_SIZE] = keyHandle.length;
    data.set(keyHandle, 2 * PARAM_SIZE + 1);
    const apdu = { ins: U2F_INS.AUTHENTICATE, p1, data };

    if (p1 === AUTH_P1.CHECK_ONLY) {
      const transaction: TransactionOptions = signalOf(options);
      if (options.timeoutMs !== undefined) transaction.timeoutMs = options.timeoutMs;
      const reply = await this.sendApdu(apdu, transaction);
      if (reply.sw !== SW.NO_ERROR) throw new ApduError(reply.sw);
      return reply.data;
    }

    return untilTouched(
      'u2f AUTHENTICATE',
      (timeoutMs) => this.sendApdu(apdu, { timeoutMs, ...signalOf(options) }),
      options,
    );
  }
}

function signalOf(options: { signal?: AbortSignal }): TransactionOptions {
  return options.signal ? { signal: options.signal } : {};
}
