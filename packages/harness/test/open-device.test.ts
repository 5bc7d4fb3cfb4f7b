import { listFidoDevices } from '@keybench/hid-transport';
import { describe, expect, it } from 'vitest';

import { parseDeviceList } from '../src/device-spec.js';
import { DeviceError } from '../src/errors.js';
import { expandSpecs, openDevice, resolveDevices } from '../src/open-device.js';

describe('expanding and opening a device list', () => {
  it('a bare hid with no key attached stays in the list and fails only when opened', async (ctx) => {
    const attached = await listFidoDevices().catch(() => []);
    // With a FIDO key plugged in, bare hid expands to it; this case is about none attached.
    if (attached.length > 0) ctx.skip();

    const specs = await expandSpecs(parseDeviceList('virtual,hid'));
    expect(specs.map((spec) => spec.text)).toEqual(['virtual', 'hid']);
    expect((await resolveDevices('virtual,hid')).map((spec) => spec.text)).toEqual([
      'virtual',
      'hid',
    ]);

    const opening = openDevice(specs[1]!);
    await expect(opening).rejects.toThrow(DeviceError);
    await expect(opening).rejects.toThrow('device "hid": no FIDO HID device found');

    const virtual = await openDevice(specs[0]!);
    try {
      expect(await virtual.device.version()).toBe('U2F_V2');
    } finally {
      await virtual.close();
    }
  });

  it('all with nothing attached, alone, names no key at all', async (ctx) => {
    if ((await listFidoDevices().catch(() => [])).length > 0) ctx.skip();
    await expect(resolveDevices('all')).rejects.toThrow('device "all": no FIDO keys attached');
  });
});
