/**
 * The one bounds-checked reader through which hid-transport parses device bytes. A short
 * read or leftover bytes become the error `fail` builds, naming the field and both lengths.
 */
export class ByteReader {
  private offset = 0;
  private readonly bytes: Uint8Array;
  private readonly fail: (message: string) => Error;

  constructor(bytes: Uint8Array, fail: (message: string) => Error) {
    this.bytes = bytes;
    this.fail = fail;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  /** The next `length` bytes (a view, not a copy). */
  take(length: number, field: string): Uint8Array {
    if (this.remaining < length) {
      throw this.fail(`${field}: expected ${length} bytes, only ${this.remaining} left`);
    }
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  u8(field: string): number {
    return this.take(1, field)[0]!;
  }

  u16(field: string): number {
    const b = this.take(2, field);
    return (b[0]! << 8) | b[1]!;
  }

  u32(field: string): number {
    const b = this.take(4, field);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }

  /** Everything left. */
  rest(): Uint8Array {
    return this.take(this.remaining, 'rest');
  }
}
