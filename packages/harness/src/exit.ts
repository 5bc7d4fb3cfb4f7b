import { DeviceError, EXIT, PortInUseError, UsageError } from './errors.js';
import { ExchangeFailure } from './exchange.js';

/** The exit code for an error that reached the top of a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ExchangeFailure) return EXIT.CHECK_FAILED;
  if (error instanceof UsageError || error instanceof DeviceError) return EXIT.USAGE_OR_DEVICE;
  if (error instanceof PortInUseError) return EXIT.USAGE_OR_DEVICE;
  if (error instanceof TypeError || error instanceof RangeError) return EXIT.USAGE_OR_DEVICE;
  return EXIT.USAGE_OR_DEVICE;
}

/**
 * The exit code of a command that ran on several keys: the highest of theirs (a device that
 * could not be used, 2, outranks a failed check, 1, which outranks success, 0).
 */
export function combinedExitCode(codes: readonly number[]): number {
  return Math.max(EXIT.OK, ...codes);
}
