import { afterEach, describe, expect, it } from 'vitest';

import { runCli, startVirtualKey, type VirtualKeyProcess } from './helpers/cli.js';

describe('keybench check end to end', () => {
  let key: VirtualKeyProcess | undefined;

  afterEach(async () => {
    await key?.stop();
    key = undefined;
  });

  it('verifies a registration and an authentication with an in-process key', async () => {
    const result = await runCli(['check', '--device', 'virtual', '--json']);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const outcome = JSON.parse(result.stdout);
    expect(outcome.ok).toBe(true);
    expect(outcome.result.version).toBe('U2F_V2');
    expect(outcome.result.counter).toBeGreaterThanOrEqual(1);
    expect(outcome.result.userPresence & 1).toBe(1);
  });

  it('verifies against a virtual key in its own process over UDP', async () => {
    key = await startVirtualKey();

    const result = await runCli(['check', '--device', `udp:127.0.0.1:${key.port}`]);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('registration and authentication verified');
    expect(result.stdout).toMatch(/counter\s+1 \(user present\)/);
    expect(result.stdout).toMatch(/key handle\s+64 bytes/);

    const again = await runCli(['check', '--device', `udp:127.0.0.1:${key.port}`, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).result.counter).toBe(2);
  });

  it.each([
    ['bad-attestation-signature', 'verify registration'],
    ['bad-assertion-signature', 'verify authentication'],
  ])('exits 1 naming the failed step when the key injects %s', async (fault, step) => {
    key = await startVirtualKey(['--fault', fault]);

    const result = await runCli(['check', '--device', `udp:127.0.0.1:${key.port}`]);

    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toContain(`${step}:`);
    expect(result.stderr).toMatch(/signature/i);
    expect(result.stdout).not.toContain('verified');
  });

  it('reports a usage error with exit code 2', async () => {
    const result = await runCli(['check', '--device', 'usb:nothing']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('device "usb:nothing" is not a device spec');
  });

  it('reports an unreachable UDP key as a device error with exit code 2', async () => {
    const result = await runCli(['check', '--device', 'udp:127.0.0.1:9', '--timeout', '500'], {
      timeoutMs: 20_000,
    });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('udp:127.0.0.1:9');
  });
});
