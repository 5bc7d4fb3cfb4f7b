import { ByteReader } from './byte-reader.js';
import { CtapHidError } from './errors.js';

/** A command APDU of U2F Raw Message Formats §3 (CLA is 0x00 for U2F). */
export interface Apdu {
  cla?: number;
  ins: number;
  p1?: number;
  p2?: number;
  data?: Uint8Array;
}

/**
 * 'extended' (the U2F default, RAW §3.1.2): `CLA INS P1 P2 | 00 Lc1 Lc2 | data | 00 00`, and
 * without data the ISO case-2 form `CLA INS P1 P2 00 00 00`. Le `00 00` asks for up to 65536
 * bytes; some tokens reject smaller Le values (python-u2flib-host PR#29) and strict ones
 * reject a missing Le (libwebauthn PR#200).
 * 'short' (ISO 7816-4 short form): `CLA INS P1 P2 | Lc | data | 00`, data at most 255 bytes.
 */
export type ApduEncoding = 'extended' | 'short';

const byte = (name: string, value: number | undefined, fallback: number): number => {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0 || v > 0xff) {
    throw new RangeError(`apdu: ${name} must be a byte 0x00..0xff, got ${v}`);
  }
  return v;
};

/**
 * Encodes a command APDU. Throws RangeError for header values that are not bytes or data
 * too long for the encoding (65535 extended, 255 short).
 */
export function encodeApdu(apdu: Apdu, encoding: ApduEncoding = 'extended'): Uint8Array {
  const header = [
    byte('CLA', apdu.cla, 0x00),
    byte('INS', apdu.ins, -1),
    byte('P1', apdu.p1, 0x00),
    byte('P2', apdu.p2, 0x00),
  ];
  const data = apdu.data ?? new Uint8Array(0);

  if (encoding === 'short') {
    if (data.length > 0xff) {
      throw new RangeError(`apdu: short encoding holds at most 255 data bytes, got ${data.length}`);
    }
    if (data.length === 0) return Uint8Array.of(...header, 0x00);
    const out = new Uint8Array(4 + 1 + data.length + 1);
    out.set(header);
    out[4] = data.length;
    out.set(data, 5);
    return out;
  }

  if (encoding !== 'extended') {
    throw new RangeError(`apdu: encoding must be 'extended' or 'short', got ${String(encoding)}`);
  }
  if (data.length > 0xffff) {
    throw new RangeError(`apdu: extended encoding holds at most 65535 bytes, got ${data.length}`);
  }
  if (data.length === 0) return Uint8Array.of(...header, 0x00, 0x00, 0x00);
  const out = new Uint8Array(4 + 3 + data.length + 2);
  out.set(header);
  out[5] = data.length >> 8;
  out[6] = data.length & 0xff;
  out.set(data, 7);
  return out;
}

/** A response APDU: data and the status word (SW1 SW2). */
export interface ApduResponse {
  data: Uint8Array;
  sw: number;
}

/**
 * Splits a response APDU into data and status word. Throws CtapHidError when fewer than the
 * two status bytes came (malformed device data).
 */
export function parseApduResponse(bytes: Uint8Array): ApduResponse {
  if (bytes.length < 2) {
    throw new CtapHidError(
      `apdu: response of ${bytes.length} bytes, expected at least 2 (the status word)`,
    );
  }
  const reader = new ByteReader(bytes, (message) => new CtapHidError(`apdu: ${message}`));
  const data = reader.take(bytes.length - 2, 'data');
  const sw = reader.u16('status word');
  return { data, sw };
}
