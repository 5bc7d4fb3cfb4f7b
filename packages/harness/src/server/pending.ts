/** Options of {@link PendingRequests}. */
export interface PendingOptions {
  /** How long an issued request may be answered (default 5 minutes). */
  ttlMs?: number;
  /** Most requests kept per user and kind; the oldest is dropped (default 16). */
  perUser?: number;
  /** Most requests kept in all; the oldest is dropped (default 100 000). */
  total?: number;
  now?: () => number;
}

interface Entry<T> {
  owner: string;
  request: T;
  expires: number;
}

/** Challenges compare without padding, so padded and unpadded spellings are one entry. */
function canonical(challenge: string): string {
  return challenge.replace(/=+$/, '');
}

/**
 * Requests handed to clients (by /enroll and /sign) and not yet answered, kept in memory by
 * owner (user and kind) and challenge. Each can be taken once, until it expires; a server
 * restart forgets them (the client asks again), never the stored registrations.
 */
export class PendingRequests<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Challenge keys of each owner, oldest first. */
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly ttlMs: number;
  private readonly perUser: number;
  private readonly total: number;
  private readonly now: () => number;

  /** Throws RangeError for a non-positive limit. */
  constructor(options: PendingOptions = {}) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.perUser = options.perUser ?? 16;
    this.total = options.total ?? 100_000;
    this.now = options.now ?? Date.now;
    if (!(this.ttlMs > 0 && this.perUser > 0 && this.total > 0)) {
      throw new RangeError('PendingRequests: ttlMs, perUser and total must be > 0');
    }
  }

  /** Remembers `request`, issued to `owner` with `challenge`. */
  add(owner: string, challenge: string, request: T): void {
    const now = this.now();
    this.prune(now);

    const mine = this.byOwner.get(owner);
    if (mine !== undefined && mine.size >= this.perUser) this.remove(mine.values().next().value!);
    if (this.entries.size >= this.total) this.remove(this.entries.keys().next().value!);

    const key = canonical(challenge);
    this.remove(key);
    this.entries.set(key, { owner, request, expires: now + this.ttlMs });
    this.byOwner.set(owner, (this.byOwner.get(owner) ?? new Set()).add(key));
  }

  /**
   * Removes and returns the request `owner` was given with `challenge`; undefined if there
   * is none, it was taken already, belongs to someone else or has expired.
   */
  take(owner: string, challenge: string): T | undefined {
    const key = canonical(challenge);
    const entry = this.entries.get(key);
    if (entry === undefined || entry.owner !== owner) return undefined;
    this.remove(key);
    return entry.expires > this.now() ? entry.request : undefined;
  }

  /** True when `owner` has an unexpired request waiting. */
  has(owner: string): boolean {
    const now = this.now();
    for (const key of this.byOwner.get(owner) ?? []) {
      if ((this.entries.get(key)?.expires ?? 0) > now) return true;
    }
    return false;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries are in insertion order, and all share one lifetime: expired ones come first. */
  private prune(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expires > now) break;
      this.remove(key);
    }
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    const mine = this.byOwner.get(entry.owner);
    mine?.delete(key);
    if (mine?.size === 0) this.byOwner.delete(entry.owner);
  }
}
