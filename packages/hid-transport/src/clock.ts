import { TransportError } from './errors.js';

/** Milliseconds on a monotonic clock. */
export const now = (): number => performance.now();

/** A point in time that a whole operation must finish by. */
export class Deadline {
  readonly at: number;
  readonly totalMs: number;

  constructor(totalMs: number) {
    this.totalMs = totalMs;
    this.at = now() + totalMs;
  }

  /** Milliseconds left, never negative. */
  remaining(): number {
    return Math.max(0, this.at - now());
  }

  get expired(): boolean {
    return now() >= this.at;
  }
}

/** The error for an operation cancelled through its AbortSignal. */
export function abortedError(what: string, signal: AbortSignal): TransportError {
  return new TransportError('aborted', `${what}: aborted by the caller`, { cause: signal.reason });
}

/** Throws TransportError('aborted') when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortedError(what, signal);
}

/**
 * Waits `ms` milliseconds; rejects with TransportError('aborted') as soon as the signal
 * fires, so a sleeping poll loop never holds up a cancel.
 */
export function sleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(what, signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(what, signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Checks an option that is a count of milliseconds. Throws RangeError. */
export function checkMs(name: string, value: number, min = 0): number {
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(`${name} must be a number of milliseconds >= ${min}, got ${value}`);
  }
  return value;
}
