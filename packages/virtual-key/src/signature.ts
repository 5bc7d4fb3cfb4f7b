import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';

import { concat } from './bytes.js';

/** Order of the P-256 group (FIPS 186-4 D.1.2.3). */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * A valid P-256 private scalar from at least 40 bytes of key material: reduced into
 * 1..n-1 (the 16 extra bytes make the bias negligible, as in FIPS 186-4 B.4.1).
 * Throws RangeError for shorter input.
 */
export function p256Scalar(material: Uint8Array): Uint8Array {
  if (material.length < 40) {
    throw new RangeError(`signature: key material must be ≥ 40 bytes, got ${material.length}`);
  }
  const value = BigInt(`0x${Buffer.from(material).toString('hex')}`);
  const scalar = (value % (P256_N - 1n)) + 1n;
  return Uint8Array.from(Buffer.from(scalar.toString(16).padStart(64, '0'), 'hex'));
}

/** The uncompressed public point `04 | X | Y` (65 bytes) of a private scalar. */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  return p256.getPublicKey(privateKey, false);
}

/**
 * ECDSA P-256 with SHA-256 over `message`, DER-encoded. Deterministic (RFC 6979), so runs are
 * reproducible; low-S (noble's default), which U2F verifiers accept like any other S.
 */
export function signDer(privateKey: Uint8Array, message: Uint8Array): Uint8Array {
  return p256.sign(sha256(message), privateKey, { prehash: false, format: 'der' });
}

/**
 * The same signature with r re-encoded non-minimally (a superfluous leading 0x00), for the
 * der-non-canonical fault: `30 L 02 Lr r 02 Ls s` becomes `30 L+1 02 Lr+1 00 r 02 Ls s`.
 */
export function nonCanonicalDer(der: Uint8Array): Uint8Array {
  const rLength = der[3]!;
  const r = der.subarray(4, 4 + rLength);
  const s = der.subarray(4 + rLength);
  const body = concat(Uint8Array.of(0x02, rLength + 1, 0x00), r, s);
  return concat(Uint8Array.of(0x30, body.length), body);
}
