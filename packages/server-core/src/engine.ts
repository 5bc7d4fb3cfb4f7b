/**
 * The crypto a verifier needs, behind one interface so the OpenSSL engine and the pure-JS
 * engine can be swapped and compared (DESIGN.md, "Crypto").
 */
export interface CryptoEngine {
  readonly name: string;
  /** SHA-256 of the bytes. */
  sha256(data: Uint8Array): Uint8Array;
  /** True when `point` is a 65-byte uncompressed P-256 point on the curve (not infinity). */
  isValidPoint(point: Uint8Array): boolean;
  /**
   * ECDSA P-256 with SHA-256 over `message`; `signature` is DER (already checked canonical).
   * High S is accepted. Returns false for a wrong signature, never throws for bad bytes.
   */
  verifyP256(point: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

/** A Map that forgets its oldest entry past `limit` (insertion order). */
export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly limit: number) {}

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    if (this.map.size >= this.limit && !this.map.has(key)) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, value);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }
}
