import { listFidoDevices } from '@keybench/hid-transport';
import type { CommandModule } from 'yargs';

import { createOutput, table } from '../output.js';

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** `keybench devices`: FIDO HID keys found through node-hid. */
export const devicesCommand: CommandModule<object, { json: boolean }> = {
  command: 'devices',
  describe: 'List FIDO HID devices (usage page 0xF1D0) attached to this machine',
  builder: (yargs) => yargs.option('json', { type: 'boolean', default: false }),
  handler: async (args) => {
    const out = createOutput({ json: args.json });
    const devices = await listFidoDevices();
    if (out.json) {
      out.emitJson(devices);
      return;
    }
    if (devices.length === 0) {
      out.line('No FIDO HID devices found (none with usage page 0xF1D0, usage 1).');
      out.line(
        'Plug a key in; on Linux, see "Access to keys on Linux" in the README if one is plugged in.',
      );
      return;
    }
    const rows = devices.map((d) => [
      `hid:${d.path}`,
      `${hex4(d.vendorId)}:${hex4(d.productId)}`,
      d.manufacturer ?? '',
      d.product ?? '',
      d.serialNumber ?? '',
      `0x${hex4(d.usagePage)}/${d.usage}`,
    ]);
    out.line(
      table(['device', 'vid:pid', 'manufacturer', 'product', 'serial', 'usage'], rows).join('\n'),
    );
  },
};
