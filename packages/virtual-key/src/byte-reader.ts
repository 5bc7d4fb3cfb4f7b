/** Thrown by ByteReader when a field runs past the end of its input. */
export class ShortReadError extends Error {
  override readonly name = 'ShortReadError';
}

/**
 * The one bounds-checked reader of this package: every byte taken from a request goes through
 * it, so a short request is an error naming the field instead of a silent `undefined`.
 */
export class ByteReader {
  private position = 0;

  constructor(private readonly bytes: Uint8Array) {}

  /** Bytes not read yet. */
  get remaining(): number {
    return this.bytes.length - this.position;
  }

  /** Takes one byte. Throws ShortReadError naming `field` when none is left. */
  u8(field: string): number {
    return this.take(1, field)[0]!;
  }

  /** Takes a big-endian u16. Throws ShortReadError naming `field` when fewer than 2 are left. */
  u16(field: string): number {
    const bytes = this.take(2, field);
    return (bytes[0]! << 8) | bytes[1]!;
  }

  /** Takes a little-endian u32. Throws ShortReadError naming `field` on a short read. */
  u32le(field: string): number {
    const bytes = this.take(4, field);
    return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  }

  /** Takes `length` bytes (a view, not a copy). Throws ShortReadError on a short read. */
  take(length: number, field: string): Uint8Array {
    if (length > this.remaining) {
      throw new ShortReadError(
        `${field}: expected ${length} bytes, only ${this.remaining} left`,
      );
    }
    const view = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return view;
  }

  /** Takes everything that is left. */
  rest(): Uint8Array {
    return this.take(this.remaining, 'rest');
  }
}
