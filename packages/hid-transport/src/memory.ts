import type { HidConnection } from './connection.js';
import { REPORT_SIZE } from './constants.js';
import { TransportError } from './errors.js';
import { ReportQueue } from './report-queue.js';

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
    if (this.inbox.ended) throw new TransportError('closed', `${this.description}: closed`);
    if (report.length !== REPORT_SIZE) {
      throw new RangeError(`${this.description}: report must be 64 bytes, got ${report.length}`);
    }
    this.outbox.push(Uint8Array.from(report));
  }

  read(timeoutMs: number): Promise<Uint8Array | null> {
    return this.inbox.take(timeoutMs);
  }

  async close(): Promise<void> {
    const closed = new TransportError('closed', 'memory: closed');
    this.inbox.end(closed, true);
    this.outbox.end(closed, true);
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
  const toDevice = new ReportQueue(description);
  const toHost = new ReportQueue(description);
  return {
    host: new MemoryConnection(description, toHost, toDevice),
    device: new MemoryConnection(`${description} (device end)`, toDevice, toHost),
  };
}
