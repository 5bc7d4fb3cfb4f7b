import { listFidoDevices } from '@keybench/hid-transport';

import type { DeviceSpec } from './device-spec.js';

/** What USB tells about a key beyond its attestation certificate. */
export interface UsbIdentity {
  product?: string;
  serial?: string;
}

/**
 * The USB product string and serial number of a `hid:PATH` key, as node-hid lists them; empty
 * for other specs or a key no longer listed. Never throws for a key that has gone: identity is
 * a best effort, the attestation certificate is what identifies a key.
 */
export async function usbIdentity(spec: DeviceSpec): Promise<UsbIdentity> {
  if (spec.kind !== 'hid' || spec.path === undefined) return {};

  const devices = await listFidoDevices().catch(() => []);
  const info = devices.find((d) => d.path === spec.path);
  return {
    ...(info?.product ? { product: info.product } : {}),
    ...(info?.serialNumber ? { serial: info.serialNumber } : {}),
  };
}
