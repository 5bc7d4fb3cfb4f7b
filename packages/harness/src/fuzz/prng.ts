/**
 * The fuzzer's random source: xoshiro128** (Blackman and Vigna, 2018) seeded through
 * splitmix32. Small, fast and fully determined by its seed, so a seed names a run: the same
 * seed gives the same inputs on every machine. Not for secrets.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seeds the four state words from `seed` (any u32) with splitmix32. */
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }

  /**
   * The generator for one use of one iteration: `stream` 0 builds the input, 1 the health
   * check. Every iteration is reproducible on its own (`--start`), whatever ran before it.
   */
  static forIteration(seed: number, iteration: number, stream = 0): Prng {
    const mixed =
      Math.imul((seed ^ 0x5bd1e995) >>> 0, 0x9e3779b1) ^ Math.imul(iteration, 0x85ebca77);
    return new Prng((mixed ^ Math.imul(stream + 1, 0xc2b2ae3d)) >>> 0);
  }

  /** The next 32 random bits as an unsigned integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** An integer in 0..n-1. Throws RangeError unless n is an integer 1..2^32. */
  below(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) {
      throw new RangeError(`prng: bound must be an integer 1..2^32, got ${n}`);
    }
    return Math.floor((this.u32() / 2 ** 32) * n);
  }

  /** An integer in min..max (inclusive). Throws RangeError when max < min. */
  between(min: number, max: number): number {
    if (max < min) throw new RangeError(`prng: empty range ${min}..${max}`);
    return min + this.below(max - min + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }

  /** One element of a non-empty list. Throws RangeError for an empty one. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('prng: cannot pick from an empty list');
    return items[this.below(items.length)]!;
  }

  /** `length` random bytes. */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
