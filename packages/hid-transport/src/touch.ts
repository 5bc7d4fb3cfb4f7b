import { Deadline, checkMs, sleep, throwIfAborted } from './clock.js';
import { SW } from './constants.js';
import { ApduError, TransportError } from './errors.js';

export interface TouchOptions {
  signal?: AbortSignal;
  /** Deadline for the whole operation, touch included. Default 30000. */
  timeoutMs?: number;
  /** Called once, the first time the key answers 0x6985 (waiting for a touch). */
  onTouchNeeded?: () => void;
  /** Pause between re-sends while the key waits for a touch. Default 200 (100–250 advised). */
  pollIntervalMs?: number;
}

/** One attempt: sends the request with at most `timeoutMs` and returns the device's answer. */
export type Attempt = (timeoutMs: number) => Promise<{ data: Uint8Array; sw: number }>;

/**
 * Re-sends the identical request while the key answers 0x6985 (CONDITIONS_NOT_SATISFIED,
 * test of user presence required), every `pollIntervalMs` until 0x9000, the deadline or an
 * abort. Screen devices (trezor-firmware#737) keep answering 0x6985 until the user accepts.
 *
 * Returns the response data. Throws ApduError for any other status word,
 * TransportError('timeout') when no touch came in time, TransportError('aborted').
 */
export async function untilTouched(
  what: string,
  attempt: Attempt,
  options: TouchOptions = {},
): Promise<Uint8Array> {
  const deadline = new Deadline(checkMs(`${what}: timeoutMs`, options.timeoutMs ?? 30_000, 1));
  const interval = checkMs(`${what}: pollIntervalMs`, options.pollIntervalMs ?? 200);
  let prompted = false;

  for (;;) {
    throwIfAborted(options.signal, what);
    const { data, sw } = await attempt(Math.max(1, deadline.remaining()));
    if (sw === SW.NO_ERROR) return data;
    if (sw !== SW.CONDITIONS_NOT_SATISFIED) throw new ApduError(sw);

    if (!prompted) {
      prompted = true;
      options.onTouchNeeded?.();
    }
    if (deadline.remaining() <= interval) {
      throw new TransportError(
        'timeout',
        `${what}: no user presence (touch) within ${deadline.totalMs} ms`,
      );
    }
    await sleep(interval, options.signal, what);
  }
}
