import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openHistory } from '@keybench/harness';
import { afterEach, describe, expect, it } from 'vitest';

import { runCli, startVirtualKey, type VirtualKeyProcess } from './helpers/cli.js';

describe('keybench conformance end to end', () => {
  let key: VirtualKeyProcess | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await key?.stop();
    key = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('passes every case against a default virtual key over UDP (JSON report)', async () => {
    key = await startVirtualKey();

    const result = await runCli(
      ['conformance', '--device', `udp:127.0.0.1:${key.port}`, '--reporter', 'json'],
      { timeoutMs: 60_000 },
    );

    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.status).toBe('passed');
    expect(report.summary.fail).toBe(0);
    expect(report.summary.pass).toBeGreaterThan(70);
    // Presence 'auto': only cases that need a refused touch (or a replug/descriptor) skip.
    for (const skipped of report.results.filter((r: { status: string }) => r.status === 'skip')) {
      expect(skipped.reason).toMatch(/withhold presence|replug|report descriptor/);
    }
  }, 70_000);

  it('drives the button over UDP, stores results with --db, and exits 0', async () => {
    key = await startVirtualKey(['--presence', 'button']);
    dir = mkdtempSync(join(tmpdir(), 'keybench-conf-'));
    const db = join(dir, 'history.db');

    const result = await runCli(
      ['conformance', '--device', `udp:127.0.0.1:${key.port}`, '--grep', 'RG-0', '--db', db],
      { timeoutMs: 30_000 },
    );

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/✔ pass RG-01/);
    expect(result.stdout).toContain('presence: button');
    const store = openHistory(db);
    try {
      const [run] = store.runs({ command: 'conformance' });
      expect(run).toMatchObject({ status: 'passed', profile: 'spec', exitCode: 0 });
      const rows = store.conformanceResults({ runId: run!.id });
      expect(rows.map((row) => [row.testId, row.status])).toContainEqual(['RG-01', 'pass']);
    } finally {
      store.close();
    }
  });

  it('writes one JUnit file per device for a comma list', async () => {
    key = await startVirtualKey();
    dir = mkdtempSync(join(tmpdir(), 'keybench-conf-'));
    const out = join(dir, 'report.xml');

    const result = await runCli(
      [
        'conformance',
        '--device',
        `virtual,udp:127.0.0.1:${key.port}`,
        '--grep',
        'AP-0',
        '--reporter',
        'junit',
        '--output',
        out,
      ],
      { timeoutMs: 30_000 },
    );

    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(dir, 'report-virtual.xml'), 'utf8')).toContain('<testsuites');
    expect(readFileSync(join(dir, `report-udp_127.0.0.1_${key.port}.xml`), 'utf8')).toContain(
      'AP-01',
    );
  });

  it('exits 2 when --grep selects no case, alone or with a profile', async () => {
    const typo = await runCli(['conformance', '--device', 'virtual', '--grep', 'nosuchthing']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('no case matches --grep "nosuchthing"');
    expect(typo.stdout).not.toContain('0 of 0');

    const profile = await runCli(['conformance', '--profile', 'google', '--grep', 'CMD-07']);
    expect(profile.code).toBe(2);
    expect(profile.stderr).toContain('under --profile google');
  });

  it('exits 2 when the device cannot be used', async () => {
    const result = await runCli(['conformance', '--device', 'udp:127.0.0.1:9', '--grep', 'FR-08'], {
      timeoutMs: 30_000,
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('device unusable');
  });
});
