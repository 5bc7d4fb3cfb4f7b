import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openHistory } from '@keybench/harness';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { CLI, runCli, startVirtualKey, type VirtualKeyProcess } from './helpers/cli.js';

let dir: string;
let key: VirtualKeyProcess | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keybench-e2e-conf-history-'));
});

afterEach(async () => {
  await key?.stop('SIGKILL');
  key = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Conformance results stored so far, read while another process writes the file. */
function storedResults(db: string): number {
  try {
    const store = openHistory(db);
    try {
      return store.conformanceResults().length;
    } finally {
      store.close();
    }
  } catch {
    return 0; // not created yet
  }
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('conformance in the history', () => {
  it('keeps the results of a run killed half-way, linked to the device', async () => {
    key = await startVirtualKey();
    const db = join(dir, 'history.db');
    const device = `udp:127.0.0.1:${key.port}`;

    const child = spawn(process.execPath, [CLI, 'conformance', '--device', device, '--db', db], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('close', (_code, signal) => resolve(signal)),
    );
    try {
      await until(() => storedResults(db) >= 5, 20_000, '5 stored conformance results');
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');

    const store = openHistory(db);
    let deviceId: number;
    try {
      const [run] = store.runs({ command: 'conformance' });
      expect(run).toMatchObject({ status: 'running', endedAt: null });
      const [stored] = store.devices();
      deviceId = stored!.id;
      expect(stored!.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(run!.deviceIds).toEqual([deviceId]);
      const results = store.conformanceResults({ runId: run!.id });
      expect(results.length).toBeGreaterThanOrEqual(5);
      expect(results.every((r) => r.deviceId === deviceId)).toBe(true);
      expect(results[0]).toMatchObject({ testId: 'FR-01', status: 'pass' });
    } finally {
      store.close();
    }

    const history = await runCli(['history', '--db', db]);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toMatch(/conformance \(spec\).*interrupted/);

    const byDevice = await runCli(['history', '--db', db, '--device', `${deviceId}`, '--json']);
    expect(byDevice.code, byDevice.stderr).toBe(0);
    const [listed] = JSON.parse(byDevice.stdout).runs;
    expect(listed).toMatchObject({ command: 'conformance', deviceIds: [deviceId] });
    expect(listed.conformanceResults).toBeGreaterThanOrEqual(5);

    const html = join(dir, 'report.html');
    const report = await runCli(['report', '--db', db, '--html', html, '--device', `${deviceId}`]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain('1 run(s)');
    expect(readFileSync(html, 'utf8')).toContain('FR-01');
  }, 30_000);

  it('links a finished run to the device the run identified', async () => {
    key = await startVirtualKey();
    const db = join(dir, 'history.db');

    const result = await runCli([
      'conformance',
      '--device',
      `udp:127.0.0.1:${key.port}`,
      '--grep',
      'AP-0',
      '--db',
      db,
    ]);

    expect(result.code, result.stderr).toBe(0);
    const store = openHistory(db);
    try {
      const [run] = store.runs({ command: 'conformance' });
      const [device] = store.devices();
      expect(run).toMatchObject({ status: 'passed', exitCode: 0, deviceIds: [device!.id] });
      expect(store.runs({ deviceId: device!.id }).map((r) => r.id)).toEqual([run!.id]);
      expect(device!.subject).toBeTruthy();
    } finally {
      store.close();
    }
  }, 30_000);
});
