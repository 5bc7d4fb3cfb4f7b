import { websafeDecode } from './base64url.js';
import type { ChallengeStore } from './challenge.js';
import { checkClientDataType, parseClientData, type ClientData,
  type ClientDataType } from './client-data.js';
import { constantTimeEqual, toHex } from './bytes.js';
import type { CryptoEngine } from './engine.js';
import { U2fError } from './errors.js';
import { canonicalFacets, checkOrigin, defaultFacets } from './facets.js';
import { CHALLENGE_BOUNDS } from './limits.js';

/**
 * Receives each message as it is checked: the step name and bytes in hex (clientData,
 * registrationData, signatureData). Never called with private keys; off unless given.
 */
export type TraceHook = (step: string, detail: Readonly<Record<string, string>>) => void;

/** Options both ceremonies share. */
export interface CeremonyOptions {
  /** Optional trace of the messages checked, for diagnostics (the library never prints). */
  trace?: TraceHook;
  /**
   * Allowed facets (origins). Default: the appId's own origin. Mandatory in effect: an
   * explicit empty list rejects every origin.
   */
  facets?: readonly string[];
  /** Makes challenges single-use and expiring. */
  challengeStore?: ChallengeStore;
  /** Verification engine; `nodeEngine` by default. */
  engine?: CryptoEngine;
}

/**
 * The clientData steps common to both ceremonies, in order: decode, `typ`, challenge (as
 * bytes, constant time), challenge store, origin.
 */
export function checkClientData(encoded: string, typ: ClientDataType, challenge: string,
  appId: string, options: CeremonyOptions): ClientData {
  const clientData = parseClientData(encoded);
  options.trace?.('clientData', { hex: toHex(clientData.bytes), typ: clientData.typ,
    origin: clientData.origin });
  checkClientDataType(clientData, typ);

  const expected = websafeDecode(challenge, 'request.challenge');
  if (expected.length < CHALLENGE_BOUNDS.MIN || expected.length > CHALLENGE_BOUNDS.MAX) {
    // An empty stored challenge would match an empty one in clientData.
    throw new U2fError('BAD_REQUEST', `request.challenge: ${expected.length} bytes, expected ` +
      `${CHALLENGE_BOUNDS.MIN}..${CHALLENGE_BOUNDS.MAX}`, { field: 'request.challenge',
      expected: `${CHALLENGE_BOUNDS.MIN}..${CHALLENGE_BOUNDS.MAX} bytes`,
      actual: `${expected.length} bytes` });
  }
  if (!constantTimeEqual(clientData.challengeBytes, expected)) {
    throw new U2fError('CHALLENGE_MISMATCH', `clientData.challenge: expected ${challenge}, got ` +
      `${clientData.challenge.slice(0, 64)}`, { field: 'clientData.challenge',
      expected: challenge, actual: clientData.challenge.slice(0, 64) });
  }

  if (options.challengeStore !== undefined && !options.challengeStore.consume(challenge)) {
    throw new U2fError('CHALLENGE_UNKNOWN', `clientData.challenge: ${challenge} was not issued, ` +
      'was already used or has expired', { field: 'clientData.challenge',
      expected: 'an issued, unused, unexpired challenge', actual: challenge });
  }

  const facets = canonicalFacets(options.facets ?? defaultFacets(appId));
  checkOrigin(clientData.origin, facets);
  return clientData;
}
