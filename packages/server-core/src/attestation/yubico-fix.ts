import { toHex } from '../bytes.js';
import type { CryptoEngine } from '../engine.js';
import { nodeEngine } from '../node-engine.js';

/**
 * SHA-256 (of the DER as received) of six early Yubico end-entity certificates whose
 * signature BIT STRING carries a wrong "unused bits" byte (server.md 3.1). OpenSSL refuses
 * them (`invalid bit string bits left`) until that byte is zeroed.
 */
export const YUBICO_CERTS_TO_FIX: ReadonlySet<string> = Object.freeze(new Set([
  '349bca1031f8c82c4ceca38b9cebf1a69df9fb3b94eed99eb3fb9aa3822d26e8',
  'dd574527df608e47ae45fbba75a2afdd5c20fd94a02419381813cd55a2a3398f',
  '1d8764f0f7cd1352df6150045c8f638e517270e8b5dda1c63ade9c2280240cae',
  'd0edc9a91a1677435a953390865d208c55b3183c6759c9b5a7ff494c322558eb',
  '6073c436dcd064a48127ddbf6032ac1a66fd59a0c24434f070d4e564c124c897',
  'ca993121846c464d666096d35f13bf44c1b05af205f9b4a1e00cf6cc10c5e511',
]));

/** Distance from the end to the unused-bits byte of a 2048-bit RSA signature BIT STRING. */
const UNUSED_BITS_FROM_END = 257;

/**
 * Zeroes the unused-bits byte of an RSA-2048 signature BIT STRING (`03 82 01 01 <u> <256>`):
 * the repair applied to the listed Yubico certificates. Returns a copy; the input is not
 * changed. Exported for tests; use {@link fixYubicoCertificate} for real data.
 */
export function zeroSignatureUnusedBits(der: Uint8Array): Uint8Array {
  const out = new Uint8Array(der);
  if (out.length > UNUSED_BITS_FROM_END) out[out.length - UNUSED_BITS_FROM_END] = 0;
  return out;
}

/**
 * The certificate with the server.md 3.1 repair applied when its SHA-256 is one of
 * {@link YUBICO_CERTS_TO_FIX}; otherwise the same bytes. Never throws.
 */
export function fixYubicoCertificate(der: Uint8Array, engine: CryptoEngine = nodeEngine):
  Uint8Array {
  if (!YUBICO_CERTS_TO_FIX.has(toHex(engine.sha256(der)))) return der;
  return zeroSignatureUnusedBits(der);
}
