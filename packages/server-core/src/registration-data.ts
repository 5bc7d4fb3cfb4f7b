import { ByteReader } from './bytes.js';
import { checkEcdsaDer, DER_TAG, readDerLength } from './der.js';
import { U2fError } from './errors.js';
import { LIMITS } from './limits.js';

/** Registration response constants (Raw Message Formats §4.3). */
export const REGISTRATION = Object.freeze({
  RESERVED: 0x05,
  PUBLIC_KEY_LENGTH: 65,
  POINT_UNCOMPRESSED: 0x04,
  KEY_HANDLE_MIN: 1,
  KEY_HANDLE_MAX: 255,
} as const);

/** The fields of a registration response (views into the input bytes). */
export interface RegistrationData {
  /** The user public key, 65 bytes `04‖X‖Y`. */
  publicKey: Uint8Array;
  keyHandle: Uint8Array;
  /** The attestation certificate exactly as received (before any Yubico fix). */
  certificate: Uint8Array;
  /** The attestation signature, canonical DER. */
  signature: Uint8Array;
}

const CODE = 'BAD_REGISTRATION_DATA';

/**
 * Splits a registration response: reserved byte 0x05, 65-byte uncompressed point, key handle
 * of 1..255 bytes, certificate cut by its own DER length (short or long form; indefinite and
 * non-minimal lengths rejected; at most LIMITS.CERTIFICATE_BYTES), then exactly one canonical
 * DER signature. Whether the point is on the curve is checked by the verifier's engine.
 *
 * @throws U2fError BAD_REGISTRATION_DATA naming the field, expected and actual values;
 *   TOO_LARGE for an oversized certificate.
 */
export function parseRegistrationData(bytes: Uint8Array): RegistrationData {
  const reader = new ByteReader(bytes, 'registrationData', CODE);

  const reserved = reader.u8('reserved');
  if (reserved !== REGISTRATION.RESERVED) {
    throw new U2fError(CODE, `registrationData: reserved byte 0x${hex(reserved)}, expected 0x05`,
      { field: 'reserved', expected: '0x05', actual: `0x${hex(reserved)}` });
  }

  const publicKey = reader.take('publicKey', REGISTRATION.PUBLIC_KEY_LENGTH);
  if (publicKey[0] !== REGISTRATION.POINT_UNCOMPRESSED) {
    throw new U2fError(CODE, `registrationData: publicKey starts 0x${hex(publicKey[0] ?? 0)}, ` +
      `expected 0x04 (uncompressed point)`,
      { field: 'publicKey', expected: '0x04', actual: `0x${hex(publicKey[0] ?? 0)}` });
  }

  const keyHandleLength = reader.u8('keyHandleLength');
  if (keyHandleLength < REGISTRATION.KEY_HANDLE_MIN) {
    throw new U2fError(CODE, 'registrationData: keyHandleLength 0, expected 1..255',
      { field: 'keyHandleLength', expected: '1..255', actual: '0' });
  }
  const keyHandle = reader.take('keyHandle', keyHandleLength);

  const certificate = readCertificate(reader);
  // TODO(2026-12): a certificate chain after the leaf (u2f-ref-code PR #101) is rejected here
  // as a malformed signature; accept it once a key that sends one is on the bench to test.
  const signature = reader.rest();
  if (signature.length === 0) {
    throw new U2fError(CODE, 'registrationData: signature missing after the certificate',
      { field: 'signature', expected: 'DER signature', actual: '0 bytes' });
  }
  checkEcdsaDer(signature, 'signature', CODE);

  return { publicKey, keyHandle, certificate, signature };
}

/** Cuts the certificate by the length in its own DER header (server.md 2.2 step 7). */
function readCertificate(reader: ByteReader): Uint8Array {
  const start = reader.offset;
  const tag = reader.u8('certificate tag');
  if (tag !== DER_TAG.SEQUENCE) {
    throw new U2fError(CODE, `registrationData: certificate tag 0x${hex(tag)}, expected 0x30`,
      { field: 'certificate', expected: '0x30', actual: `0x${hex(tag)}` });
  }
  const length = readDerLength(reader, 'certificate', CODE);
  if (length > LIMITS.CERTIFICATE_BYTES) {
    throw new U2fError('TOO_LARGE', `registrationData: certificate of ${length} bytes, expected ` +
      `at most ${LIMITS.CERTIFICATE_BYTES}`, { field: 'certificate',
      expected: `<= ${LIMITS.CERTIFICATE_BYTES} bytes`, actual: `${length} bytes` });
  }
  const header = reader.offset - start;
  const content = reader.take('certificate', length);
  return new Uint8Array(content.buffer, content.byteOffset - header, header + length);
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
