import { concatBytes } from './bytes.js';
import type { CryptoEngine } from './engine.js';
import { U2fError } from './errors.js';
import { nodeEngine } from './node-engine.js';

const REGISTER_PREFIX = new Uint8Array([0x00]);

/** The bytes the attestation key signs: `00‖appParam‖challengeParam‖keyHandle‖pubKey`. */
export function registrationSignedBytes(appParam: Uint8Array, challengeParam: Uint8Array,
  keyHandle: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return concatBytes(REGISTER_PREFIX, appParam, challengeParam, keyHandle, publicKey);
}

/** The bytes the user key signs: `appParam‖userPresence‖counter‖challengeParam`. */
export function authenticationSignedBytes(appParam: Uint8Array, flagsAndCounter: Uint8Array,
  challengeParam: Uint8Array): Uint8Array {
  return concatBytes(appParam, flagsAndCounter, challengeParam);
}

/** Inputs of the registration signature. */
export interface RegistrationSignatureInput {
  appParam: Uint8Array;
  challengeParam: Uint8Array;
  keyHandle: Uint8Array;
  publicKey: Uint8Array;
  /** The attestation certificate's public key as a 65-byte P-256 point. */
  attestationPoint: Uint8Array;
  signature: Uint8Array;
}

/**
 * Verifies the attestation signature over a registration (Raw Message Formats §4.3).
 *
 * @throws U2fError BAD_SIGNATURE when it does not verify.
 */
export function verifyRegistrationSignature(input: RegistrationSignatureInput,
  engine: CryptoEngine = nodeEngine): void {
  const message = registrationSignedBytes(input.appParam, input.challengeParam, input.keyHandle,
    input.publicKey);
  if (!engine.verifyP256(input.attestationPoint, message, input.signature)) {
    throw new U2fError('BAD_SIGNATURE', 'registrationData.signature: attestation signature ' +
      'does not verify with the certificate key', {
      field: 'registrationData.signature', expected: 'valid signature', actual: 'invalid' });
  }
}

/** Inputs of the authentication signature. */
export interface AuthenticationSignatureInput {
  appParam: Uint8Array;
  /** The flags byte and counter as received (5 bytes). */
  flagsAndCounter: Uint8Array;
  challengeParam: Uint8Array;
  /** The registered user public key, 65 bytes. */
  publicKey: Uint8Array;
  signature: Uint8Array;
}

/**
 * Verifies the user key's signature over an authentication (Raw Message Formats §5.4).
 *
 * @throws U2fError BAD_SIGNATURE when it does not verify.
 */
export function verifyAuthenticationSignature(input: AuthenticationSignatureInput,
  engine: CryptoEngine = nodeEngine): void {
  const message = authenticationSignedBytes(input.appParam, input.flagsAndCounter,
    input.challengeParam);
  if (!engine.verifyP256(input.publicKey, message, input.signature)) {
    throw new U2fError('BAD_SIGNATURE', 'signatureData.signature: signature does not verify ' +
      'with the registered public key', {
      field: 'signatureData.signature', expected: 'valid signature', actual: 'invalid' });
  }
}
