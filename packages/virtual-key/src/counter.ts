import type { FaultSet } from './faults.js';
import type { KeyState } from './state.js';

/**
 * Signature counters. `next` is the only way a counter moves: it is called for a signature
 * that is about to be returned with 9000, never for 6985, 6A80 or check-only. The new value
 * is persisted (by `persist`) before it is returned, so it is on disk before the reply leaves.
 */
export class Counters {
  private regressed = false;

  constructor(
    private readonly state: KeyState,
    private readonly faults: FaultSet,
    private readonly persist: () => void,
  ) {}

  /** Where a new counter starts: 0, or the counter-wrap fault's start value. */
  get initial(): number {
    return this.faults.value('counter-wrap') ?? 0;
  }

  /** The global counter. */
  get global(): number {
    return this.state.counter;
  }

  /**
   * The counter value for the next signature of credential `credentialId`, persisted; or
   * undefined when the counter is exhausted at 0xffffffff (good firmware refuses to sign
   * rather than wrap).
   */
  next(credentialId: string): number | undefined {
    const perCredential =
      this.state.settings.counterMode === 'per-credential' && !this.faults.has('counter-shared');
    const current = perCredential
      ? (this.state.counters[credentialId] ?? this.initial)
      : this.state.counter;

    let value = this.advance(current);
    if (value === undefined) return undefined;
    if (!this.regressed && this.faults.strikes('counter-regress')) {
      this.regressed = true;
      value = Math.max(0, current - 2);
    }

    if (perCredential) this.state.counters[credentialId] = value;
    else this.state.counter = value;
    this.persist();
    return value;
  }

  private advance(current: number): number | undefined {
    if (this.faults.has('counter-stuck')) return current;
    if (current < 0xffffffff) return current + 1;
    return this.faults.has('counter-wrap') ? 0 : undefined;
  }
}
