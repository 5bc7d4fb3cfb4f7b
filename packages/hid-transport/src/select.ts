import { createHash } from 'node:crypto';

import { TransportError } from './errors.js';
import type { TouchOptions } from './touch.js';
import type { U2fDevice } from './u2f-device.js';

/**
 * Parameters of the dummy REGISTER that makes every key blink (the libfido2 select.c idea):
 * SHA-256 of fixed strings, so a screen device shows an obviously bogus request.
 */
const SELECT_CHALLENGE = createHash('sha256').update('keybench: select a key').digest();
const SELECT_APP = createHash('sha256').update('https://keybench.invalid/select').digest();

export interface SelectOptions extends TouchOptions {
  /** Close the channels of the keys not chosen. Default true. */
  closeOthers?: boolean;
}

/**
 * "Touch the key you want": sends a dummy REGISTER to every device at once and re-sends it
 * while each answers 0x6985; the first key to return 0x9000 is chosen. Keys that fail are
 * dropped (their errors are in the TransportError if none is chosen); the polling of the
 * others is stopped and awaited, and their channels closed unless closeOthers is false.
 *
 * Throws RangeError for an empty list, TransportError('timeout' | 'aborted') when nobody
 * touched a key in time, TransportError('not-found') when every key failed.
 */
export async function selectByTouch(
  devices: readonly U2fDevice[],
  options: SelectOptions = {},
): Promise<U2fDevice> {
  if (devices.length === 0) throw new RangeError('select: no devices to choose from');

  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let prompted = false;
  let chosen: U2fDevice | undefined;

  const polls = devices.map(async (device) => {
    await device.register(SELECT_CHALLENGE, SELECT_APP, {
      signal: stop.signal,
      timeoutMs: options.timeoutMs ?? 30_000,
      pollIntervalMs: options.pollIntervalMs ?? 200,
      onTouchNeeded: () => {
        if (prompted) return;
        prompted = true;
        options.onTouchNeeded?.();
      },
    });
    if (!chosen) {
      chosen = device;
      stop.abort();
    }
  });

  const settled = await Promise.allSettled(polls);
  options.signal?.removeEventListener('abort', onOuterAbort);

  if (options.closeOthers ?? true) {
    await Promise.allSettled(
      devices.filter((device) => device !== chosen).map((device) => device.channel.close()),
    );
  }
  if (chosen) return chosen;

  if (options.signal?.aborted) {
    throw new TransportError('aborted', 'select: aborted by the caller', {
      cause: options.signal.reason,
    });
  }
  const reasons = settled.map((result, i) =>
    result.status === 'rejected' ? `key ${i}: ${String(errorText(result.reason))}` : '',
  );
  const timedOut = settled.some(
    (result) =>
      result.status === 'rejected' &&
      result.reason instanceof TransportError &&
      result.reason.kind === 'timeout',
  );
  throw new TransportError(
    timedOut ? 'timeout' : 'not-found',
    `select: no key was touched (${reasons.filter(Boolean).join('; ')})`,
  );
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : error);
