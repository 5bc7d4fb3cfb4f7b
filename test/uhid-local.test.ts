import { accessSync, constants } from 'node:fs';

import { afterEach, describe, expect, it } from 'vitest';

import { runCli, spawnCli, type SpawnedCli } from './helpers/cli.js';

/**
 * The real kernel path on this machine, where it exists: the virtual key becomes a HID device
 * through /dev/uhid, and `keybench check --device hid` reaches it through node-hid and hidraw.
 * Our CI machines' kernel has no uhid; there the same path is proven in a QEMU guest
 * (test/uhid-vm.test.ts).
 */
function uhidUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `uhid exists only on Linux, not ${process.platform}`;
  try {
    accessSync('/dev/uhid', constants.R_OK | constants.W_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? '/dev/uhid is missing (no uhid module in this kernel; the VM test covers this path)'
      : `/dev/uhid cannot be opened for reading and writing (${code})`;
  }
}

const reason = uhidUnavailable();

describe('the virtual key as a kernel HID device, on this machine', () => {
  let key: SpawnedCli | undefined;
  afterEach(async () => {
    await key?.stop();
    key = undefined;
  });

  // Skipped where /dev/uhid is missing or closed to us: `reason` says which.
  const title = `check --device hid through uhid (${reason ?? 'uhid present'})`;
  it.skipIf(reason !== undefined)(title, async () => {
    key = await spawnCli(['virtual-key', '--uhid', '--serial', `KEYBENCH-TEST-${process.pid}`], {
      ready: /virtual-key listening on uhid:/,
    });

    // The kernel needs a moment to create the hidraw node; poll `devices` a bounded time.
    let path: string | undefined;
    for (let attempt = 0; attempt < 50 && !path; attempt++) {
      const listed = await runCli(['devices', '--json']);
      const devices = JSON.parse(listed.stdout) as { path: string; serialNumber?: string }[];
      path = devices.find((d) => d.serialNumber === `KEYBENCH-TEST-${process.pid}`)?.path;
      if (!path) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(path, 'the uhid key was never listed by keybench devices').toBeDefined();

    const result = await runCli(['check', '--device', `hid:${path}`]);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('registration and authentication verified');
  }, 60_000);
});
