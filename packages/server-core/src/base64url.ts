import { U2fError } from './errors.js';

const ALPHABET = /^[A-Za-z0-9_-]*$/;
const ALPHABET_INDEX = (() => {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const index = new Int8Array(128).fill(-1);
  for (let i = 0; i < chars.length; i++) index[chars.charCodeAt(i)] = i;
  return index;
})();

/**
 * Strict websafe base64 (RFC 4648 §5) decoding, as server.md 2.4 recommends:
 * - only `A-Z a-z 0-9 - _`; `+`, `/`, whitespace and any other character are rejected;
 * - `=` padding is tolerated only when it is exactly the padding the length calls for;
 * - a length of 1 mod 4 and non-zero unused tail bits (non-canonical forms) are rejected.
 *
 * @param field names the message field in the error.
 * @throws U2fError BAD_BASE64 on any deviation; TypeError if `value` is not a string.
 */
export function websafeDecode(value: string, field = 'value'): Uint8Array {
  if (typeof value !== 'string') {
    throw new U2fError('BAD_BASE64', `${field}: expected a base64url string, got ${typeof value}`, {
      field,
      expected: 'string',
      actual: typeof value,
    });
  }

  let body = value;
  const firstPad = value.indexOf('=');
  if (firstPad !== -1) {
    body = value.slice(0, firstPad);
    const padding = value.length - firstPad;
    const wanted = (4 - (body.length % 4)) % 4;
    if (!/^=+$/.test(value.slice(firstPad)) || padding !== wanted) {
      throw bad(field, `padding of ${wanted} '=' for ${body.length} characters`, value);
    }
  }

  if (!ALPHABET.test(body)) {
    throw bad(field, 'only the URL-safe alphabet A-Z a-z 0-9 - _', value);
  }
  const tail = body.length % 4;
  if (tail === 1) {
    throw bad(field, 'a length that is not 1 mod 4', value);
  }

  // Non-canonical forms: the unused low bits of the last character must be zero.
  if (tail !== 0) {
    const last = ALPHABET_INDEX[body.charCodeAt(body.length - 1)] as number;
    const unusedMask = tail === 2 ? 0x0f : 0x03;
    if ((last & unusedMask) !== 0) throw bad(field, 'zero unused tail bits', value);
  }

  const buf = Buffer.from(body, 'base64url');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Websafe base64 without padding. */
export function websafeEncode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function bad(field: string, expected: string, value: string): U2fError {
  const shown = value.length > 24 ? `${value.slice(0, 24)}… (${value.length} chars)` : value;
  return new U2fError('BAD_BASE64', `${field}: invalid base64url, expected ${expected}, got ` +
    JSON.stringify(shown), { field, expected, actual: shown });
}
