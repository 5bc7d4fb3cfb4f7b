import { cachedAppParam } from './app-param.js';
import { websafeDecode } from './base64url.js';
import { constantTimeEqual, describe, toHex } from './bytes.js';
import { makeChallenge, type ChallengeStore } from './challenge.js';
import { CLIENT_DATA_TYPE } from './client-data.js';
import { checkClientData, type CeremonyOptions } from './ceremony.js';
import { checkCounter, COUNTER_POLICIES, type CounterPolicy,
  type CounterVerdict } from './counter.js';
import { U2fError } from './errors.js';
import { asRecord, checkClientError, optionalString, parseJsonText, readResponse, requireString,
  responseString,
  type DeviceRegistration, type SignRequestMessage, type SignResponse } from './messages.js';
import { nodeEngine } from './node-engine.js';
import { keyData } from './registration.js';
import { REGISTRATION } from './registration-data.js';
import { parseSignatureData, USER_PRESENCE } from './signature-data.js';
import { verifyAuthenticationSignature } from './verify.js';

/** Options of {@link completeAuthentication}. */
export interface AuthenticationOptions extends CeremonyOptions {
  /** Require the user-presence bit (default true); false for keys asked with P1 0x08. */
  requireUserPresence?: boolean;
  /** What a counter that did not go up means (default `strict`). */
  counterPolicy?: CounterPolicy;
  /** The stored registrations, when not given as the third argument (issue 3's shape). */
  registrations?: DeviceRegistration[];
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
  const policy = options.counterPolicy ?? 'strict';
  if (!COUNTER_POLICIES.includes(policy)) {
    throw new RangeError(`counterPolicy: expected one of ${COUNTER_POLICIES.join(', ')}`);
  }
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

  const publicKey = decodePublicKey(registration.publicKey);
  const signatureData = websafeDecode(signatureDataText, 'response.signatureData');
  options.trace?.('signatureData', { hex: toHex(signatureData), keyHandle: keyHandleText });
  const data = parseSignatureData(signatureData);
  try {
    verifyAuthenticationSignature({
      appParam: cachedAppParam(appId, engine),
      flagsAndCounter: data.flagsAndCounter,
      challengeParam: engine.sha256(clientData.bytes),
      publicKey,
      signature: data.signature,
    }, engine);
  } catch (error) {
    // Checked only on failure: a valid signature proves the key is a good point.
    if (!engine.isValidPoint(publicKey)) {
      throw new U2fError('BAD_PUBLIC_KEY', 'registration.publicKey: not a point on P-256', {
        field: 'registration.publicKey', expected: 'P-256 point', actual: 'off the curve' });
    }
    throw error;
  }

  if (options.requireUserPresence !== false && (data.userPresence & USER_PRESENCE.TUP) === 0) {
    const flags = `0x${data.userPresence.toString(16).padStart(2, '0')}`;
    throw new U2fError('USER_NOT_PRESENT', `signatureData.userPresence: flags ${flags}, ` +
      'expected bit 0 (user presence) set', { field: 'signatureData.userPresence',
      expected: 'bit 0 set', actual: flags });
  }

  const counterVerdict = checkCounter(previous, data.counter, policy);
  const counter = previous === undefined ? data.counter : Math.max(previous, data.counter);
  return {
    registration: { ...registration, counter },
    counter: data.counter,
    userPresence: data.userPresence,
    counterVerdict,
  };
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

/** The last verified counter of a stored registration; undefined (or null) before first use. */
function storedCounter(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 &&
    value <= 0xffffffff) return value;
  // A counter kept as text, NaN or negative would silently switch the counter check off.
  throw new U2fError('BAD_REGISTRATION', `registration.counter: expected an integer ` +
    `0..4294967295 or nothing, got ${describe(value)}`, { field: 'registration.counter',
    expected: 'integer 0..4294967295', actual: describe(value) });
}

function unknownKeyHandle(where: string): U2fError {
  return new U2fError('UNKNOWN_KEY_HANDLE', `response.keyHandle: not among the keys of ${where}`,
    { field: 'response.keyHandle', expected: `a key handle of ${where}`, actual: 'unknown' });
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
