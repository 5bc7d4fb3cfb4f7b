import { U2fError, type U2fErrorCode } from './errors.js';

/**
 * The one bounds-checked reader every byte parser goes through. A short read names the
 * layer, the field, the length wanted and the length left.
 */
export class ByteReader {
  private pos = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly layer: string,
    private readonly code: U2fErrorCode,
  ) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Reads one byte. Throws U2fError when none is left. */
  u8(field: string): number {
    this.need(field, 1);
    return this.bytes[this.pos++] as number;
  }

  /** Reads a big-endian uint32. Throws U2fError on a short read. */
  u32(field: string): number {
    this.need(field, 4);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return (
      ((b[p] as number) * 0x1000000 + ((b[p + 1] as number) << 16)) +
      (((b[p + 2] as number) << 8) | (b[p + 3] as number))
    );
  }

  /** Reads `length` bytes as a view (no copy). Throws U2fError on a short read. */
  take(field: string, length: number): Uint8Array {
    this.need(field, length);
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  /** Looks at the byte `ahead` positions on without consuming it. */
  peek(field: string, ahead = 0): number {
    this.need(field, ahead + 1);
    return this.bytes[this.pos + ahead] as number;
  }

  /** Everything left. */
  rest(): Uint8Array {
    const out = this.bytes.subarray(this.pos);
    this.pos = this.bytes.length;
    return out;
  }

  /** Throws U2fError if any byte is left over. */
  end(after: string): void {
    if (this.remaining !== 0) {
      throw new U2fError(
        this.code,
        `${this.layer}: ${this.remaining} trailing byte(s) after ${after}, expected none`,
        { field: after, expected: '0', actual: String(this.remaining) },
      );
    }
  }

  private need(field: string, length: number): void {
    if (length > this.remaining) {
      throw new U2fError(
        this.code,
        `${this.layer}: ${field} needs ${length} byte(s), only ${this.remaining} left`,
        { field, expected: String(length), actual: String(this.remaining) },
      );
    }
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex of the bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b] as string;
  return out;
}

/** Bytes from an even-length hex string. Throws TypeError on anything else (caller data). */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError(`hex: expected an even-length hex string, got ${hex.length} chars`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Concatenation into a new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Equality whose time depends only on the lengths, not on where the bytes differ
 * (challenges and key handles, server.md 2.4).
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict UTF-8 decoding; undefined when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** A short, safe description of an unknown value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    const s = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return JSON.stringify(s);
  }
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
