import { isIP } from 'node:net';

import { UsageError } from './errors.js';

/** Where a key is reached; parsed from the `--device` string. */
export type DeviceSpec =
  | { kind: 'virtual'; text: string }
  | { kind: 'udp'; text: string; host: string; port: number; localPort?: number }
  | { kind: 'hid'; text: string; path?: string }
  | { kind: 'all'; text: string };

const PORT_HELP = 'a port number from 1 to 65535';

function parsePort(value: string, what: string, spec: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new UsageError(`device "${spec}": ${what} must be ${PORT_HELP}, got "${value}"`);
  }
  return port;
}

/**
 * The IP address a UDP spec's HOST stands for. UDP connections take addresses only, so no
 * name is ever looked up (a lookup could leave the machine); `localhost` is the one name
 * understood, as 127.0.0.1. Throws UsageError for any other name.
 */
export function udpHostAddress(host: string, where: string): string {
  if (host.toLowerCase() === 'localhost') return '127.0.0.1';
  if (isIP(host) !== 0) return host;
  throw new UsageError(
    `${where}: host "${host}" is not an IP address; use an address such as 127.0.0.1 ` +
      '(names are not looked up, except localhost)',
  );
}

/** Splits `udp:HOST:PORT[@LOCALPORT]`; HOST may be `[::1]` for IPv6, or `localhost`. */
function parseUdp(spec: string): DeviceSpec {
  const rest = spec.slice('udp:'.length);
  const match = /^(\[[^\]]+\]|[^:@[\]]+):([^@]+)(?:@(.+))?$/.exec(rest);
  if (!match) {
    throw new UsageError(
      `device "${spec}": expected udp:HOST:PORT or udp:HOST:PORT@LOCALPORT (e.g. udp:127.0.0.1:8111@7112)`,
    );
  }
  const host = udpHostAddress(match[1]!.replace(/^\[(.*)\]$/, '$1'), `device "${spec}"`);
  const port = parsePort(match[2]!, 'PORT', spec);
  const localPort = match[3] === undefined ? undefined : parsePort(match[3], 'LOCALPORT', spec);
  return localPort === undefined
    ? { kind: 'udp', text: spec, host, port }
    : { kind: 'udp', text: spec, host, port, localPort };
}

/**
 * Parses one device spec: `virtual`, `udp:HOST:PORT`, `udp:HOST:PORT@LOCALPORT`, `hid`,
 * `hid:PATH` or `all`. Throws UsageError naming the spec and the accepted forms.
 */
export function parseDeviceSpec(text: string): DeviceSpec {
  const spec = text.trim();
  if (spec === 'virtual') return { kind: 'virtual', text: spec };
  if (spec === 'all') return { kind: 'all', text: spec };
  if (spec === 'hid') return { kind: 'hid', text: spec };
  if (spec.startsWith('hid:')) {
    const path = spec.slice(4);
    if (!path) throw new UsageError(`device "${spec}": expected hid:PATH, e.g. hid:/dev/hidraw3`);
    return { kind: 'hid', text: spec, path };
  }
  if (spec.startsWith('udp:')) return parseUdp(spec);
  throw new UsageError(
    `device "${text}" is not a device spec; use virtual, udp:HOST:PORT[@LOCALPORT], hid, ` +
      'hid:PATH or all (several separated by commas)',
  );
}

/** Parses a comma-separated list of device specs (`udp:…:8111,udp:…:8112`). */
export function parseDeviceList(text: string): DeviceSpec[] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) {
    throw new UsageError(`device list "${text}" has an empty entry`);
  }
  return parts.map(parseDeviceSpec);
}
