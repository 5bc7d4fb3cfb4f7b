import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openHistory } from '@keybench/harness';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  CLI,
  runCli,
  startVirtualKey,
  type CliResult,
  type VirtualKeyProcess,
} from './helpers/cli.js';

let dir: string;
let keys: VirtualKeyProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keybench-e2e-counters-'));
});

afterEach(async () => {
  await Promise.all(keys.map((key) => key.stop('SIGKILL')));
  keys = [];
  rmSync(dir, { recursive: true, force: true });
});

async function key(args: string[]): Promise<VirtualKeyProcess> {
  const started = await startVirtualKey(args);
  keys.push(started);
  return started;
}

/** Starts `keybench counters` in the background; the promise settles when it exits. */
function startCounters(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'counters', ...args], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Signatures stored so far, read from the history while another process writes it. */
function storedSigns(db: string): number {
  try {
    const store = openHistory(db);
    try {
      return store.counterObservations().filter((o) => o.event === 'sign').length;
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
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Runs counters against a key process, SIGKILLs the key once 10 signatures are stored,
 * restarts it from the same state file with `restartArgs`, and runs counters again.
 */
async function killAndRestart(credentials: number, restartArgs: string[], json = true) {
  const state = join(dir, 'key.json');
  const db = join(dir, 'history.db');
  const common = ['--db', db, '--credentials', String(credentials), '--timeout', '1500'];

  const first = await key(['--state', state]);
  const running = startCounters([
    '--device',
    `udp:127.0.0.1:${first.port}`,
    '--rounds',
    '100000',
    ...common,
    '--json',
  ]);
  await until(() => storedSigns(db) >= 10, 20_000, '10 stored signatures');
  await first.stop('SIGKILL');
  const killed = await running;

  const second = await key(['--state', state, ...restartArgs]);
  const again = await runCli(
    [
      'counters',
      '--device',
      `udp:127.0.0.1:${second.port}`,
      '--rounds',
      '3',
      ...common,
      ...(json ? ['--json'] : []),
    ],
    { timeoutMs: 30_000 },
  );
  const history = await runCli(['history', '--db', db, '--json']);
  return { killed, again, history, db };
}

describe('keybench counters across a SIGKILLed virtual key', () => {
  it('keeps what it measured and finds no regression after a restart from the state file', async () => {
    const { killed, again, history, db } = await killAndRestart(2, [], false);

    // The run whose key died ends as a device error, but its signatures were kept.
    expect(killed.code, killed.stderr).toBe(2);
    const cut = JSON.parse(killed.stdout);
    expect(cut.devices[0].error).toContain('udp:127.0.0.1');
    expect(storedSigns(db)).toBeGreaterThanOrEqual(10);

    // The run after the restart reuses both stored credentials and prints its summary.
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expect(again.stderr).toContain('reusing 2 stored credential(s)');
    expect(again.stdout).toMatch(
      /credential\s+key handle\s+reused\s+signs\s+first\s+last\s+earlier run\s+verdict/,
    );
    const rows = again.stdout.split('\n').filter((line) => /^#\d+ /.test(line));
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      const [, , reused, , first, , earlier] = row.split(/\s{2,}/);
      expect(reused).toBe('yes');
      const [value, run] = /^(\d+) \(run (\d+)\)$/.exec(earlier!)!.slice(1).map(Number);
      expect(Number(first)).toBeGreaterThan(value!);
      expect(run).toBe(cut.runId);
    }
    expect(again.stdout).toMatch(/counter\s+global/);
    expect(again.stdout).toMatch(/step\s+1 per signature/);
    expect(again.stdout).toContain('check-only 0x6985 no increment');
    expect(again.stdout).toContain('0 regression(s) on 1 key(s)');

    expect(history.code).toBe(0);
    const stored = JSON.parse(history.stdout);
    expect(stored.regressions).toEqual([]);
    expect(stored.runs.map((r: { status: string }) => r.status)).toEqual(['error', 'passed']);
    expect(stored.devices).toHaveLength(1);
  });

  it('finds exactly one regression when the key restarts with the reset fault', async () => {
    // One credential: the reset sends each credential's counter back once.
    const { killed, again, history } = await killAndRestart(1, [
      '--fault',
      'counter-reset-on-restart',
    ]);

    expect(killed.code).toBe(2);
    expect(again.code, again.stderr).toBe(1);
    const stored = JSON.parse(history.stdout);
    expect(stored.regressions).toHaveLength(1);
    const [regression] = stored.regressions;
    const cutRun = JSON.parse(killed.stdout).runId;
    expect(regression).toMatchObject({
      kind: 'history-regression',
      value: 1,
      previousRunId: cutRun,
    });
    expect(regression.previousValue).toBeGreaterThan(1);
    expect(regression.message).toMatch(
      new RegExp(
        `^credential #\\d+ \\(kh [0-9a-f]{8}…\\): counter 1 in run \\d+ is lower than ${regression.previousValue}, .* in run ${cutRun}$`,
      ),
    );

    const text = await runCli(['history', '--db', join(dir, 'history.db')]);
    expect(text.stdout).toContain('Regressions (1):');
    expect(text.stdout).toContain(regression.message);
  });

  it('keeps every stored observation when the counters process itself is killed', async () => {
    const good = await key([]);
    const db = join(dir, 'history.db');
    const running = startCounters([
      '--device',
      `udp:127.0.0.1:${good.port}`,
      '--db',
      db,
      '--rounds',
      '100000',
    ]);
    await until(() => storedSigns(db) >= 10, 20_000, '10 stored signatures');
    const reader = openHistory(db);
    const pid = reader.runs()[0]!.pid!;
    reader.close();
    process.kill(pid, 'SIGKILL');
    const killed = await running;
    expect(killed.signal).toBe('SIGKILL');

    const store = openHistory(db);
    try {
      const [run] = store.runs();
      expect(run).toMatchObject({ status: 'running', endedAt: null });
      const values = store
        .counterObservations({ runId: run!.id })
        .filter((o) => o.event === 'sign');
      expect(values.length).toBeGreaterThanOrEqual(10);
    } finally {
      store.close();
    }
    const history = await runCli(['history', '--db', db]);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/#1\s+counters\s+\S+\s+unfinished\s+interrupted/);
  });
});
