import { AUTH_P1, SW, U2F_INS } from '@keybench/hid-transport';
import { sha256 } from '@noble/hashes/sha2.js';

import { parseApduBody, type CommandApdu } from './apdu.js';
import type { Attestation } from './attestation.js';
import { concat, sw, u32be } from './bytes.js';
import type { Counters } from './counter.js';
import type { FaultSet } from './faults.js';
import type { KeyHandles } from './key-handle.js';
import type { Presence } from './presence.js';
import type { Profile } from './profiles.js';
import { nonCanonicalDer, publicKeyOf, signDer } from './signature.js';

/** Status words this device adds to the shared table. */
export const DEVICE_SW = Object.freeze({
  /** ISO 7816 "not enough memory space": the counter is exhausted at 0xffffffff. */
  COUNTER_EXHAUSTED: 0x6a84,
  /** ISO 7816 "memory failure": the new counter could not be saved, so nothing is signed. */
  MEMORY_FAILURE: 0x6581,
} as const);

/** The reply to one APDU and a one-line summary for the log. */
export interface U2fReply {
  readonly response: Uint8Array;
  readonly summary: string;
}

const VERSION_STRING = new TextEncoder().encode('U2F_V2');
const hex2 = (n: number) => n.toString(16).padStart(2, '0');
const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/**
 * The U2F layer (Raw Message Formats v1.2): one request APDU in, response data + status word
 * out. Error replies carry the status word only (RAW §3, conformance ER-02).
 */
export class U2fDevice {
  private lastAppParam: Uint8Array = new Uint8Array(32);

  constructor(
    private readonly keyHandles: KeyHandles,
    private readonly attestation: Attestation,
    private readonly presence: Presence,
    private readonly counters: Counters,
    private readonly faults: FaultSet,
    private readonly profile: Profile,
  ) {}

  /** Processes one APDU. Never throws for any input bytes. */
  process(bytes: Uint8Array): U2fReply {
    if (bytes.length >= 1 && bytes[0] !== 0x00) {
      return this.status(SW.CLA_NOT_SUPPORTED, `cla=${hex2(bytes[0]!)}`);
    }
    if (bytes.length < 4) return this.status(SW.WRONG_LENGTH, `apdu of ${bytes.length} bytes`);

    const header = { cla: bytes[0]!, ins: bytes[1]!, p1: bytes[2]!, p2: bytes[3]! };
    const known = Object.values(U2F_INS) as number[];
    if (!known.includes(header.ins)) {
      return this.status(SW.INS_NOT_SUPPORTED, `ins=${hex2(header.ins)}`);
    }

    const parsed = parseApduBody(header, bytes.subarray(4), this.faults.has('short-apdu-only'));
    if ('sw' in parsed) return this.status(parsed.sw, `ins=${hex2(header.ins)} bad length`);

    const { apdu } = parsed;
    if (apdu.ins === U2F_INS.VERSION) return this.version(apdu);
    if (apdu.ins === U2F_INS.REGISTER) return this.register(apdu);
    return this.authenticate(apdu);
  }

  /** VERSION (RAW §6): no data allowed; "U2F_V2". */
  private version(apdu: CommandApdu): U2fReply {
    if (apdu.data.length !== 0) return this.status(SW.WRONG_LENGTH, 'VERSION with data');
    return this.ok(VERSION_STRING, `VERSION (${apdu.form})`);
  }

  /**
   * REGISTER (RAW §4): challengeParam(32) | appParam(32); P1 ignored (RG-06). Reply
   * `05 | publicKey(65) | L | keyHandle | certificate | signature` where the attestation
   * signature is over `00 | appParam | challengeParam | keyHandle | publicKey`.
   */
  private register(apdu: CommandApdu): U2fReply {
    if (apdu.data.length !== 64) {
      return this.status(SW.WRONG_LENGTH, `REGISTER with ${apdu.data.length} data bytes`);
    }
    if (!this.presence.present) return this.status(SW.CONDITIONS_NOT_SATISFIED, 'REGISTER');

    const challengeParam = apdu.data.subarray(0, 32);
    const appParam = apdu.data.subarray(32, 64);
    const { keyHandle, privateKey } = this.keyHandles.create(appParam);
    const publicKey = publicKeyOf(privateKey);

    const reserved = this.faults.strikes('bad-attestation-signature')
      ? new Uint8Array(0)
      : Uint8Array.of(0x00);
    const signed = concat(reserved, appParam, challengeParam, keyHandle, publicKey);
    const signature = this.mangle(signDer(this.attestation.privateKey, signed));

    this.presence.consume();
    this.lastAppParam = Uint8Array.from(appParam);
    const data = concat(
      Uint8Array.of(0x05),
      publicKey,
      Uint8Array.of(keyHandle.length),
      keyHandle,
      this.certificate(),
      signature,
    );
    return this.ok(data, `REGISTER kh=${keyHandle.length}B`);
  }

  /**
   * AUTHENTICATE (RAW §5): challengeParam(32) | appParam(32) | L | keyHandle. The handle is
   * judged before presence, so a foreign one gets 6A80 at once (AU-04). P1 07 answers 6985
   * for an own handle (AU-02); P1 08 signs without a touch, UP bit clear (AU-07). Reply
   * `flags | counter(4, BE) | signature` over `appParam | flags | counter | challengeParam`.
   */
  private authenticate(apdu: CommandApdu): U2fReply {
    const { data, p1 } = apdu;
    if (data.length < 65 || data.length !== 65 + data[64]!) {
      return this.status(SW.WRONG_LENGTH, `AUTHENTICATE with ${data.length} data bytes`);
    }
    const challengeParam = data.subarray(0, 32);
    const appParam = data.subarray(32, 64);
    const keyHandle = data.subarray(65);
    const name = `AUTHENTICATE p1=${hex2(p1)}`;

    const p1Known = p1 === AUTH_P1.ENFORCE_USER_PRESENCE || p1 === AUTH_P1.CHECK_ONLY ||
      p1 === AUTH_P1.DONT_ENFORCE_USER_PRESENCE;
    if (!p1Known) return this.status(SW.WRONG_DATA, `${name} (unknown control byte)`);

    const privateKey = this.keyHandles.open(appParam, keyHandle);
    if (!privateKey) return this.foreignHandle(name, keyHandle.length);
    if (p1 === AUTH_P1.CHECK_ONLY) return this.status(SW.CONDITIONS_NOT_SATISFIED, name);

    const touched = this.presence.present;
    if (p1 === AUTH_P1.ENFORCE_USER_PRESENCE && !touched) {
      return this.status(SW.CONDITIONS_NOT_SATISFIED, name);
    }

    const credentialId = Buffer.from(sha256(concat(appParam, keyHandle)).subarray(0, 16))
      .toString('hex');
    let counter: number | undefined;
    try {
      counter = this.counters.next(credentialId);
    } catch (error) {
      // A signature never leaves before its counter is on disk (issue 5, State).
      const reason = error instanceof Error ? error.message : String(error);
      return this.status(DEVICE_SW.MEMORY_FAILURE, `${name} (counter not saved: ${reason})`);
    }
    if (counter === undefined) return this.status(DEVICE_SW.COUNTER_EXHAUSTED, name);

    const userPresence = touched && !this.faults.strikes('presence-bit-clear') ? 0x01 : 0x00;
    const flags = Uint8Array.of(userPresence);
    const signedAppParam = this.faults.strikes('wrong-app-param') ? this.lastAppParam : appParam;
    const signed = this.faults.strikes('bad-assertion-signature')
      ? concat(challengeParam, flags, u32be(counter), signedAppParam)
      : concat(signedAppParam, flags, u32be(counter), challengeParam);
    const signature = this.mangle(signDer(privateKey, signed));

    // A touch that was reported is used up (also under P1 08, so it is never reported twice).
    if (touched) this.presence.consume();
    this.lastAppParam = Uint8Array.from(appParam);
    return this.ok(
      concat(flags, u32be(counter), signature),
      `${name} up=${userPresence} counter=${counter}`,
    );
  }

  /** A key handle that is not ours, or not for this appParam (AU-03..AU-06). */
  private foreignHandle(name: string, length: number): U2fReply {
    let status: number = SW.WRONG_DATA;
    if (this.profile.truncatedKeyHandle === 'wrong-length' &&
      length !== this.keyHandles.keyHandleLength) {
      status = SW.WRONG_LENGTH;
    }
    if (this.faults.has('foreign-handle-6700')) status = SW.WRONG_LENGTH;
    if (this.faults.has('foreign-handle-6984')) status = SW.INVALID_DATA;
    return this.status(status, `${name} (foreign key handle)`);
  }

  /** The certificate as sent, malformed when the attestation-cert-length fault is on. */
  private certificate(): Uint8Array {
    const certificate = Uint8Array.from(this.attestation.certificate);
    if (!this.faults.has('attestation-cert-length')) return certificate;

    // Outer SEQUENCE `30 8n <n length bytes>`: add one to the length, same number of bytes.
    const lengthBytes = certificate[1]! & 0x7f;
    let declared = 0;
    for (let i = 0; i < lengthBytes; i++) declared = declared * 256 + certificate[2 + i]!;
    declared += 1;
    for (let i = lengthBytes - 1; i >= 0; i--) {
      certificate[2 + i] = declared & 0xff;
      declared = Math.floor(declared / 256);
    }
    return certificate;
  }

  /** Signature faults that change the encoding, not the value. */
  private mangle(signature: Uint8Array): Uint8Array {
    let out = signature;
    if (this.faults.strikes('der-non-canonical')) out = nonCanonicalDer(out);
    const trailing = this.faults.value('signature-trailing-bytes');
    if (trailing !== undefined) out = concat(out, new Uint8Array(trailing));
    return out;
  }

  private ok(data: Uint8Array, summary: string): U2fReply {
    return { response: concat(data, sw(SW.NO_ERROR)), summary: `${summary} → 9000` };
  }

  private status(status: number, summary: string): U2fReply {
    return { response: sw(status), summary: `${summary} → ${hex4(status)}` };
  }
}
