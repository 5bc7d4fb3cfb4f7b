/**
 * Conformance profiles (conformance.md §1.11): where the public suites disagree, the key
 * behaves as the chosen profile expects.
 * - `spec`: the U2F HID v1.2 reading. Traffic on never-allocated channels is served (the
 *   spec only reserves 0 and broadcast); while a LOCK is held, INIT on another existing
 *   channel gets CHANNEL_BUSY like every other command; an unknown handle is 6A80.
 * - `google`: Google u2f-ref-code HIDTest/U2FTest. INIT under a lock succeeds (CMD-06); a
 *   truncated key handle is 6700 (AU-06).
 * - `fido`: the FIDO Alliance conformance tools. INIT under a lock is BUSY (CMD-07).
 * - `ctap-strict`: CTAP 2.x as OpenSK reads it: never-allocated channels get INVALID_CHANNEL
 *   (CH-04, CH-07; OpenSK#399).
 * Broadcast INIT (channel allocation) is answered under a lock in every profile.
 */
export interface Profile {
  readonly name: string;
  readonly unallocatedChannel: 'serve' | 'invalid-channel';
  readonly initUnderLock: 'allow' | 'busy';
  readonly truncatedKeyHandle: 'wrong-data' | 'wrong-length';
}

export const PROFILES = Object.freeze({
  spec: {
    name: 'spec',
    unallocatedChannel: 'serve',
    initUnderLock: 'busy',
    truncatedKeyHandle: 'wrong-data',
  },
  google: {
    name: 'google',
    unallocatedChannel: 'serve',
    initUnderLock: 'allow',
    truncatedKeyHandle: 'wrong-length',
  },
  fido: {
    name: 'fido',
    unallocatedChannel: 'serve',
    initUnderLock: 'busy',
    truncatedKeyHandle: 'wrong-data',
  },
  'ctap-strict': {
    name: 'ctap-strict',
    unallocatedChannel: 'invalid-channel',
    initUnderLock: 'busy',
    truncatedKeyHandle: 'wrong-data',
  },
} as const satisfies Record<string, Profile>);

export type ProfileName = keyof typeof PROFILES;

/** The profile called `name`. Throws RangeError naming the known profiles otherwise. */
export function getProfile(name: string): Profile {
  if (!Object.hasOwn(PROFILES, name)) {
    throw new RangeError(
      `profile: unknown profile "${name}"; known profiles: ${Object.keys(PROFILES).join(', ')}`,
    );
  }
  return PROFILES[name as ProfileName];
}
