import { describe, expect, it } from 'vitest';

import {
  CtapHidChannel,
  TransportError,
  classifyHidMessage,
  listFidoDevices,
  loadNodeHid,
  openHid,
  toHex,
} from '../src/index.js';
import { fakeNodeHid } from './support/fake-node-hid.js';
import { report } from './support/scripted-connection.js';

const yubikey = {
  vendorId: 0x1050,
  productId: 0x0407,
  path: '/dev/hidraw3',
  manufacturer: 'Yubico',
  product: 'YubiKey OTP+FIDO+CCID',
  serialNumber: '',
  release: 0x0526,
  interface: 1,
  usagePage: 0xf1d0,
  usage: 1,
};

describe('discovery', () => {
  it('lists usage page 0xF1D0 usage 1 only, de-duplicated by path', async () => {
    const { hid } = fakeNodeHid([
      yubikey,
      { ...yubikey, usagePage: 0x0001, usage: 0x06 }, // the keyboard collection of the same key
      { ...yubikey }, // the same path reported twice (several collections per node)
      { vendorId: 0x1050, productId: 0x0407, path: '/dev/hidraw4', usagePage: 0xf1d0, usage: 2 },
      { vendorId: 0x046d, productId: 0xc52b, path: '/dev/hidraw0' }, // usage omitted when 0
      { vendorId: 0xffff, productId: 0xffff, path: '/dev/hidraw9', usagePage: 0xf1d0, usage: 1 },
      { vendorId: 1, productId: 2, usagePage: 0xf1d0, usage: 1 }, // no path: cannot be opened
    ]);

    const found = await listFidoDevices({ hid });
    expect(found).toEqual([
      {
        path: '/dev/hidraw3',
        vendorId: 0x1050,
        productId: 0x0407,
        manufacturer: 'Yubico',
        product: 'YubiKey OTP+FIDO+CCID',
        release: 0x0526,
        interface: 1,
        usagePage: 0xf1d0,
        usage: 1,
      },
      { path: '/dev/hidraw9', vendorId: 0xffff, productId: 0xffff, usagePage: 0xf1d0, usage: 1 },
    ]);
  });

  it('maps an enumeration failure to TransportError', async () => {
    const { hid } = fakeNodeHid();
    hid.devicesAsync = async () => {
      throw new Error('hid_enumerate failed');
    };
    await expect(listFidoDevices({ hid })).rejects.toBeInstanceOf(TransportError);
  });

  it('loads the real node-hid lazily and lists no devices on a machine without USB', async () => {
    const hid = await loadNodeHid();
    expect(typeof hid.devicesAsync).toBe('function');
    expect(Array.isArray(await listFidoDevices())).toBe(true);
  });
});

describe('node-hid connection', () => {
  it('writes 65 bytes: report id 0x00 then the 64-byte report', async () => {
    const { hid, devices } = fakeNodeHid();
    const connection = await openHid('/dev/hidraw3', { hid, platform: 'linux' });
    const frame = report('00123456 86 0008 0102030405060708');

    await connection.write(frame);
    const written = devices.get('/dev/hidraw3')!.writes[0]!;
    expect(written.length).toBe(65);
    expect(toHex(written)).toBe('00' + toHex(frame));
    await expect(connection.write(new Uint8Array(65))).rejects.toThrow(RangeError);
  });

  it('reports a short write as an I/O error', async () => {
    const { hid, devices } = fakeNodeHid();
    const connection = await openHid('/dev/hidraw3', { hid, platform: 'linux' });
    devices.get('/dev/hidraw3')!.writeResult = 12;
    await expect(connection.write(new Uint8Array(64))).rejects.toMatchObject({ kind: 'io' });
  });

  it('maps the empty buffer of a timed-out read to null, reading in short slices', async () => {
    const { hid, devices } = fakeNodeHid();
    const connection = await openHid('/dev/hidraw3', { hid, platform: 'linux', readSliceMs: 20 });

    expect(await connection.read(70)).toBeNull();
    const slices = devices.get('/dev/hidraw3')!.readTimeouts;
    expect(slices.length).toBeGreaterThanOrEqual(3);
    expect(slices.every((ms) => Number.isInteger(ms) && ms >= 0 && ms <= 20)).toBe(true);
  });

  it('returns 64-byte reports and drops and counts reads of another length', async () => {
    const { hid, devices } = fakeNodeHid();
    const connection = await openHid('/dev/hidraw3', { hid, platform: 'linux' });
    const device = devices.get('/dev/hidraw3')!;
    const good = Buffer.from(report('01020304 83 0002 9000'));
    device.inbox.push(Buffer.alloc(63, 1), Buffer.alloc(65, 2), good);

    expect(toHex((await connection.read(100))!)).toBe(toHex(good));
    expect(connection.droppedReports).toBe(2);
  });

  it('opens non-exclusively on macOS only', async () => {
    const { hid, opened } = fakeNodeHid();
    await openHid('IOService:/a', { hid, platform: 'darwin' });
    await openHid('/dev/hidraw1', { hid, platform: 'linux' });
    expect(opened).toEqual([
      { path: 'IOService:/a', options: { nonExclusive: true } },
      { path: '/dev/hidraw1', options: undefined },
    ]);
  });

  it.each([
    [
      'linux',
      'cannot open device with path /dev/hidraw3: ' +
        "Failed to open a device with path '/dev/hidraw3': Permission denied",
      'permission',
      /README section "Access to keys on Linux"/,
    ],
    [
      'win32',
      'cannot open device with path \\\\?\\hid#vid_1050: Access is denied.',
      'access-denied',
      /administrator/,
    ],
    [
      'linux',
      'cannot open device with path /dev/hidraw7: ' +
        "Failed to open a device with path '/dev/hidraw7': No such file or directory",
      'gone',
      /gone/,
    ],
    [
      'darwin',
      'cannot open device with path x: (0xE00002C5) exclusive access',
      'busy',
      /another program/,
    ],
    ['linux', 'cannot open device: Device or resource busy', 'busy', /busy/],
    ['linux', 'something odd', 'io', /I\/O error \(node-hid: something odd\)/],
  ] as const)('classifies open errors on %s: %s', async (platform, text, kind, advice) => {
    const { hid, openErrors } = fakeNodeHid();
    openErrors.set('p', new Error(text));
    const error = await openHid('p', { hid, platform }).catch((e) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error.kind).toBe(kind);
    expect(error.message).toMatch(advice);
    expect(error.message).toContain(text);
  });

  it('classifies an unplug during a read as "gone"', async () => {
    const { hid, devices } = fakeNodeHid();
    const connection = await openHid('/dev/hidraw3', { hid, platform: 'linux' });
    devices.get('/dev/hidraw3')!.inbox.push(
      new Error('hid_read_timeout: unexpected poll error (device disconnected)'),
    );
    await expect(connection.read(100)).rejects.toMatchObject({ kind: 'gone' });
  });

  it('classifies write failures and use after close', async () => {
    const { hid, devices } = fakeNodeHid();
    const connection = await openHid('/dev/hidraw3', { hid, platform: 'linux' });
    devices.get('/dev/hidraw3')!.writeError = new Error('Cannot write to hid device');
    await expect(connection.write(new Uint8Array(64))).rejects.toMatchObject({ kind: 'io' });

    await connection.close();
    expect(devices.get('/dev/hidraw3')!.closed).toBe(true);
    await expect(connection.read(10)).rejects.toMatchObject({ kind: 'closed' });
    await connection.close();
  });

  it('knows the node-hid messages by kind', () => {
    expect(classifyHidMessage('device has been closed')).toBe('closed');
    expect(classifyHidMessage('could not read from HID device')).toBe('gone');
    expect(classifyHidMessage('No HID devices with requested VID/PID found in the system.')).toBe(
      'gone',
    );
  });

  it('carries a whole channel INIT through the adapter with the report id prefix', async () => {
    const { hid, devices } = fakeNodeHid();
    const connection = await openHid('/dev/hidraw3', { hid, platform: 'linux', readSliceMs: 5 });
    const device = devices.get('/dev/hidraw3')!;
    const write = device.write.bind(device);
    device.write = async (data) => {
      const n = await write(data);
      const nonce = Buffer.from(data).subarray(8, 16).toString('hex');
      device.inbox.push(
        Buffer.from(report(`ffffffff 86 0011 ${nonce} 00000001 0205020105`)),
      );
      return n;
    };

    const channel = await CtapHidChannel.open(connection);
    expect(channel.cid).toBe(1);
    expect(device.writes[0]!.subarray(0, 6).toString('hex')).toBe('00ffffffff86');
  });
});
