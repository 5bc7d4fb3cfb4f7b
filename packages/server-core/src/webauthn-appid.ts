import { cachedAppParam } from './app-param.js';
import { counterPolicyOf, settleAssertion, storedCounter, verifyUserSignature,
  type AssertionPolicy, type AuthenticationResult } from './assertion.js';
import { websafeDecode } from './base64url.js';
import { ByteReader, constantTimeEqual, toHex } from './bytes.js';
import type { CeremonyOptions } from './ceremony.js';
import { decodeClientJson, stringMember } from './client-data.js';
import { checkEcdsaDer } from './der.js';
import { U2fError } from './errors.js';
import { canonicalFacets, checkOrigin, defaultFacets } from './facets.js';
import { CHALLENGE_BOUNDS } from './limits.js';
import type { DeviceRegistration } from './messages.js';
import { nodeEngine } from './node-engine.js';

/** WebAuthn `authenticatorData` of a U2F key: rpIdHash(32) ‖ flags(1) ‖ signCount(4). */
export const U2F_AUTHENTICATOR_DATA = Object.freeze({
  RP_ID_HASH_LENGTH: 32,
  LENGTH: 37,
  /** clientDataJSON `type` of an assertion (WebAuthn §5.8.1). */
  TYPE_GET: 'webauthn.get',
} as const);

/** A WebAuthn assertion made by a U2F-registered key under the `appid` extension. */
export interface AppIdAssertion {
  /** The appId the key was registered under; the `appid` extension input. */
  appId: string;
  /** The stored U2F registration of the credential (keyHandle = credential id). */
  registration: DeviceRegistration;
  /** The challenge the relying party sent, base64url. */
  challenge: string;
  /** AuthenticatorAssertionResponse fields, as bytes or base64url. */
  authenticatorData: Uint8Array | string;
  clientDataJSON: Uint8Array | string;
  signature: Uint8Array | string;
}

/** Options of {@link verifyAppIdAssertion}. */
export type AppIdAssertionOptions = Omit<CeremonyOptions, 'challengeStore'> & AssertionPolicy;

/**
 * The WebAuthn `appid` bridge (server.md 5, 6): verifies an assertion by a key registered
 * through U2F, used from `navigator.credentials.get` with `extensions.appid`. A U2F key's
 * authenticatorData is appParam ‖ flags ‖ counter, so it signs the same bytes as a U2F
 * authentication with clientDataJSON in place of clientData. Checks, in order:
 * clientDataJSON (as strict as U2F clientData; `type` webauthn.get, challenge as bytes in
 * constant time, origin against the facets, default the appId's origin), authenticatorData
 * of exactly 37 bytes (a U2F key sends no extensions) with rpIdHash = SHA-256(appId), the
 * DER signature with the stored key, then user presence and the counter exactly as
 * completeAuthentication does. The caller's
 * WebAuthn library keeps the rest of its ceremony (credential lookup, extension output).
 *
 * @throws U2fError (BAD_BASE64, TOO_LARGE, CLIENT_DATA_INVALID, CLIENT_DATA_TYPE,
 *   CHALLENGE_MISMATCH, ORIGIN_NOT_ALLOWED, BAD_SIGNATURE_DATA, BAD_PUBLIC_KEY,
 *   BAD_REGISTRATION, BAD_SIGNATURE, USER_NOT_PRESENT, COUNTER_NOT_INCREASED);
 *   RangeError for an unknown counter policy.
 */
export function verifyAppIdAssertion(assertion: AppIdAssertion,
  options: AppIdAssertionOptions = {}): AuthenticationResult {
  counterPolicyOf(options);
  const engine = options.engine ?? nodeEngine;
  const previous = storedCounter(assertion.registration.counter);

  const clientDataJSON = bytesOf(assertion.clientDataJSON, 'clientDataJSON');
  options.trace?.('clientDataJSON', { hex: toHex(clientDataJSON) });
  const clientData = decodeClientJson(clientDataJSON, 'clientDataJSON');
  const type = stringMember(clientData, 'type', 'clientDataJSON');
  if (type !== U2F_AUTHENTICATOR_DATA.TYPE_GET) {
    throw new U2fError('CLIENT_DATA_TYPE', `clientDataJSON.type: expected ` +
      `"${U2F_AUTHENTICATOR_DATA.TYPE_GET}", got ${JSON.stringify(type.slice(0, 40))}`, {
      field: 'clientDataJSON.type', expected: U2F_AUTHENTICATOR_DATA.TYPE_GET, actual: type });
  }
  checkChallenge(stringMember(clientData, 'challenge', 'clientDataJSON'), assertion.challenge);
  checkOrigin(stringMember(clientData, 'origin', 'clientDataJSON'),
    canonicalFacets(options.facets ?? defaultFacets(assertion.appId)));

  const authenticatorData = bytesOf(assertion.authenticatorData, 'authenticatorData');
  options.trace?.('authenticatorData', { hex: toHex(authenticatorData) });
  const reader = new ByteReader(authenticatorData, 'authenticatorData', 'BAD_SIGNATURE_DATA');
  const rpIdHash = reader.take('rpIdHash', U2F_AUTHENTICATOR_DATA.RP_ID_HASH_LENGTH);
  const userPresence = reader.u8('flags');
  const counter = reader.u32('signCount');
  reader.end('signCount');
  const appParam = cachedAppParam(assertion.appId, engine);
  if (!constantTimeEqual(rpIdHash, appParam)) {
    throw new U2fError('BAD_SIGNATURE_DATA', 'authenticatorData.rpIdHash: expected SHA-256 of ' +
      `the appId ${JSON.stringify(assertion.appId)}, got ${toHex(rpIdHash)}`, {
      field: 'authenticatorData.rpIdHash', expected: toHex(appParam), actual: toHex(rpIdHash) });
  }

  const signature = bytesOf(assertion.signature, 'signature');
  checkEcdsaDer(signature, 'signature', 'BAD_SIGNATURE_DATA');
  verifyUserSignature(assertion.registration, {
    appParam,
    flagsAndCounter: authenticatorData.subarray(U2F_AUTHENTICATOR_DATA.RP_ID_HASH_LENGTH),
    challengeParam: engine.sha256(clientDataJSON),
    signature,
  }, engine);
  return settleAssertion(assertion.registration, previous, { userPresence, counter }, options);
}

function bytesOf(value: Uint8Array | string, field: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value !== 'string') {
    throw new TypeError(`verifyAppIdAssertion: ${field} must be bytes or base64url text`);
  }
  return websafeDecode(value, field);
}

function checkChallenge(received: string, sent: string): void {
  const expected = websafeDecode(sent, 'challenge');
  if (expected.length < CHALLENGE_BOUNDS.MIN || expected.length > CHALLENGE_BOUNDS.MAX) {
    throw new RangeError(`verifyAppIdAssertion: challenge of ${expected.length} bytes, expected ` +
      `${CHALLENGE_BOUNDS.MIN}..${CHALLENGE_BOUNDS.MAX}`);
  }
  if (!constantTimeEqual(websafeDecode(received, 'clientDataJSON.challenge'), expected)) {
    throw new U2fError('CHALLENGE_MISMATCH', `clientDataJSON.challenge: expected ${sent}, got ` +
      `${received.slice(0, 64)}`, { field: 'clientDataJSON.challenge', expected: sent,
      actual: received.slice(0, 64) });
  }
}
