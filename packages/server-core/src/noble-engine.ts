import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';

import type { CryptoEngine } from './engine.js';

/**
 * Pure-JS verification on @noble/curves. noble verifies compact low-S signatures by
 * default; U2F signatures are DER and may be high-S, so both are set explicitly.
 */
export const nobleEngine: CryptoEngine = Object.freeze({
  name: 'noble',

  sha256(data: Uint8Array): Uint8Array {
    return sha256(data);
  },

  isValidPoint(point: Uint8Array): boolean {
    if (point.length !== 65 || point[0] !== 0x04) return false;
    try {
      p256.Point.fromBytes(point).assertValidity();
      return true;
    } catch {
      return false;
    }
  },

  verifyP256(point: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (point.length !== 65 || point[0] !== 0x04) return false;
    try {
      return p256.verify(signature, message, point, { format: 'der', lowS: false, prehash: true });
    } catch {
      return false;
    }
  },
});
