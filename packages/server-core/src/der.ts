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

/**
 * Checks that `der` is exactly one canonical ECDSA-Sig-Value (RFC 3279):
 * `SEQUENCE { INTEGER r, INTEGER s }`, minimal lengths, each integer positive, 1..33 bytes,
 * no superfluous leading zero, and nothing after the SEQUENCE. High S is allowed (U2F keys
 * produce it). The range 1..n-1 is left to the verifying engine.
 *
 * @throws U2fError with `code`, naming `field`.
 */
export function checkEcdsaDer(der: Uint8Array, field: string, code: U2fErrorCode): void {
  const outer = new ByteReader(der, field, code);
  const seq = readDerElement(outer, field, code);
  expectTag(seq, DER_TAG.SEQUENCE, field, code);
  outer.end(`${field} SEQUENCE`);

  const inner = new ByteReader(seq.content, field, code);
  for (const part of ['r', 's']) {
    const name = `${field}.${part}`;
    const int = readDerElement(inner, name, code);
    expectTag(int, DER_TAG.INTEGER, name, code);
    checkPositiveInteger(int.content, name, code);
  }
  inner.end(`${field}.s`);
}

function checkPositiveInteger(value: Uint8Array, field: string, code: U2fErrorCode): void {
  const first = value[0];
  if (first === undefined || value.length > 33) {
    throw new U2fError(code, `${field}: INTEGER of ${value.length} bytes, expected 1..33`, {
      field,
      expected: '1..33 bytes',
      actual: String(value.length),
    });
  }
  if (first & 0x80) {
    throw new U2fError(code, `${field}: negative INTEGER, expected a positive one`, {
      field,
      expected: 'positive',
      actual: 'negative',
    });
  }
  if (first === 0 && value.length > 1 && ((value[1] as number) & 0x80) === 0) {
    throw new U2fError(code, `${field}: INTEGER with a superfluous leading zero`, {
      field,
      expected: 'minimal encoding',
      actual: 'leading 0x00',
    });
  }
}
