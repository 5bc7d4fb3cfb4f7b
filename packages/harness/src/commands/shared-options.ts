/**
 * yargs option definitions shared by the commands that drive keys, so `--device`,
 * `--timeout`, `--frame-timeout` and `--json` read and behave the same everywhere.
 */

import { UsageError } from '../errors.js';
import { DEFAULT_FRAME_TIMEOUT_MS } from '../frame-timeout.js';
import { MAX_TIMEOUT_MS } from '../flags.js';

/**
 * Reads a time in ms from the command line as typed (so a bad value is repeated as given,
 * not as NaN): a whole number from 1 to a day. Throws UsageError naming the flag.
 */
export function parseMs(flag: string, value: unknown): number {
  const text = String(value).trim();
  const ms = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(ms >= 1 && ms <= MAX_TIMEOUT_MS)) {
    throw new UsageError(
      `--${flag} must be a whole number of ms from 1 to ${MAX_TIMEOUT_MS}, got ${text}`,
    );
  }
  return ms;
}

/** `--device SPEC[,SPEC…]` for commands that run on several keys at once. */
export const DEVICES_OPTION = Object.freeze({
  alias: 'd',
  type: 'string',
  requiresArg: true,
  default: 'virtual',
  describe:
    'virtual, udp:HOST:PORT[@LOCALPORT] (HOST an IP address or localhost), hid, hid:PATH, ' +
    'all, or a comma list',
} as const);

/** `--timeout MS`: how long a touch-gated command waits. */
export const TOUCH_TIMEOUT_OPTION = Object.freeze({
  type: 'string',
  requiresArg: true,
  default: '30000',
  defaultDescription: '30000',
  coerce: (value: unknown) => parseMs('timeout', value),
  describe: 'ms to wait for a touch',
} as const);

/** `--frame-timeout MS`: longest silence between two frames of a key's reply. */
export const FRAME_TIMEOUT_OPTION = Object.freeze({
  type: 'string',
  requiresArg: true,
  default: String(DEFAULT_FRAME_TIMEOUT_MS),
  defaultDescription: String(DEFAULT_FRAME_TIMEOUT_MS),
  coerce: (value: unknown) => parseMs('frame-timeout', value),
  describe: 'ms to wait for each frame of a reply (raise it for a slow key)',
} as const);

/** `--json`: one JSON document on stdout instead of text. */
export const JSON_OPTION = Object.freeze({
  type: 'boolean',
  default: false,
  describe: 'machine-readable output',
} as const);
