import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';

import { concat, equalBytes } from './bytes.js';
import { p256Scalar } from './signature.js';

const encoder = new TextEncoder();

/** Shortest and longest key handle a U2F reply can carry (one length byte, RAW §4.3). */
export const KEY_HANDLE_LENGTH = Object.freeze({ MIN: 1, MAX: 255, DEFAULT: 64 } as const);

/** MAC bytes in a handle: half of it, at most 32 (HMAC-SHA-256), at least 1. */
function macLength(keyHandleLength: number): number {
  return Math.min(32, Math.ceil(keyHandleLength / 2));
}

/**
 * Stateless key handles bound to the application parameter (DESIGN "Key handles"):
 * `keyHandle = nonce | MAC(macKey, appParam | nonce | length)`, and the credential's
 * private key is derived from (masterSecret, appParam, nonce). Nothing is stored per
 * credential, so a handle survives restarts, and the right handle under another appId fails
 * its MAC. Handles shorter than 64 bytes carry proportionally shorter nonces and MACs (a 1-byte
 * handle has no nonce: one credential per appId), which is the point of exercising servers.
 */
export class KeyHandles {
  private readonly macKey: Uint8Array;

  /** Throws RangeError when the length is not 1..255 or the master secret not 32 bytes. */
  constructor(
    private readonly masterSecret: Uint8Array,
    readonly keyHandleLength: number,
  ) {
    if (masterSecret.length !== 32) {
      throw new RangeError(
        `key-handle: master secret must be 32 bytes, got ${masterSecret.length}`,
      );
    }
    if (
      !Number.isInteger(keyHandleLength) ||
      keyHandleLength < KEY_HANDLE_LENGTH.MIN ||
      keyHandleLength > KEY_HANDLE_LENGTH.MAX
    ) {
      throw new RangeError(`key-handle: length must be 1..255, got ${keyHandleLength}`);
    }
    this.macKey = hkdf(sha256, masterSecret, undefined, encoder.encode('keybench kh mac'), 32);
  }

  /** A new key handle for `appParam` and its private key (32-byte scalar). */
  create(appParam: Uint8Array): { keyHandle: Uint8Array; privateKey: Uint8Array } {
    const nonce = randomBytes(this.keyHandleLength - macLength(this.keyHandleLength));
    const keyHandle = concat(nonce, this.mac(appParam, nonce));
    return { keyHandle, privateKey: this.derive(appParam, nonce) };
  }

  /** The private key of `keyHandle` under `appParam`, or undefined for a foreign handle. */
  open(appParam: Uint8Array, keyHandle: Uint8Array): Uint8Array | undefined {
    if (keyHandle.length !== this.keyHandleLength) return undefined;

    const nonceLength = this.keyHandleLength - macLength(this.keyHandleLength);
    const nonce = keyHandle.subarray(0, nonceLength);
    if (!equalBytes(keyHandle.subarray(nonceLength), this.mac(appParam, nonce))) return undefined;

    return this.derive(appParam, nonce);
  }

  private mac(appParam: Uint8Array, nonce: Uint8Array): Uint8Array {
    const message = concat(appParam, nonce, Uint8Array.of(this.keyHandleLength));
    const tag = hmac(sha256, this.macKey, message);
    return tag.subarray(0, macLength(this.keyHandleLength));
  }

  private derive(appParam: Uint8Array, nonce: Uint8Array): Uint8Array {
    const info = concat(encoder.encode('keybench credential'), nonce);
    return p256Scalar(hkdf(sha256, this.masterSecret, appParam, info, 48));
  }
}
