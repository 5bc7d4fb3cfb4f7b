import { ByteReader } from '../bytes.js';
import { DER_TAG, expectTag, readDerElement } from '../der.js';

/** OID of the FIDO U2F transports extension (FIDO U2F Authenticator Transports Extension). */
export const TRANSPORTS_EXT_OID = '1.3.6.1.4.1.45724.2.1.1';

/**
 * Transport names by bit position of the extension's BIT STRING (bit 0 is the most
 * significant bit of the first byte), in the JS API's spelling.
 */
export const TRANSPORT_BITS = Object.freeze(['bt', 'ble', 'usb', 'nfc', 'usb-internal'] as const);

/** Metadata `transports` bitmask (Yubico metadata format): BT=1, BLE=2, USB=4, NFC=8. */
export const TRANSPORT_MASK = Object.freeze({
  bt: 0x01,
  ble: 0x02,
  usb: 0x04,
  nfc: 0x08,
  'usb-internal': 0x10,
} as const);

/**
 * Decodes the extension value (`BIT STRING`, e.g. `03 02 04 30` → usb, nfc). Returns
 * undefined for a malformed value; unused bits are masked off.
 */
export function transportsFromExtension(value: Uint8Array): string[] | undefined {
  try {
    const reader = new ByteReader(value, 'transports', 'BAD_CERTIFICATE');
    const bits = readDerElement(reader, 'transports', 'BAD_CERTIFICATE');
    expectTag(bits, DER_TAG.BIT_STRING, 'transports', 'BAD_CERTIFICATE');
    reader.end('transports');
    const unused = bits.content[0];
    if (unused === undefined || unused > 7) return undefined;

    const data = bits.content.subarray(1);
    const out: string[] = [];
    TRANSPORT_BITS.forEach((name, bit) => {
      const byte = data[bit >> 3];
      if (byte === undefined) return;
      const isUnusedBit = (bit >> 3) === data.length - 1 && (7 - (bit & 7)) < unused;
      if (!isUnusedBit && (byte & (0x80 >> (bit & 7))) !== 0) out.push(name);
    });
    return out;
  } catch {
    return undefined;
  }
}

/** Transport names from a metadata bitmask. */
export function transportsFromMask(mask: number): string[] {
  return TRANSPORT_BITS.filter((name) => (mask & TRANSPORT_MASK[name]) !== 0);
}
