/**
 * One HID connection to a device: 64-byte reports in and out. Implemented by node-hid
 * (hidraw), UDP (simulated firmware) and an in-process pair.
 */
export interface HidConnection {
  /** Sends one 64-byte report (without report id). Throws TransportError. */
  write(report: Uint8Array): Promise<void>;
  /**
   * Waits up to `timeoutMs` for one 64-byte report; resolves null on timeout. A timeout of 0
   * is a poll: it resolves at once with a queued report or null.
   * Throws TransportError when the connection fails or is closed.
   */
  read(timeoutMs: number): Promise<Uint8Array | null>;
  /** Releases the device; later reads and writes throw TransportError('closed'). */
  close(): Promise<void>;
  /** A short description for messages (e.g. "udp:127.0.0.1:8111"). */
  readonly description: string;
  /** Reports of the wrong length this connection read and discarded, if it counts them. */
  readonly droppedReports?: number;
}
