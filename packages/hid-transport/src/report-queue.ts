import type { TransportError } from './errors.js';

/**
 * Reports waiting for one reader at a time: what the in-process pair and the UDP connection
 * are made of. Queued reports are read before an end is reported; after `end` new reports
 * are ignored and reads throw the end's error.
 * @internal
 */
export class ReportQueue {
  private readonly reports: Uint8Array[] = [];
  private waiter: ((report: Uint8Array | null) => void) | undefined;
  private failure: TransportError | undefined;
  private readonly what: string;
  private readonly limit: number;

  /** `what` names the connection in messages; beyond `limit` the oldest report is dropped. */
  constructor(what: string, limit = Infinity) {
    this.what = what;
    this.limit = limit;
  }

  /** The error `end` was called with, once it was. */
  get ended(): TransportError | undefined {
    return this.failure;
  }

  /** Hands a report to the waiting reader or queues it. Returns false when one was dropped. */
  push(report: Uint8Array): boolean {
    if (this.failure) return true;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter(report);
      return true;
    }
    this.reports.push(report);
    if (this.reports.length <= this.limit) return true;
    this.reports.shift();
    return false;
  }

  /**
   * The next report within `timeoutMs` (0 polls), or null. Throws the end's error once the
   * queue is empty, TypeError when another read is pending.
   */
  take(timeoutMs: number): Promise<Uint8Array | null> {
    const next = this.reports.shift();
    if (next) return Promise.resolve(next);
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) {
      return Promise.reject(new TypeError(`${this.what}: a read is already pending`));
    }
    // A zero timeout is a poll: answer now instead of after a timer tick.
    if (timeoutMs <= 0) return Promise.resolve(null);

    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(null);
      }, timeoutMs);
      this.waiter = (report) => {
        clearTimeout(timer);
        if (report) resolve(report);
        else reject(this.failure);
      };
    });
  }

  /** Ends the queue with `error` (closed, or an I/O failure); `discard` drops queued reports. */
  end(error: TransportError, discard: boolean): void {
    this.failure = error;
    if (discard) this.reports.length = 0;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(null);
  }
}
