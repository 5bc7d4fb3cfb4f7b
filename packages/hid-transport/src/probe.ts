import { AUTH_P1, SW } from './constants.js';
import { ApduError } from './errors.js';
import type { U2fDevice } from './u2f-device.js';

/** What one device said when asked whether it holds a key handle. */
export type ProbeOutcome =
  | { device: U2fDevice; holds: true }
  | { device: U2fDevice; holds: false; sw: number }
  | { device: U2fDevice; holds: false; error: unknown };

export interface ProbeOptions {
  signal?: AbortSignal;
  /** Deadline per device. Default 3000. */
  timeoutMs?: number;
}

/**
 * Asks one device, with AUTHENTICATE check-only (P1 0x07), whether it holds `keyHandle` for
 * `appParam`. 0x6985 means yes (RAW §5.1); 0x6a80 and 0x6700 (libfido2 PR#819) mean no.
 * Any other status or failure is reported, never thrown: one misbehaving key must not stop
 * the search. A key that (against the spec) signs a check-only request also holds it.
 */
export async function probeKeyHandle(
  device: U2fDevice,
  appParam: Uint8Array,
  keyHandle: Uint8Array,
  options: ProbeOptions = {},
): Promise<ProbeOutcome> {
  // A fresh request object per call, so nothing of one probe carries into the next.
  const challengeParam = new Uint8Array(32);
  const request = { p1: AUTH_P1.CHECK_ONLY, timeoutMs: options.timeoutMs ?? 3000 };

  try {
    await device.authenticate(challengeParam, appParam, keyHandle, {
      ...request,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { device, holds: true };
  } catch (error) {
    if (error instanceof ApduError) {
      if (error.sw === SW.CONDITIONS_NOT_SATISFIED) return { device, holds: true };
      if (error.sw === SW.WRONG_DATA || error.sw === SW.WRONG_LENGTH) {
        return { device, holds: false, sw: error.sw };
      }
    }
    if (error instanceof RangeError || error instanceof TypeError) throw error;
    return { device, holds: false, error };
  }
}

/**
 * Finds which of several devices holds `keyHandle`: probes all of them at once and returns
 * the first holder in the order given (or undefined), with every device's outcome. Never
 * throws because of a device; throws RangeError for a bad appParam or keyHandle.
 */
export async function findDeviceForHandle(
  devices: readonly U2fDevice[],
  appParam: Uint8Array,
  keyHandle: Uint8Array,
  options: ProbeOptions = {},
): Promise<{ device: U2fDevice | undefined; outcomes: ProbeOutcome[] }> {
  const outcomes = await Promise.all(
    devices.map((device) => probeKeyHandle(device, appParam, keyHandle, options)),
  );
  return { device: outcomes.find((outcome) => outcome.holds)?.device, outcomes };
}
