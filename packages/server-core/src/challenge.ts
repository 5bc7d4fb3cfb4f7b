import { randomBytes } from 'node:crypto';

import { websafeDecode, websafeEncode } from './base64url.js';
import { CHALLENGE_BOUNDS } from './limits.js';

/** Length of a generated challenge in bytes. */
export const CHALLENGE_LENGTH = 32;

/**
 * Keeps issued challenges so each can be used once and only while fresh. Keys are the
 * canonical (unpadded) base64url of the challenge bytes.
 */
export interface ChallengeStore {
  /** Remembers a challenge just handed to a client. */
  issue(challenge: string): void;
  /** Removes the challenge; true only if it was issued, unused and unexpired. */
  consume(challenge: string): boolean;
}

/** Options of {@link MemoryChallengeStore}. */
export interface MemoryChallengeStoreOptions {
  /** Lifetime of a challenge in milliseconds (default 5 minutes). */
  ttlMs?: number;
  /** Most challenges kept at once; the oldest go first (default 100 000). */
  maxEntries?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * An in-process ChallengeStore: single-use challenges that expire after `ttlMs`.
 *
 * @throws RangeError for a non-positive ttlMs or maxEntries.
 */
export class MemoryChallengeStore implements ChallengeStore {
  private readonly entries = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: MemoryChallengeStoreOptions = {}) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
    if (!(this.ttlMs > 0)) throw new RangeError('MemoryChallengeStore: ttlMs must be > 0');
    if (!(this.maxEntries > 0)) {
      throw new RangeError('MemoryChallengeStore: maxEntries must be > 0');
    }
  }

  issue(challenge: string): void {
    const now = this.now();
    this.prune(now);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    // Re-issued challenges move to the end, keeping the map in expiry order for prune().
    const key = storeKey(challenge);
    this.entries.delete(key);
    this.entries.set(key, now + this.ttlMs);
  }

  consume(challenge: string): boolean {
    const key = storeKey(challenge);
    const expires = this.entries.get(key);
    if (expires === undefined) return false;
    this.entries.delete(key);
    return this.now() < expires;
  }

  /** Number of challenges held (expired ones included until the next issue). */
  get size(): number {
    return this.entries.size;
  }

  private prune(now: number): void {
    for (const [key, expires] of this.entries) {
      if (expires > now) break;
      this.entries.delete(key);
    }
  }
}

/** Canonical key for a challenge: padded or unpadded spellings map to the same entry. */
function storeKey(challenge: string): string {
  try {
    return websafeEncode(websafeDecode(challenge, 'challenge'));
  } catch {
    return `raw:${challenge}`;
  }
}

/**
 * A challenge as base64url without padding: 32 random bytes, or the given bytes/text, which
 * must hold CHALLENGE_BOUNDS.MIN..MAX bytes (a short challenge is guessable).
 *
 * @throws TypeError for a challenge that is neither bytes nor base64url text; RangeError for
 *   one outside the length bounds.
 */
export function makeChallenge(challenge?: string | Uint8Array): string {
  if (challenge === undefined) return websafeEncode(randomBytes(CHALLENGE_LENGTH));

  let bytes: Uint8Array;
  if (challenge instanceof Uint8Array) {
    bytes = challenge;
  } else if (typeof challenge === 'string') {
    try {
      bytes = websafeDecode(challenge, 'challenge');
    } catch {
      throw new TypeError('challenge: expected base64url text');
    }
  } else {
    throw new TypeError('challenge: expected a base64url string or bytes');
  }
  if (bytes.length < CHALLENGE_BOUNDS.MIN || bytes.length > CHALLENGE_BOUNDS.MAX) {
    throw new RangeError(`challenge: ${bytes.length} bytes, expected ` +
      `${CHALLENGE_BOUNDS.MIN}..${CHALLENGE_BOUNDS.MAX}`);
  }
  return websafeEncode(bytes);
}
