import { X509Certificate, createPublicKey, verify, type KeyObject } from 'node:crypto';

import { toHex } from '@keybench/hid-transport';

export const challengeParam = new Uint8Array(32).fill(0x42);
export const appParam = new Uint8Array(32).fill(0xa1);
export const otherAppParam = new Uint8Array(32).fill(0xb2);

/** Extended-length APDU as U2F HID sends it: `00 INS P1 00 | 00 Lc Lc | data | 00 00`. */
export function apdu(ins: number, p1: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(7 + data.length + 2);
  out.set([0x00, ins, p1, 0x00, 0x00, data.length >> 8, data.length & 0xff]);
  out.set(data, 7);
  return out;
}

export const registerApdu = (app = appParam, challenge = challengeParam) =>
  apdu(0x01, 0x03, Uint8Array.from([...challenge, ...app]));

export const authenticateApdu = (
  p1: number,
  keyHandle: Uint8Array,
  app = appParam,
  challenge = challengeParam,
) => apdu(0x02, p1, Uint8Array.from([...challenge, ...app, keyHandle.length, ...keyHandle]));

/** Hex of the status word at the end of a response. */
export const statusOf = (response: Uint8Array) => toHex(response.subarray(response.length - 2));

/** The raw P-256 point `04 X Y` as a KeyObject. */
export function pointKey(point: Uint8Array): KeyObject {
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: Buffer.from(point.subarray(1, 33)).toString('base64url'),
      y: Buffer.from(point.subarray(33, 65)).toString('base64url'),
    },
    format: 'jwk',
  });
}

/** Splits a DER element off the front of `bytes`; returns its total length. */
export function derLength(bytes: Uint8Array): number {
  const first = bytes[1]!;
  if (first < 0x80) return 2 + first;
  const count = first & 0x7f;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + bytes[2 + i]!;
  return 2 + count + length;
}

/** RegistrationData (RAW §4.3) split into its fields. */
export function parseRegistration(response: Uint8Array) {
  const data = response.subarray(0, response.length - 2);
  const publicKey = data.subarray(1, 66);
  const keyHandleLength = data[66]!;
  const keyHandle = data.subarray(67, 67 + keyHandleLength);
  const rest = data.subarray(67 + keyHandleLength);
  const certificateLength = derLength(rest);
  const certificate = rest.subarray(0, certificateLength);
  const signature = rest.subarray(certificateLength);
  return { reserved: data[0]!, publicKey, keyHandle, certificate, signature };
}

/** Verifies the registration signature with the certificate's key (node's OpenSSL). */
export function verifyRegistration(
  reg: ReturnType<typeof parseRegistration>,
  app = appParam,
  challenge = challengeParam,
): boolean {
  const signed = Buffer.concat([
    Buffer.of(0x00), app, challenge, reg.keyHandle, reg.publicKey,
  ]);
  const key = new X509Certificate(Buffer.from(reg.certificate)).publicKey;
  return verify('sha256', signed, { key, dsaEncoding: 'der' }, reg.signature);
}

/** SignatureData (RAW §5.4) split into its fields. */
export function parseSignature(response: Uint8Array) {
  const data = response.subarray(0, response.length - 2);
  return {
    flags: data[0]!,
    counter: new DataView(data.buffer, data.byteOffset + 1, 4).getUint32(0),
    signature: data.subarray(5),
  };
}

/** Verifies an authentication signature with the credential's public key. */
export function verifyAssertion(
  publicKey: Uint8Array,
  response: Uint8Array,
  app = appParam,
  challenge = challengeParam,
): boolean {
  const signed = Buffer.from(response.subarray(0, 5));
  const { signature } = parseSignature(response);
  return verify(
    'sha256',
    Buffer.concat([app, signed, challenge]),
    { key: pointKey(publicKey), dsaEncoding: 'der' },
    signature,
  );
}
