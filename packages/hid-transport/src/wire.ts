import { now, throwIfAborted } from './clock.js';
import type { HidConnection } from './connection.js';
import { REPORT_SIZE } from './constants.js';
import { TransportError } from './errors.js';
import { toHex } from './hex.js';
import type { TraceHook } from './trace.js';

/**
 * Report-level I/O under a channel: traces every report, drops and counts reports of the
 * wrong length, and reads in short slices so an AbortSignal is noticed within one slice.
 * @internal
 */
export class Wire {
  readonly connection: HidConnection;
  private readonly trace: TraceHook | undefined;
  private readonly sliceMs: number;
  /** Reports of the wrong length read and discarded on this channel. */
  dropped = 0;

  constructor(connection: HidConnection, trace: TraceHook | undefined, sliceMs: number) {
    this.connection = connection;
    this.trace = trace;
    this.sliceMs = sliceMs;
  }

  /** Records one report in the trace. */
  note(direction: 'out' | 'in' | 'drop', report: Uint8Array, note?: string): void {
    if (!this.trace) return;
    const event = { direction, hex: toHex(report), time: now() };
    this.trace(note === undefined ? event : { ...event, note });
  }

  /** Writes one 64-byte report. Throws TransportError. */
  async send(report: Uint8Array, note?: string): Promise<void> {
    this.note('out', report, note);
    try {
      await this.connection.write(report);
    } catch (error) {
      throw asTransportError(error, `${this.connection.description}: write failed`);
    }
  }

  /**
   * Reads one 64-byte report within `waitMs`, or null. Reports of another length are
   * dropped, counted and traced. Throws TransportError (connection failure, abort).
   */
  async receive(waitMs: number, signal: AbortSignal | undefined): Promise<Uint8Array | null> {
    const until = now() + waitMs;

    for (;;) {
      throwIfAborted(signal, `${this.connection.description}: read`);
      const remaining = Math.max(0, until - now());
      const slice = Math.min(remaining, this.sliceMs);

      let report: Uint8Array | null;
      try {
        report = await this.connection.read(Math.ceil(slice));
      } catch (error) {
        throw asTransportError(error, `${this.connection.description}: read failed`);
      }

      if (report && report.length !== REPORT_SIZE) {
        this.dropped++;
        this.note('drop', report, `expected ${REPORT_SIZE} bytes, got ${report.length}`);
        if (now() >= until) return null;
        continue;
      }
      if (report) return report;
      if (remaining <= slice) return null;
    }
  }

  /**
   * Discards reports already queued, without waiting (polls with a zero timeout). Before a
   * request nothing queued can be its answer: it is a duplicate, a stale reply or traffic
   * for another program. Returns how many were discarded.
   */
  discardQueued(maxReports = 512): Promise<number> {
    return this.discard(0, 'queued before the request, discarded', maxReports);
  }

  /**
   * Reads and discards whatever is queued until nothing arrives for `quietMs` (at most
   * `maxReports`), so stale replies left by another program or a timed-out request are gone.
   * Returns how many reports were discarded.
   */
  drain(quietMs: number, maxReports = 512): Promise<number> {
    return this.discard(quietMs, 'stale, drained', maxReports);
  }

  /**
   * Discards reports of any length until none comes for `quietMs`. A report of the wrong
   * length does not end the discarding: a stale reply may be queued behind it.
   */
  private async discard(quietMs: number, note: string, maxReports: number): Promise<number> {
    let count = 0;
    while (count < maxReports) {
      let report: Uint8Array | null;
      try {
        report = await this.connection.read(Math.ceil(quietMs));
      } catch (error) {
        throw asTransportError(error, `${this.connection.description}: read failed`);
      }
      if (!report) break;
      count++;
      if (report.length === REPORT_SIZE) {
        this.note('drop', report, note);
      } else {
        this.dropped++;
        this.note('drop', report, `expected ${REPORT_SIZE} bytes, got ${report.length}`);
      }
    }
    return count;
  }
}

/** Keeps TransportErrors and wraps anything else a connection threw as kind 'io'. */
export function asTransportError(error: unknown, message: string): TransportError {
  if (error instanceof TransportError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new TransportError('io', `${message}: ${detail}`, { cause: error });
}
