import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

import { BoundedCache, type CryptoEngine } from './engine.js';
import { isOnP256 } from './p256-point.js';

/** The DER SubjectPublicKeyInfo header for an uncompressed P-256 point (server.md 1.1). */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/** Most KeyObjects kept; attestation keys are attacker-chosen, so the cache must be bounded. */
export const KEY_CACHE_LIMIT = 4096;
const keyCache = new BoundedCache<string, KeyObject | null>(KEY_CACHE_LIMIT);

/** Entries in the KeyObject cache (for tests of its bound). */
export function keyCacheSize(): number {
  return keyCache.size;
}

/**
 * The 65-byte point as a KeyObject, cached by the point's bytes; null when OpenSSL refuses
 * it (off the curve, wrong prefix). Importing the SPKI makes OpenSSL check the point.
 */
function keyObject(point: Uint8Array): KeyObject | null {
  if (point.length !== 65 || point[0] !== 0x04) return null;
  const id = cacheId(point);
  const cached = keyCache.get(id);
  if (cached !== undefined) return cached;

  let key: KeyObject | null;
  try {
    key = createPublicKey({
      key: Buffer.concat([P256_SPKI_PREFIX, point]),
      format: 'der',
      type: 'spki',
    });
  } catch {
    key = null;
  }
  keyCache.set(id, key);
  return key;
}

function cacheId(point: Uint8Array): string {
  return Buffer.from(point.buffer, point.byteOffset, 65).toString('latin1');
}

/** Verification on Node's OpenSSL, public keys cached as KeyObjects. */
export const nodeEngine: CryptoEngine = Object.freeze({
  name: 'node',

  sha256(data: Uint8Array): Uint8Array {
    return createHash('sha256').update(data).digest();
  },

  // Importing a KeyObject costs more than a verification (~110 µs on OpenSSL 3), so a point
  // that is not cached yet is checked against the curve equation in BigInt instead.
  isValidPoint(point: Uint8Array): boolean {
    if (point.length !== 65 || point[0] !== 0x04) return false;
    const cached = keyCache.get(cacheId(point));
    if (cached !== undefined) return cached !== null;
    return isOnP256(point);
  },

  verifyP256(point: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    const key = keyObject(point);
    if (key === null) return false;
    try {
      return verify('sha256', message, { key, dsaEncoding: 'der' }, signature);
    } catch {
      return false;
    }
  },
});
