import { TransportError, type TransportErrorKind } from './errors.js';

/** The README section Linux users are sent to when hidraw nodes are not readable. */
export const LINUX_ACCESS_HELP = 'see the README section "Access to keys on Linux"';

/**
 * node-hid errors carry no code, only hidapi's text (node-hid 3.4.0), so they are
 * classified by message. Each pattern was seen in node-hid, hidapi or issue reports.
 */
const PATTERNS: readonly { kind: TransportErrorKind; test: RegExp }[] = [
  // Windows 10 1903+ blocks non-admin processes from FIDO collections (python-fido2#55).
  { kind: 'access-denied', test: /access is denied|access denied/i },
  // Linux hidraw without a udev rule: open(2) fails with EACCES.
  { kind: 'permission', test: /permission denied|EACCES|operation not permitted|EPERM/i },
  // macOS exclusive open (seize) held by another program; Linux EBUSY.
  {
    kind: 'busy',
    test: /busy|exclusive access|0xe00002c5|resource temporarily unavailable|EAGAIN/i,
  },
  { kind: 'closed', test: /device has been closed|closed device|already closed/i },
  // Unplugged or never there: ENOENT at open, EIO / "device disconnected" while reading.
  {
    kind: 'gone',
    test: new RegExp(
      'no such file|no such device|ENODEV|ENOENT|disconnected|could not read from hid|' +
        'no hid devices|not found|input/output error|EIO',
      'i',
    ),
  },
];

/** Which kind of failure a node-hid error message describes ('io' when unknown). */
export function classifyHidMessage(message: string): TransportErrorKind {
  return PATTERNS.find((pattern) => pattern.test.test(message))?.kind ?? 'io';
}

/**
 * Turns a node-hid failure into a TransportError with a message a person can act on.
 * `operation` is 'open', 'read' or 'write'.
 */
export function hidError(
  error: unknown,
  path: string,
  operation: 'open' | 'read' | 'write' | 'enumerate',
  platform: NodeJS.Platform = process.platform,
): TransportError {
  if (error instanceof TransportError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  const kind = classifyHidMessage(detail);
  const head = `hid: cannot ${operation} ${path}`;

  const advice: Record<TransportErrorKind, string> = {
    permission:
      platform === 'linux'
        ? 'permission denied; this user may not open the hidraw nodes of FIDO keys: ' +
          LINUX_ACCESS_HELP
        : 'permission denied by the operating system',
    'access-denied':
      platform === 'win32'
        ? 'access denied; Windows lets only administrators open FIDO keys directly, ' +
          'so run KeyBench from an elevated prompt'
        : 'access denied',
    busy:
      platform === 'darwin'
        ? 'the key is held exclusively by another program (close it, or let both share it)'
        : 'the key is busy with another program; retry shortly',
    gone: 'the device is gone (unplugged, or the path no longer exists)',
    closed: 'the connection was already closed',
    timeout: 'timed out',
    aborted: 'aborted',
    'not-found': 'no such device',
    io: 'I/O error',
  };
  return new TransportError(kind, `${head}: ${advice[kind]} (node-hid: ${detail})`, {
    cause: error,
  });
}
