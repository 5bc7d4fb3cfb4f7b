/** Exit codes of every keybench command (DESIGN.md). */
export const EXIT = Object.freeze({
  OK: 0,
  CHECK_FAILED: 1,
  USAGE_OR_DEVICE: 2,
} as const);

/** A wrong flag or argument: exit 2 with the message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The device could not be found, opened or talked to: exit 2 with the message. */
export class DeviceError extends Error {
  override readonly name = 'DeviceError';
}

/** A port to bind is taken by another program: exit 2 with the message. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}
