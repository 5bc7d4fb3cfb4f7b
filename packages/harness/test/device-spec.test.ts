import { describe, expect, it } from 'vitest';

import { parseDeviceList, parseDeviceSpec } from '../src/device-spec.js';
import { UsageError } from '../src/errors.js';

describe('device specs', () => {
  it('parses the fixed words', () => {
    expect(parseDeviceSpec('virtual')).toEqual({ kind: 'virtual', text: 'virtual' });
    expect(parseDeviceSpec('hid')).toEqual({ kind: 'hid', text: 'hid' });
    expect(parseDeviceSpec('all')).toEqual({ kind: 'all', text: 'all' });
  });

  it('parses hid:PATH', () => {
    expect(parseDeviceSpec('hid:/dev/hidraw3')).toEqual({
      kind: 'hid',
      text: 'hid:/dev/hidraw3',
      path: '/dev/hidraw3',
    });
  });

  it('parses udp with and without a fixed local port', () => {
    expect(parseDeviceSpec('udp:127.0.0.1:8111')).toEqual({
      kind: 'udp',
      text: 'udp:127.0.0.1:8111',
      host: '127.0.0.1',
      port: 8111,
    });
    // localhost is the one name understood, as 127.0.0.1: no name is ever looked up.
    expect(parseDeviceSpec('udp:localhost:8111@7112')).toMatchObject({
      host: '127.0.0.1',
      port: 8111,
      localPort: 7112,
    });
    expect(parseDeviceSpec('udp:[::1]:8111')).toMatchObject({ host: '::1', port: 8111 });
  });

  it.each([
    ['usb:1', 'is not a device spec'],
    ['udp:127.0.0.1', 'expected udp:HOST:PORT'],
    ['udp:127.0.0.1:0', 'PORT must be a port number'],
    ['udp:127.0.0.1:70000', 'PORT must be a port number'],
    ['udp:127.0.0.1:8111@x', 'LOCALPORT must be a port number'],
    ['hid:', 'expected hid:PATH'],
    ['udp:keys.example:8111', 'host "keys.example" is not an IP address; use an address such as'],
    ['udp:[fe80::zz]:8111', 'is not an IP address'],
  ])('rejects %s naming what is wrong', (spec, message) => {
    expect(() => parseDeviceSpec(spec)).toThrow(UsageError);
    expect(() => parseDeviceSpec(spec)).toThrow(message);
  });

  it('parses comma lists and rejects empty entries', () => {
    expect(parseDeviceList('udp:127.0.0.1:8111, udp:127.0.0.1:8112').map((s) => s.text)).toEqual([
      'udp:127.0.0.1:8111',
      'udp:127.0.0.1:8112',
    ]);
    expect(() => parseDeviceList('virtual,,virtual')).toThrow('has an empty entry');
  });
});
