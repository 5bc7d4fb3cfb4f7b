import { PortInUseError } from './errors.js';

/**
 * The error to show when binding `host:port` failed because the port is taken (EADDRINUSE,
 * looked for through `cause`), naming the flag that chooses another; undefined for any
 * other error, which then goes on as it is.
 */
export function portInUse(
  error: unknown,
  where: { port: number; host: string; flag: string },
): PortInUseError | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') continue;
    return new PortInUseError(
      `port ${where.port} on ${where.host} is already in use (another keybench ` +
        `virtual-key or serve?); choose another with ${where.flag}, or 0 for a free one`,
      { cause: error },
    );
  }
  return undefined;
}
