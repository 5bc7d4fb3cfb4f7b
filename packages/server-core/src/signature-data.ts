import { ByteReader } from './bytes.js';
import { checkEcdsaDer } from './der.js';

/** Authentication response flag bits (Raw Message Formats §5.4; bit 0 is user presence). */
export const USER_PRESENCE = Object.freeze({
  TUP: 0x01,
} as const);

/** The fields of an authentication response. */
export interface SignatureData {
  /** The whole flags byte; bit 0 is user presence, other bits are reported as they came. */
  userPresence: number;
  counter: number;
  /** The flags and counter bytes exactly as received (they are signed). */
  flagsAndCounter: Uint8Array;
  /** Canonical DER signature. */
  signature: Uint8Array;
}

/**
 * Splits an authentication response: flags byte, big-endian uint32 counter, then exactly one
 * canonical DER signature.
 *
 * @throws U2fError BAD_SIGNATURE_DATA naming the field, expected and actual values.
 */
export function parseSignatureData(bytes: Uint8Array): SignatureData {
  const reader = new ByteReader(bytes, 'signatureData', 'BAD_SIGNATURE_DATA');
  const userPresence = reader.u8('userPresence');
  const counter = reader.u32('counter');
  const flagsAndCounter = bytes.subarray(0, 5);
  const signature = reader.rest();
  checkEcdsaDer(signature, 'signature', 'BAD_SIGNATURE_DATA');
  return { userPresence, counter, flagsAndCounter, signature };
}
