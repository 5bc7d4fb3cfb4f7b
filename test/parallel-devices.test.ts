import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openHistory } from '@keybench/harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLI, runCli, startVirtualKey, type VirtualKeyProcess } from './helpers/cli.js';

// Issue 9, "Parallel devices": a comma list runs every key at once, one result per key, and
// the combined exit code is the highest of theirs; a dead key does not stop the others.

/** A loopback UDP port nothing listens on: bound, noted, released. */
async function deadPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

let keys: VirtualKeyProcess[] = [];
let dir: string;
let list: string;
let dead: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keybench-e2e-parallel-'));
  keys = await Promise.all([startVirtualKey(), startVirtualKey()]);
  dead = `udp:127.0.0.1:${await deadPort()}`;
  list = [...keys.map((key) => `udp:127.0.0.1:${key.port}`), dead].join(',');
});

afterAll(async () => {
  await Promise.all(keys.map((key) => key.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe('several keys at once (--device A,B,C with C dead)', () => {
  it('check: a verified result for each live key, a named failure for the dead one, exit 2', async () => {
    const result = await runCli(['check', '--device', list, '--json']);

    expect(result.code, result.stderr).toBe(2);
    const outcomes = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    expect(outcomes.map((o) => o.device)).toEqual(list.split(','));
    expect(
      outcomes.slice(0, 2).map((o) => [o.ok, (o.result as { counter: number }).counter]),
    ).toEqual([
      [true, 1],
      [true, 1],
    ]);
    expect(outcomes[2]).toMatchObject({ ok: false, exitCode: 2 });
    expect(outcomes[2]!.message).toContain(`device "${dead}"`);
    expect(outcomes[2]!.message).toMatch(/INIT: no reply/);
  });

  it('counters: each live key measured and stored, the dead one reported, exit 2', async () => {
    const db = join(dir, 'counters.db');
    const result = await runCli([
      'counters',
      '--device',
      list,
      '--rounds',
      '3',
      '--timeout',
      '2000',
      '--db',
      db,
      '--json',
    ]);

    expect(result.code, result.stderr).toBe(2);
    const { devices, exitCode } = JSON.parse(result.stdout);
    expect(exitCode).toBe(2);
    expect(devices.map((d: { exitCode: number }) => d.exitCode)).toEqual([0, 0, 2]);
    expect(devices[2].error).toContain(dead);
    for (const device of devices.slice(0, 2)) {
      expect(device.credentials.every((c: { signs: number }) => c.signs >= 3)).toBe(true);
    }
    const store = openHistory(db);
    try {
      expect(store.devices()).toHaveLength(2);
      expect(store.runs()[0]).toMatchObject({ status: 'error', exitCode: 2 });
    } finally {
      store.close();
    }
  });

  it('conformance: a report per key, the dead one unusable, exit 2', async () => {
    const result = await runCli([
      'conformance',
      '--device',
      list,
      '--grep',
      'AP-0',
      '--reporter',
      'json',
    ]);

    expect(result.code, result.stderr).toBe(2);
    const reports = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    expect(reports.map((r) => [r.device, r.status])).toEqual([
      [`udp:127.0.0.1:${keys[0]!.port}`, 'passed'],
      [`udp:127.0.0.1:${keys[1]!.port}`, 'passed'],
      [dead, 'unusable'],
    ]);
    expect(reports[2]!.error).toMatch(/INIT: no reply/);
  });

  it('conformance: a key killed mid-run fails its own report only', async () => {
    const victim = await startVirtualKey();
    const db = join(dir, 'conformance.db');
    const survivor = `udp:127.0.0.1:${keys[0]!.port}`;
    const doomed = `udp:127.0.0.1:${victim.port}`;
    const child = spawn(
      process.execPath,
      [
        CLI,
        'conformance',
        '--device',
        `${survivor},${doomed}`,
        '--grep',
        'FR-',
        '--reporter',
        'json',
        '--db',
        db,
      ],
      { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));

    try {
      // Kill the second key once its run has stored a few results.
      const deadline = Date.now() + 20_000;
      while (resultsOf(db, doomed) < 3) {
        if (Date.now() > deadline) throw new Error('the doomed key stored no results');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await victim.stop('SIGKILL');
      const code = await exited;

      const reports = JSON.parse(stdout) as Array<{ device: string; status: string }>;
      expect(reports.map((r) => [r.device, r.status])).toEqual([
        [survivor, 'passed'],
        [doomed, 'failed'],
      ]);
      expect(code).toBe(1);
    } finally {
      child.kill('SIGKILL');
      await victim.stop('SIGKILL');
    }
  }, 30_000);
});

/** Results stored so far for the run on `spec` (the history names a device by its spec). */
function resultsOf(db: string, spec: string): number {
  try {
    const store = openHistory(db);
    try {
      const device = store.devices().find((d) => d.description === spec);
      return device ? store.conformanceResults({ deviceId: device.id }).length : 0;
    } finally {
      store.close();
    }
  } catch {
    return 0; // not created yet
  }
}
