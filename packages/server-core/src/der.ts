import { ByteReader } from './bytes.js';
import { U2fError, type U2fErrorCode } from './errors.js';

/** DER tags used here (X.690). */
export const DER_TAG = Object.freeze({
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  SEQUENCE: 0x30,
  CONTEXT_0: 0xa0,
} as const);

/**
 * Reads a DER length at the reader's position. Short and long forms are accepted; the
 * indefinite form (0x80), more than four length bytes and non-minimal encodings (a long
 * form for a value under 128, or a leading zero length byte) are rejected.
 */
export function readDerLength(reader: ByteReader, field: string, code: U2fErrorCode): number {
  const first = reader.u8(`${field} length`);
  if (first < 0x80) return first;

  const count = first & 0x7f;
  if (count === 0) {
    throw new U2fError(code, `${field}: indefinite DER length (0x80), expected a definite one`, {
      field,
      expected: 'definite length',
      actual: '0x80',
    });
  }
  if (count > 4) {
    throw new U2fError(code, `${field}: DER length of ${count} bytes, expected at most 4`, {
      field,
      expected: '<= 4 length bytes',
      actual: String(count),
    });
  }

  const bytes = reader.take(`${field} length`, count);
  let length = 0;
  for (const b of bytes) length = length * 256 + b;
  if (bytes[0] === 0 || length < 0x80) {
    throw new U2fError(code, `${field}: non-minimal DER length 0x${first.toString(16)} for ` +
      `${length}`, { field, expected: 'minimal length encoding', actual: String(length) });
  }
  return length;
}

/** One DER element: its tag, its content, and the whole encoding. */
export interface DerElement {
  tag: number;
  content: Uint8Array;
  encoded: Uint8Array;
}

/** Reads one whole DER element (tag, length, content) from the reader. */
export function readDerElement(reader: ByteReader, field: string, code: U2fErrorCode):
  DerElement {
  const start = reader.offset;
  const tag = reader.u8(`${field} tag`);
  const length = readDerLength(reader, field, code);
  const headerLength = reader.offset - start;
  const content = reader.take(`${field} content`, length);
  const encoded = new Uint8Array(content.buffer, content.byteOffset - headerLength,
    headerLength + length);
  return { tag, content, encoded };
}

/** Throws U2fError unless `tag` is the one wanted. */
export function expectTag(element: DerElement, tag: number, field: string,
  code: U2fErrorCode): void {
  if (element.tag !== tag) {
    throw new U2fError(code, `${field}: DER tag 0x${element.tag.toString(16)}, expected ` +
      `0x${tag.toString(16)}`, {
      field,
      expected: `0x${tag.toString(16)}`,
      actual: `0x${element.tag.toString(16)}`,
    });
  }
}

/** Largest INTEGER content of a P-256 r or s: 32 bytes plus a leading zero. */
const MAX_INTEGER_LENGTH = 33;

/**
 * Checks that `der` is exactly one canonical ECDSA-Sig-Value (RFC 3279):
 * `SEQUENCE { INTEGER r, INTEGER s }`, short-form lengths (a P-256 signature never needs a
 * long form, so one is non-minimal), each integer positive, 1..33 bytes, no superfluous
 * leading zero, and nothing after the SEQUENCE. High S is allowed (U2F keys produce it). The
 * range 1..n-1 is left to the verifying engine. Runs on every authentication, so it reads
 * indices directly instead of allocating readers.
 *
 * @throws U2fError with `code`, naming `field`.
 */
export function checkEcdsaDer(der: Uint8Array, field: string, code: U2fErrorCode): void {
  const fail = (what: string, expected: string, actual: string): U2fError =>
    new U2fError(code, `${field}: ${what}, expected ${expected}`, { field, expected, actual });
  const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

  const end = der.length;
  if (end < 2) throw fail(`${end} byte(s)`, 'a DER SEQUENCE', `${end} bytes`);
  const tag = der[0] as number;
  if (tag !== DER_TAG.SEQUENCE) throw fail(`DER tag ${hex(tag)}`, '0x30', hex(tag));
  const length = der[1] as number;
  if (length & 0x80) {
    throw fail(`SEQUENCE length ${hex(length)}`, 'a short-form length', hex(length));
  }
  if (2 + length > end) {
    throw fail(`SEQUENCE of ${length} bytes with ${end - 2} left`, `${length} bytes`,
      String(end - 2));
  }
  if (2 + length < end) {
    throw fail(`${end - 2 - length} trailing byte(s) after the SEQUENCE`, 'none',
      String(end - 2 - length));
  }

  let at = 2;
  for (const part of ['r', 's']) {
    const name = `${field}.${part}`;
    if (at + 2 > end) throw fail(`INTEGER ${name} missing`, 'INTEGER r and s', 'end of data');
    const intTag = der[at] as number;
    if (intTag !== DER_TAG.INTEGER) {
      throw fail(`${name} has DER tag ${hex(intTag)}`, '0x02 (INTEGER)', hex(intTag));
    }
    const size = der[at + 1] as number;
    if (size === 0 || size > MAX_INTEGER_LENGTH) {
      throw fail(`${name} is an INTEGER of ${size & 0x7f}${size & 0x80 ? ' (long form)' : ''} ` +
        'bytes', '1..33 bytes', hex(size));
    }
    if (at + 2 + size > end) {
      throw fail(`${name} of ${size} bytes runs past the SEQUENCE`, `${size} bytes`,
        String(end - at - 2));
    }
    const first = der[at + 2] as number;
    if (first & 0x80) throw fail(`${name} is negative`, 'a positive INTEGER', 'negative');
    if (first === 0 && size > 1 && ((der[at + 3] as number) & 0x80) === 0) {
      throw fail(`${name} has a superfluous leading zero`, 'minimal encoding', 'leading 0x00');
    }
    at += 2 + size;
  }
  if (at !== end) {
    throw fail(`${end - at} byte(s) after s inside the SEQUENCE`, 'none', String(end - at));
  }
}
