import { verifyAttestation, type AttestationOptions,
  type AttestationVerdict } from './attestation/verify-attestation.js';
import { parseAttestationCertificate,
  type AttestationCertificate } from './attestation/certificate.js';
import type { TrustStore } from './attestation/trust-store.js';
import { websafeDecode, websafeEncode } from './base64url.js';
import { describe, toHex } from './bytes.js';
import { cachedAppParam } from './app-param.js';
import { makeChallenge, type ChallengeStore } from './challenge.js';
import { CLIENT_DATA_TYPE } from './client-data.js';
import { checkClientData, type CeremonyOptions } from './ceremony.js';
import { U2fError } from './errors.js';
import { asRecord, checkClientError, optionalString, parseJsonText, readRegisteredKeys,
  readResponse, requireString, responseString, U2F_V2, type DeviceRegistration, type RegisteredKey,
  type RegisterRequestMessage, type RegisterResponse } from './messages.js';
import { nodeEngine } from './node-engine.js';
import { parseRegistrationData } from './registration-data.js';
import { verifyRegistrationSignature } from './verify.js';

/** Options of {@link completeRegistration}. */
export interface RegistrationOptions extends CeremonyOptions {
  /** Fail with ATTESTATION_UNTRUSTED unless the attestation is trusted (default false). */
  requireTrustedAttestation?: boolean;
  /** Roots and metadata for the attestation verdict (default: Yubico's U2F root). */
  trustStore?: TrustStore;
  /** Check certificate validity dates (default false). */
  checkDates?: boolean;
  /** The time for date checks. */
  now?: Date;
}

/**
 * The attestation certificate as the result reports it: the plain fields of the parsed
 * certificate, as copies the caller may keep.
 */
export type RegistrationCertificate = Pick<AttestationCertificate, 'der' | 'received' | 'fixed' |
  'subject' | 'issuer' | 'serialNumber' | 'fingerprint' | 'notBefore' | 'notAfter' |
  'transports'>;

/** A verified registration. */
export interface RegistrationResult {
  registration: DeviceRegistration;
  certificate: RegistrationCertificate;
  attestation: AttestationVerdict;
  keyHandle: Uint8Array;
  publicKey: Uint8Array;
  /** The origin the client reported in clientData. */
  origin: string;
}

/**
 * A JS API v1.1 registration request with a fresh 32-byte challenge (or the one given).
 * `registeredKeys` may be full DeviceRegistrations; only key data goes to the client.
 *
 * @throws TypeError for a non-string appId or a bad challenge type.
 */
export function beginRegistration(o: { appId: string; registeredKeys?: RegisteredKey[];
  challenge?: string | Uint8Array; challengeStore?: ChallengeStore }): RegisterRequestMessage {
  if (typeof o?.appId !== 'string') {
    throw new TypeError('beginRegistration: appId must be a string');
  }
  const challenge = makeChallenge(o.challenge);
  o.challengeStore?.issue(challenge);
  return {
    appId: o.appId,
    registerRequests: [{ version: U2F_V2, challenge }],
    registeredKeys: (o.registeredKeys ?? []).map(keyData),
  };
}

/** The part of a registered key the client may see (never the public key or counter). */
export function keyData(key: RegisteredKey | DeviceRegistration): RegisteredKey {
  const out: RegisteredKey = { version: key.version, keyHandle: key.keyHandle };
  if (typeof key.appId === 'string') out.appId = key.appId;
  if (Array.isArray(key.transports)) out.transports = [...key.transports];
  return out;
}

/**
 * Verifies a registration response against the request it answers: client error, clientData
 * (typ, challenge, origin), registration data layout, user key on the curve, attestation
 * signature, then the attestation verdict.
 *
 * @throws U2fError with a stable code for anything malformed or rejected (CLIENT_ERROR,
 *   BAD_BASE64, CLIENT_DATA_TYPE, CHALLENGE_MISMATCH, ORIGIN_NOT_ALLOWED,
 *   BAD_REGISTRATION_DATA, BAD_PUBLIC_KEY, BAD_CERTIFICATE, BAD_SIGNATURE,
 *   ATTESTATION_UNTRUSTED, ...); TypeError for misused options.
 */
export function completeRegistration(request: RegisterRequestMessage | string | object,
  response: RegisterResponse | string, options: RegistrationOptions = {}): RegistrationResult {
  const engine = options.engine ?? nodeEngine;
  const { appId, challenge, version } = readRegisterRequest(request);

  const res = readResponse(response);
  checkClientError(res, 'response');
  const registrationDataText = responseString(res, 'registrationData');
  const clientDataText = responseString(res, 'clientData');

  const clientData = checkClientData(clientDataText, CLIENT_DATA_TYPE.REGISTER, challenge, appId,
    options);

  const registrationData = websafeDecode(registrationDataText, 'response.registrationData');
  options.trace?.('registrationData', { hex: toHex(registrationData) });
  const data = parseRegistrationData(registrationData);
  if (!engine.isValidPoint(data.publicKey)) {
    throw new U2fError('BAD_PUBLIC_KEY', 'registrationData.publicKey: not a point on P-256',
      { field: 'registrationData.publicKey', expected: 'P-256 point', actual: 'off the curve' });
  }

  const cert = parseAttestationCertificate(data.certificate);
  if (cert.publicKeyPoint === undefined) {
    throw new U2fError('BAD_CERTIFICATE', 'certificate: attestation key is not ECDSA P-256',
      { field: 'certificate.publicKey', expected: 'P-256', actual: 'other key type' });
  }

  verifyRegistrationSignature({
    appParam: cachedAppParam(appId, engine),
    challengeParam: engine.sha256(clientData.bytes),
    keyHandle: data.keyHandle,
    publicKey: data.publicKey,
    attestationPoint: cert.publicKeyPoint,
    signature: data.signature,
  }, engine);

  const attestationOptions: AttestationOptions = { checkDates: options.checkDates === true };
  if (options.trustStore !== undefined) attestationOptions.trustStore = options.trustStore;
  if (options.now !== undefined) attestationOptions.now = options.now;
  const attestation = verifyAttestation(cert, attestationOptions);
  if (options.requireTrustedAttestation === true && !attestation.trusted) {
    const why = attestation.reasons.join(', ') || 'untrusted';
    throw new U2fError('ATTESTATION_UNTRUSTED', `certificate: attestation not trusted (${why}), ` +
      `issuer ${JSON.stringify(cert.issuer)}`, { field: 'certificate', expected: 'trusted',
      actual: why });
  }

  const keyHandle = new Uint8Array(data.keyHandle);
  const publicKey = new Uint8Array(data.publicKey);
  return {
    registration: {
      version,
      keyHandle: websafeEncode(keyHandle),
      publicKey: websafeEncode(publicKey),
      appId,
      transports: cert.transports === null ? null : [...cert.transports],
    },
    certificate: {
      der: new Uint8Array(cert.der),
      received: new Uint8Array(cert.received),
      fixed: cert.fixed,
      subject: cert.subject,
      issuer: cert.issuer,
      serialNumber: cert.serialNumber,
      fingerprint: cert.fingerprint,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      transports: cert.transports === null ? null : [...cert.transports],
    },
    attestation,
    keyHandle,
    publicKey,
    origin: clientData.origin,
  };
}

/**
 * The appId and challenge of a stored registration request in any accepted shape: v1.1
 * `{appId, registerRequests, registeredKeys}`, 4.x `{registerRequests, authenticateRequests}`,
 * v1.0 `{version, challenge, appId}` or a list of those.
 */
function readRegisterRequest(request: unknown): { appId: string; challenge: string;
  version: string } {
  const parsed = parseJsonText(request, 'request');
  let top: Record<string, unknown> = {};
  let candidates: unknown[];
  if (Array.isArray(parsed)) {
    candidates = parsed;
  } else {
    top = asRecord(parsed, 'request', 'BAD_REQUEST');
    candidates = Array.isArray(top['registerRequests']) ? top['registerRequests'] : [top];
    if (top['registeredKeys'] !== undefined) readRegisteredKeys(top['registeredKeys'],
      'request.registeredKeys');
  }

  const entries = candidates.map((c, i) => asRecord(c, `request.registerRequests[${i}]`,
    'BAD_REQUEST'));
  const chosen = entries.find((e) => (e['version'] ?? U2F_V2) === U2F_V2);
  if (chosen === undefined) {
    throw new U2fError('BAD_REQUEST', `request.registerRequests: no request for version ${U2F_V2}`,
      { field: 'request.registerRequests', expected: U2F_V2, actual: describe(
        entries.map((e) => e['version'])) });
  }

  const challenge = requireString(chosen, 'challenge', 'request.registerRequests[]',
    'BAD_REQUEST');
  const appId = optionalString(top, 'appId', 'request', 'BAD_REQUEST') ??
    requireString(chosen, 'appId', 'request.registerRequests[]', 'BAD_REQUEST');
  return { appId, challenge, version: U2F_V2 };
}
