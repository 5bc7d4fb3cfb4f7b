import { UsageError } from './errors.js';

/**
 * Checks a whole-number flag (`--rounds`, `--port`, `--timeout`…): yargs turns `abc` into
 * NaN and lets `-1` through. Throws UsageError naming the flag, the range and what came.
 */
export function integerFlag(flag: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const got = Number.isNaN(value) ? 'something that is not a number' : String(value);
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got ${got}`);
  }
  return value;
}

/**
 * Checks a flag that must be an absolute http(s) URL (`--app-id`, `--server`, `--facet`).
 * Throws UsageError naming the flag and what came.
 */
export function urlFlag(flag: string, value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new UsageError(`--${flag} must be an http or https URL, got "${value}"`);
  }
  return value;
}

/** Longest wait a `--timeout` may ask for: one day, in ms (setTimeout's limit is ~24.8 days). */
export const MAX_TIMEOUT_MS = 86_400_000;
