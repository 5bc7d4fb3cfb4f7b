/** Lower-case hex of bytes, for messages and traces. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Bytes of a hex string; whitespace is ignored. Throws TypeError on anything else. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new TypeError(`hex: expected an even number of hex digits, got "${hex.slice(0, 40)}"`);
  }
  return new Uint8Array(Buffer.from(clean, 'hex'));
}
