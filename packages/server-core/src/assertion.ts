import { websafeDecode } from './base64url.js';
import { describe } from './bytes.js';
import { checkCounter, COUNTER_POLICIES, type CounterPolicy,
  type CounterVerdict } from './counter.js';
import type { CryptoEngine } from './engine.js';
import { U2fError } from './errors.js';
import type { DeviceRegistration } from './messages.js';
import { USER_PRESENCE } from './signature-data.js';
import { verifyAuthenticationSignature, type AuthenticationSignatureInput } from './verify.js';

/**
 * The last steps of every assertion by a registered U2F key, whether it came through the U2F
 * JS API or WebAuthn's `appid` extension: the signature with the stored key, then user
 * presence, then the counter. Nothing given is changed; the result holds an updated copy.
 */

/** What an assertion must show beyond a good signature. */
export interface AssertionPolicy {
  /** Require the user-presence bit (default true); false for keys asked with P1 0x08. */
  requireUserPresence?: boolean;
  /** What a counter that did not go up means (default `strict`). */
  counterPolicy?: CounterPolicy;
}

/** A verified authentication. */
export interface AuthenticationResult {
  /** A copy of the matching registration with `counter` updated. */
  registration: DeviceRegistration;
  counter: number;
  /** The whole flags byte (bit 0 user presence). */
  userPresence: number;
  counterVerdict: CounterVerdict;
}

/**
 * The counter policy of the options, checked before any work.
 *
 * @throws RangeError for an unknown policy (caller misuse).
 */
export function counterPolicyOf(policy: AssertionPolicy): CounterPolicy {
  const value = policy.counterPolicy ?? 'strict';
  if (!COUNTER_POLICIES.includes(value)) {
    throw new RangeError(`counterPolicy: expected one of ${COUNTER_POLICIES.join(', ')}`);
  }
  return value;
}

/**
 * The last verified counter of a stored registration; undefined (or null) before first use.
 *
 * @throws U2fError BAD_REGISTRATION for anything but an integer 0..2^32-1: a counter kept as
 *   text, NaN or negative would silently switch the counter check off.
 */
export function storedCounter(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 &&
    value <= 0xffffffff) return value;
  throw new U2fError('BAD_REGISTRATION', `registration.counter: expected an integer ` +
    `0..4294967295 or nothing, got ${describe(value)}`, { field: 'registration.counter',
    expected: 'integer 0..4294967295', actual: describe(value) });
}

/**
 * Verifies the user key's signature with the registration's stored public key.
 *
 * @throws U2fError BAD_PUBLIC_KEY for a stored key that is not a P-256 point, BAD_SIGNATURE
 *   when the signature does not verify.
 */
export function verifyUserSignature(registration: DeviceRegistration,
  input: Omit<AuthenticationSignatureInput, 'publicKey'>, engine: CryptoEngine): void {
  const publicKey = decodePublicKey(registration.publicKey);
  try {
    verifyAuthenticationSignature({ ...input, publicKey }, engine);
  } catch (error) {
    // Checked only on failure: a valid signature proves the key is a good point.
    if (!engine.isValidPoint(publicKey)) {
      throw new U2fError('BAD_PUBLIC_KEY', 'registration.publicKey: not a point on P-256', {
        field: 'registration.publicKey', expected: 'P-256 point', actual: 'off the curve' });
    }
    throw error;
  }
}

/**
 * User presence, then the counter, of an assertion whose signature has been verified.
 *
 * @throws U2fError USER_NOT_PRESENT or COUNTER_NOT_INCREASED (carrying both counters).
 */
export function settleAssertion(registration: DeviceRegistration, previous: number | undefined,
  data: { userPresence: number; counter: number }, policy: AssertionPolicy):
  AuthenticationResult {
  if (policy.requireUserPresence !== false && (data.userPresence & USER_PRESENCE.TUP) === 0) {
    const flags = `0x${data.userPresence.toString(16).padStart(2, '0')}`;
    throw new U2fError('USER_NOT_PRESENT', `signatureData.userPresence: flags ${flags}, ` +
      'expected bit 0 (user presence) set', { field: 'signatureData.userPresence',
      expected: 'bit 0 set', actual: flags });
  }

  const counterVerdict = checkCounter(previous, data.counter, counterPolicyOf(policy));
  const counter = previous === undefined ? data.counter : Math.max(previous, data.counter);
  return {
    registration: { ...registration, counter },
    counter: data.counter,
    userPresence: data.userPresence,
    counterVerdict,
  };
}

function decodePublicKey(text: unknown): Uint8Array {
  const bytes = typeof text === 'string' ? tryDecode(text) : undefined;
  if (bytes === undefined || bytes.length !== 65 || bytes[0] !== 0x04) {
    throw new U2fError('BAD_PUBLIC_KEY', 'registration.publicKey: expected base64url of a ' +
      `65-byte uncompressed point, got ${bytes === undefined ? describe(text)
        : `${bytes.length} bytes`}`, { field: 'registration.publicKey',
      expected: '65-byte point',
      actual: bytes === undefined ? 'undecodable' : String(bytes.length) });
  }
  return bytes;
}

function tryDecode(text: string): Uint8Array | undefined {
  try {
    return websafeDecode(text, 'registration.publicKey');
  } catch {
    return undefined;
  }
}
