import { createHash } from 'node:crypto';

import { p256 } from '@noble/curves/nist.js';

import { U2fError } from '../src/index.js';

import spec from './vectors/spec-example.json' with { type: 'json' };

export { spec };

export const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
export const b64u = (b: Uint8Array | string): string =>
  (typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b)).toString('base64url');
export const sha256hex = (b: Uint8Array | string): string =>
  createHash('sha256').update(b).digest('hex');

/** The spec example's clientData, byte for byte (key order typ, challenge, cid_pubkey, origin). */
export function specClientData(typ: string, challenge: string, origin = 'http://example.com'):
  string {
  return JSON.stringify({ typ, challenge, cid_pubkey: spec.cidPubkey, origin });
}

export const REGISTER_TYP = 'navigator.id.finishEnrollment';
export const SIGN_TYP = 'navigator.id.getAssertion';

/** DER ECDSA signature with noble (RFC 6979, deterministic), optionally flipped to high S. */
export function signDer(privateKeyHex: string, message: Uint8Array, highS = false): Uint8Array {
  const compact = p256.sign(message, hex(privateKeyHex), { prehash: true, lowS: true });
  let sig = p256.Signature.fromBytes(compact, 'compact');
  if (highS) sig = new p256.Signature(sig.r, p256.Point.CURVE().n - sig.s);
  return sig.toBytes('der');
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

export function sha256(b: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}

export function publicPoint(privateKeyHex: string): Uint8Array {
  return p256.getPublicKey(hex(privateKeyHex), false);
}

/** The U2fError code `run` throws, or 'OK'; any other exception propagates and fails the test. */
export function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof U2fError) return error.code;
    throw error;
  }
  return 'OK';
}

/** The U2fError `run` throws; fails when it returns or throws anything else. */
export function u2fErrorOf(run: () => unknown): U2fError {
  try {
    run();
  } catch (error) {
    if (error instanceof U2fError) return error;
    throw error;
  }
  throw new Error('expected a U2fError, got success');
}
