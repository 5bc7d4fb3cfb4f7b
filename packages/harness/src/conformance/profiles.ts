/**
 * Conformance profiles: the six points where the public suites disagree (conformance
 * catalogue §1.11), each turned into an explicit choice instead of a guess. `spec` follows the
 * specifications (U2FHID v1.2, RAW v1.2, CTAP 2.0 §8.1) and accepts every answer they allow;
 * `google` matches google/u2f-ref-code HIDTest/U2FTest; `fido` matches the FIDO Alliance
 * conformance tools (HID-1, U2F-General-1, U2F-Register-1, U2F-Authenticate-1).
 */

/** How a key must treat INIT or traffic on a CID it never allocated (CH-04, CH-07). */
export type UnallocatedCidRule = 'accept' | 'either';

/** What INIT on another channel gets while a LOCK is held (CMD-06 vs CMD-07). */
export type InitUnderLockRule = 'succeeds' | 'busy';

/** Status words accepted for a truncated key handle with a consistent length (AU-06). */
export type TruncatedHandleRule = readonly number[];

/** The unsolicited MSG_TIMEOUT window for an incomplete message (TM-03, TM-06, CH-09/10). */
export interface TimeoutWindow {
  /** The error must not come before this many ms after the first packet. */
  readonly minMs: number;
  /** …and must have come by this many ms. */
  readonly maxMs: number;
  /**
   * Whether the error must arrive on its own. When false, a device that reports the timeout
   * only when the channel is next used (OpenSK) also passes.
   */
  readonly unsolicited: boolean;
}

/** VERSION encodings (AP-01 to AP-04) a key must accept. */
export type VersionForm = 'AP-01' | 'AP-02' | 'AP-03' | 'AP-04';

/** User-presence byte accepted under AUTHENTICATE P1 0x08 without a touch (AU-07). */
export type DontEnforceUpRule = readonly number[];

export interface Profile {
  readonly name: ProfileName;
  readonly description: string;
  /** §1.11 (1). */
  readonly unallocatedCid: UnallocatedCidRule;
  /** §1.11 (2). */
  readonly initUnderLock: InitUnderLockRule;
  /** §1.11 (3). */
  readonly truncatedHandle: TruncatedHandleRule;
  /** §1.11 (4). */
  readonly timeout: TimeoutWindow;
  /** §1.11 (5). */
  readonly versionForms: readonly VersionForm[];
  /** §1.11 (6). */
  readonly dontEnforceUp: DontEnforceUpRule;
}

export const PROFILE_NAMES = Object.freeze(['spec', 'google', 'fido'] as const);
export type ProfileName = (typeof PROFILE_NAMES)[number];

const SW_WRONG_LENGTH = 0x6700;
const SW_WRONG_DATA = 0x6a80;

export const PROFILES: Readonly<Record<ProfileName, Profile>> = Object.freeze({
  spec: Object.freeze({
    name: 'spec',
    description:
      'the specifications: every answer U2FHID v1.2 / RAW v1.2 / CTAP 2.0 §8.1 allow is accepted',
    // U2FHID v1.2 only defines INIT on the broadcast CID or on an allocated one; both
    // answering an unallocated CID and refusing it with INVALID_CHANNEL (OpenSK#399) conform.
    unallocatedCid: 'either',
    // U2FHID v1.2 §4.1.5: while a channel holds the lock every other channel gets BUSY.
    initUnderLock: 'busy',
    // RAW v1.2 §5: an unknown key handle is 6A80; libfido2 PR#819 notes 6700 is also read.
    truncatedHandle: Object.freeze([SW_WRONG_LENGTH, SW_WRONG_DATA]),
    // u2f_hid.h: U2FHID_TRANS_TIMEOUT 3000 ms; the frame timer is 500 ms.
    timeout: Object.freeze({ minMs: 450, maxMs: 3000, unsolicited: true }),
    // The catalogue recommends accepting all four encodings hosts are known to send.
    versionForms: Object.freeze(['AP-01', 'AP-02', 'AP-03', 'AP-04'] as const),
    // RAW v1.2 §5.4: bit 0 of the flags reports whether the user was present.
    dontEnforceUp: Object.freeze([0x00]),
  }),
  google: Object.freeze({
    name: 'google',
    description: 'google/u2f-ref-code HIDTest and U2FTest (test_InitOnNonBroadcastEchoesCID, …)',
    unallocatedCid: 'accept',
    initUnderLock: 'succeeds',
    truncatedHandle: Object.freeze([SW_WRONG_LENGTH]),
    timeout: Object.freeze({ minMs: 400, maxMs: 1000, unsolicited: true }),
    // U2FTest tries the ISO case 2E form first and falls back to Lc = 000000.
    versionForms: Object.freeze(['AP-01', 'AP-02'] as const),
    // U2FTest never sends P1 0x08; any presence byte is accepted.
    dontEnforceUp: Object.freeze([0x00, 0x01]),
  }),
  fido: Object.freeze({
    name: 'fido',
    description: 'FIDO Alliance conformance tools (HID-1, U2F-General-1/Register-1/Authenticate-1)',
    // The tools never send on an unallocated CID (F-2/F-3 use 0 and broadcast only).
    unallocatedCid: 'either',
    initUnderLock: 'busy',
    truncatedHandle: Object.freeze([SW_WRONG_DATA]),
    // The tools wait for the device's error with mocha timeouts; lazy reports pass.
    timeout: Object.freeze({ minMs: 450, maxMs: 3000, unsolicited: false }),
    // Tool versions sent AP-01, case 1 (v1.3.2, CTT#536) and short Le (v1.7.20, CTT#768).
    versionForms: Object.freeze(['AP-01', 'AP-03', 'AP-04'] as const),
    dontEnforceUp: Object.freeze([0x00]),
  }),
});

/** Whether `name` names a profile. */
export function isProfileName(name: string): name is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(name);
}

/** The profile called `name`. Throws RangeError naming the known profiles. */
export function profileNamed(name: string): Profile {
  if (!isProfileName(name)) {
    throw new RangeError(
      `conformance: unknown profile "${name}"; known: ${PROFILE_NAMES.join(', ')}`,
    );
  }
  return PROFILES[name];
}
