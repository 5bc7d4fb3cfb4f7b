import { createSocket } from 'node:dgram';

import { afterEach, describe, expect, it } from 'vitest';

import { runCli, startVirtualKey, type VirtualKeyProcess } from './helpers/cli.js';

/** A UDP port on loopback that nothing answers on: bound, read, then released. */
async function silentPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

describe('keybench fuzz from the command line', () => {
  let key: VirtualKeyProcess | undefined;

  afterEach(async () => {
    await key?.stop();
    key = undefined;
  });

  it('prints the seed and exits 0 when the virtual key survives', async () => {
    const result = await runCli(['fuzz', '--seed', '31337', '--iterations', '200']);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/seed 31337/);
    expect(result.stdout).toMatch(/fuzz passed: 200\/200 iterations/);
  });

  it('exits 1 with the seed, iteration and shrunk input when a fault breaks the key', async () => {
    const result = await runCli([
      'fuzz',
      '--seed',
      '42',
      '--iterations',
      '200',
      '--fault',
      'stale-reply',
    ]);

    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/FAIL iteration \d+ \(seed 42\): wrong-answer: VERSION answered/);
    expect(result.stdout).toMatch(
      /smallest input that reproduces it on a fresh device \(1 report,/,
    );
    expect(result.stdout).toMatch(
      /reproduce: keybench fuzz --device virtual --seed 42 .*--start \d+ --iterations 1/,
    );
  });

  it('writes a JSON report with --json, the same inputs for the same seed', async () => {
    const run = () =>
      runCli(['fuzz', '--seed', '9', '--iterations', '50', '--mode', 'apdu', '--json']);
    const [a, b] = [await run(), await run()];

    expect(a.code, a.stderr).toBe(0);
    const report = JSON.parse(a.stdout);
    expect(report).toMatchObject({ status: 'passed', seed: 9, completed: 50, mode: 'apdu' });
    expect(report.byKind).toEqual({ apdu: 50 });
    expect(JSON.parse(b.stdout).byLabel).toEqual(report.byLabel);
    expect(a.stderr).toMatch(/seed 9/);
  });

  it('fuzzes a virtual key over UDP', async () => {
    key = await startVirtualKey();
    const result = await runCli(
      [
        'fuzz',
        '--device',
        `udp:127.0.0.1:${key.port}`,
        '--seed',
        '3',
        '--iterations',
        '100',
        '--settle',
        '5',
      ],
      { timeoutMs: 60_000 },
    );

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/fuzz passed: 100\/100 iterations/);
  }, 70_000);

  it('exits 2 with a clear message when nothing answers on UDP', async () => {
    const port = await silentPort();
    const result = await runCli(['fuzz', '--device', `udp:127.0.0.1:${port}`, '--timeout', '300']);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`device "udp:127.0.0.1:${port}"`));
  });

  it.each([
    [['--iterations', '-1'], /--iterations must be an integer/],
    [['--iterations', '0'], /--iterations must be an integer/],
    [['--seed', 'abc'], /--seed must be an integer 0\.\.4294967295, got "abc"/],
    [['--fault', 'no-such-fault'], /--fault: .*unknown fault "no-such-fault"/],
  ])('exits 2 naming the flag for %j', async (flags, message) => {
    const result = await runCli(['fuzz', ...flags]);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
