import { DeviceError, EXIT, UsageError } from './errors.js';
import { ExchangeFailure } from './exchange.js';

/** The exit code for an error that reached the top of a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ExchangeFailure) return EXIT.CHECK_FAILED;
  if (error instanceof UsageError || error instanceof DeviceError) return EXIT.USAGE_OR_DEVICE;
  if (error instanceof TypeError || error instanceof RangeError) return EXIT.USAGE_OR_DEVICE;
  return EXIT.USAGE_OR_DEVICE;
}
