/**
 * yargs option definitions shared by the commands that drive keys, so `--device`,
 * `--timeout` and `--json` read and behave the same everywhere.
 */

/** `--device SPEC[,SPEC…]` for commands that run on several keys at once. */
export const DEVICES_OPTION = Object.freeze({
  alias: 'd',
  type: 'string',
  requiresArg: true,
  default: 'virtual',
  describe: 'virtual, udp:HOST:PORT[@LOCALPORT], hid, hid:PATH, all, or a comma list',
} as const);

/** `--timeout MS`: how long a touch-gated command waits. */
export const TOUCH_TIMEOUT_OPTION = Object.freeze({
  type: 'number',
  requiresArg: true,
  default: 30_000,
  describe: 'ms to wait for a touch',
} as const);

/** `--json`: one JSON document on stdout instead of text. */
export const JSON_OPTION = Object.freeze({
  type: 'boolean',
  default: false,
  describe: 'machine-readable output',
} as const);
