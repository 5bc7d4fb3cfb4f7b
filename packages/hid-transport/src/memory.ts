import type { HidConnection } from './connection.js';
import { REPORT_SIZE } from './constants.js';
import { TransportError } from './errors.js';

/** A queue of reports with one waiting reader at a time; what the in-process pair is made of. */
class ReportQueue {
  private readonly reports: Uint8Array[] = [];
  private waiter: ((report: Uint8Array | null) => void) | undefined;
  closed = false;

  push(report: Uint8Array): void {
    if (this.closed) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter(report);
    } else {
      this.reports.push(report);
    }
  }

  take(timeoutMs: number): Promise<Uint8Array | null> {
    const next = this.reports.shift();
    if (next) return Promise.resolve(next);
    if (this.closed) return Promise.reject(new TransportError('closed', 'memory: closed'));
    if (this.waiter) {
      return Promise.reject(new TypeError('memory: a read is already pending'));
    }
    // A zero timeout is a poll: answer now instead of after a timer tick.
    if (timeoutMs <= 0) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(null);
      }, Math.max(0, timeoutMs));
      this.waiter = (report) => {
        clearTimeout(timer);
        if (report) resolve(report);
        else reject(new TransportError('closed', 'memory: closed'));
      };
    });
  }

  close(): void {
    this.closed = true;
    this.reports.length = 0;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(null);
  }
}

/** One end of an in-process pair. */
export class MemoryConnection implements HidConnection {
  readonly description: string;
  private readonly inbox: ReportQueue;
  private readonly outbox: ReportQueue;

  /** @internal use createMemoryPair */
  constructor(description: string, inbox: ReportQueue, outbox: ReportQueue) {
    this.description = description;
    this.inbox = inbox;
    this.outbox = outbox;
  }

  async write(report: Uint8Array): Promise<void> {
    if (this.inbox.closed) throw new TransportError('closed', `${this.description}: closed`);
    if (report.length !== REPORT_SIZE) {
      throw new RangeError(`${this.description}: report must be 64 bytes, got ${report.length}`);
    }
    this.outbox.push(Uint8Array.from(report));
  }

  read(timeoutMs: number): Promise<Uint8Array | null> {
    return this.inbox.take(timeoutMs);
  }

  async close(): Promise<void> {
    this.inbox.close();
    this.outbox.close();
  }
}

/**
 * Two connected in-process ends: what one writes, the other reads. `host` is for the
 * CTAPHID host, `device` for a device implementation. Closing either closes both.
 */
export function createMemoryPair(description = 'memory'): {
  host: MemoryConnection;
  device: MemoryConnection;
} {
  const toDevice = new ReportQueue();
  const toHost = new ReportQueue();
  return {
    host: new MemoryConnection(description, toHost, toDevice),
    device: new MemoryConnection(`${description} (device end)`, toDevice, toHost),
  };
}
