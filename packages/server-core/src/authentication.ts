import { cachedAppParam } from './app-param.js';
import { counterPolicyOf, settleAssertion, storedCounter, verifyUserSignature,
  type AssertionPolicy, type AuthenticationResult } from './assertion.js';
import { websafeDecode } from './base64url.js';
import { constantTimeEqual, describe, toHex } from './bytes.js';
import { makeChallenge, type ChallengeStore } from './challenge.js';
import { CLIENT_DATA_TYPE } from './client-data.js';
import { checkClientData, type CeremonyOptions } from './ceremony.js';
import { U2fError } from './errors.js';
import { asRecord, checkClientError, optionalString, parseJsonText, readResponse, requireString,
  responseString,
  type DeviceRegistration, type SignRequestMessage, type SignResponse } from './messages.js';
import { nodeEngine } from './node-engine.js';
import { keyData } from './registration.js';
import { REGISTRATION } from './registration-data.js';
import { parseSignatureData } from './signature-data.js';

/** Options of {@link completeAuthentication}. */
export interface AuthenticationOptions extends CeremonyOptions, AssertionPolicy {
  /** The stored registrations, when not given as the third argument (issue 3's shape). */
  registrations?: DeviceRegistration[];
}

export type { AuthenticationResult };

/**
 * A JS API v1.1 sign request: one fresh 32-byte challenge (or the one given) for every key;
 * each key carries its registration's own appId.
 *
 * @throws TypeError for a non-string appId; RangeError without registrations.
 */
export function beginAuthentication(o: { appId: string; registrations: DeviceRegistration[];
  challenge?: string | Uint8Array; challengeStore?: ChallengeStore }): SignRequestMessage {
  if (typeof o?.appId !== 'string') {
    throw new TypeError('beginAuthentication: appId must be a string');
  }
  if (!Array.isArray(o.registrations) || o.registrations.length === 0) {
    throw new RangeError('beginAuthentication: at least one registration is needed');
  }
  const challenge = makeChallenge(o.challenge);
  o.challengeStore?.issue(challenge);
  return {
    appId: o.appId,
    challenge,
    registeredKeys: o.registrations.map((r) => {
      const key = keyData(r);
      key.appId = r.appId || o.appId;
      return key;
    }),
  };
}

/** One key the request allowed, with the challenge and appId it was asked under. */
interface SignCandidate {
  keyHandle: Uint8Array;
  challenge: string;
  appId: string;
}

/**
 * Verifies an authentication response: client error, key handle (one the request offered and
 * a registration holds), clientData (typ, challenge, origin), signature data layout, the
 * signature, then user presence and the counter. Inputs are not changed. The registrations
 * come as the third argument or as `options.registrations`:
 * `completeAuthentication(request, response, { registrations, facets })`.
 *
 * @throws U2fError with a stable code (CLIENT_ERROR, BAD_BASE64, UNKNOWN_KEY_HANDLE,
 *   CLIENT_DATA_TYPE, CHALLENGE_MISMATCH, ORIGIN_NOT_ALLOWED, BAD_SIGNATURE_DATA,
 *   BAD_PUBLIC_KEY, BAD_REGISTRATION, BAD_SIGNATURE, USER_NOT_PRESENT, COUNTER_NOT_INCREASED,
 *   TOO_LARGE, ...);
 *   TypeError/RangeError for misused options.
 */
export function completeAuthentication(request: SignRequestMessage | string | object,
  response: SignResponse | string, registrationsOrOptions: DeviceRegistration[] |
  AuthenticationOptions, maybeOptions: AuthenticationOptions = {}): AuthenticationResult {
  const byOptions = !Array.isArray(registrationsOrOptions);
  const options = byOptions ? registrationsOrOptions ?? {} : maybeOptions;
  const registrations = byOptions ? options.registrations : registrationsOrOptions;
  const engine = options.engine ?? nodeEngine;
  counterPolicyOf(options);
  if (!Array.isArray(registrations)) {
    throw new TypeError('completeAuthentication: registrations must be an array (third ' +
      'argument or options.registrations)');
  }

  const res = readResponse(response);
  checkClientError(res, 'response');
  const keyHandleText = responseString(res, 'keyHandle');
  const signatureDataText = responseString(res, 'signatureData');
  const clientDataText = responseString(res, 'clientData');
  const keyHandle = websafeDecode(keyHandleText, 'response.keyHandle');
  if (keyHandle.length < REGISTRATION.KEY_HANDLE_MIN ||
    keyHandle.length > REGISTRATION.KEY_HANDLE_MAX) {
    throw new U2fError('UNKNOWN_KEY_HANDLE', `response.keyHandle: ${keyHandle.length} bytes, ` +
      'expected 1..255', { field: 'response.keyHandle', expected: '1..255 bytes',
      actual: `${keyHandle.length} bytes` });
  }

  const signRequest = readSignRequest(request);
  const candidate = findCandidate(signRequest.candidates, keyHandle);
  const registration = findRegistration(registrations, keyHandle);
  const previous = storedCounter(registration.counter);
  // A registration's own appId overrides the request's (keys registered under an older appId).
  const appId = typeof registration.appId === 'string' && registration.appId !== ''
    ? registration.appId : candidate.appId;

  // Default facets follow the request's own appId: the site the user is on, even when a key
  // was registered under an older appId.
  const clientData = checkClientData(clientDataText, CLIENT_DATA_TYPE.SIGN, candidate.challenge,
    signRequest.appId ?? candidate.appId, options);

  const signatureData = websafeDecode(signatureDataText, 'response.signatureData');
  options.trace?.('signatureData', { hex: toHex(signatureData), keyHandle: keyHandleText });
  const data = parseSignatureData(signatureData);
  verifyUserSignature(registration, {
    appParam: cachedAppParam(appId, engine),
    flagsAndCounter: data.flagsAndCounter,
    challengeParam: engine.sha256(clientData.bytes),
    signature: data.signature,
  }, engine);
  return settleAssertion(registration, previous, data, options);
}

/**
 * The keys a stored sign request offered, in any accepted shape: v1.1
 * `{appId, challenge, registeredKeys}`, v1.0 per-key `[{version, challenge, keyHandle, appId}]`,
 * or 4.x `{authenticateRequests: [...]}`.
 */
function readSignRequest(request: unknown): { candidates: SignCandidate[]; appId?: string } {
  const parsed = parseJsonText(request, 'request');
  let top: Record<string, unknown> = {};
  let list: unknown;
  if (Array.isArray(parsed)) {
    list = parsed;
  } else {
    top = asRecord(parsed, 'request', 'BAD_REQUEST');
    list = top['registeredKeys'] ?? top['authenticateRequests'] ?? top['signRequests'];
  }
  if (!Array.isArray(list) || list.length === 0) {
    throw new U2fError('BAD_REQUEST', 'request.registeredKeys: expected a non-empty array, got ' +
      describe(list), { field: 'request.registeredKeys', expected: 'non-empty array',
      actual: describe(list) });
  }

  const topChallenge = optionalString(top, 'challenge', 'request', 'BAD_REQUEST');
  const topAppId = optionalString(top, 'appId', 'request', 'BAD_REQUEST');
  const candidates = list.map((entry, i) => {
    const what = `request.registeredKeys[${i}]`;
    const key = asRecord(entry, what, 'BAD_REQUEST');
    const challenge = optionalString(key, 'challenge', what, 'BAD_REQUEST') ?? topChallenge;
    const appId = optionalString(key, 'appId', what, 'BAD_REQUEST') ?? topAppId;
    if (challenge === undefined || appId === undefined) {
      throw new U2fError('BAD_REQUEST', `${what}: no challenge or appId for this key`, {
        field: what, expected: 'challenge and appId', actual: 'missing' });
    }
    const handle = requireString(key, 'keyHandle', what, 'BAD_REQUEST');
    return { keyHandle: websafeDecode(handle, `${what}.keyHandle`), challenge, appId };
  });
  return topAppId === undefined ? { candidates } : { candidates, appId: topAppId };
}

function findCandidate(candidates: SignCandidate[], keyHandle: Uint8Array): SignCandidate {
  let found: SignCandidate | undefined;
  for (const c of candidates) {
    if (constantTimeEqual(c.keyHandle, keyHandle) && found === undefined) found = c;
  }
  if (found === undefined) throw unknownKeyHandle('the request');
  return found;
}

function findRegistration(registrations: DeviceRegistration[], keyHandle: Uint8Array):
  DeviceRegistration {
  let found: DeviceRegistration | undefined;
  for (const r of registrations) {
    if (r === null || typeof r !== 'object' || typeof r.keyHandle !== 'string') continue;
    let stored: Uint8Array;
    try {
      stored = websafeDecode(r.keyHandle, 'registration.keyHandle');
    } catch {
      continue;
    }
    if (constantTimeEqual(stored, keyHandle) && found === undefined) found = r;
  }
  if (found === undefined) throw unknownKeyHandle('the registrations');
  return found;
}

function unknownKeyHandle(where: string): U2fError {
  return new U2fError('UNKNOWN_KEY_HANDLE', `response.keyHandle: not among the keys of ${where}`,
    { field: 'response.keyHandle', expected: `a key handle of ${where}`, actual: 'unknown' });
}
