import { afterEach, describe, expect, it } from 'vitest';

import { runCli, startVirtualKey, type VirtualKeyProcess } from './helpers/cli.js';

describe('keybench conformance against a slow key', () => {
  let key: VirtualKeyProcess | undefined;
  afterEach(async () => {
    await key?.stop();
    key = undefined;
  });

  it('fails at the default frame timeout and passes with --frame-timeout', async () => {
    // Every reply comes 2.5 s late: past the 2 s default, inside 4 s.
    key = await startVirtualKey(['--fault', 'slow-reply=2500']);
    const device = `udp:127.0.0.1:${key.port}`;

    const slow = await runCli(['conformance', '--device', device, '--grep', 'AP-01'], {
      timeoutMs: 40_000,
    });
    expect(slow.code, slow.stdout + slow.stderr).not.toBe(0);
    expect(slow.stdout + slow.stderr).toMatch(/frame-timeout/);

    const patient = await runCli(
      ['conformance', '--device', device, '--grep', 'AP-01', '--frame-timeout', '4000'],
      { timeoutMs: 40_000 },
    );
    expect(patient.code, patient.stdout + patient.stderr).toBe(0);
    expect(patient.stdout).toMatch(/1 passed, 0 failed/);
  }, 60_000);
});
