import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openHistory } from '@keybench/harness';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { runCli, startVirtualKey, type VirtualKeyProcess } from './helpers/cli.js';

let dir: string;
let key: VirtualKeyProcess | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keybench-e2e-report-'));
});

afterEach(async () => {
  await key?.stop();
  key = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('keybench report and history files', () => {
  it('writes one HTML file with a point per stored signature', async () => {
    key = await startVirtualKey(['--fault', 'counter-regress=3']);
    const db = join(dir, 'h.db');
    const html = join(dir, 'out', '..', 'report.html');
    const counters = await runCli([
      'counters',
      '-d',
      `udp:127.0.0.1:${key.port}`,
      '--db',
      db,
      '--credentials',
      '1',
      '--rounds',
      '3',
      '--json',
    ]);
    expect(counters.code).toBe(1);
    const run = JSON.parse(counters.stdout);
    const signs = run.devices[0].credentials[0].signs as number;

    const result = await runCli([
      'report',
      '--db',
      db,
      '--html',
      html,
      '--device',
      String(run.devices[0].deviceId),
    ]);

    expect(result.code, result.stderr).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page.match(/<circle data-point=/g)).toHaveLength(signs);
    expect(page.match(/data-regression="true"/g)).toHaveLength(1);
    expect(page).toContain('data-finding="regression"');
  });

  it('refuses a foreign file with exit 2 and leaves it as it was', async () => {
    const db = join(dir, 'notes.txt');
    writeFileSync(db, 'my notes, not a database\n'.repeat(20));
    const before = readFileSync(db);

    const result = await runCli(['history', '--db', db]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`history file ${db}: is not a SQLite database`);
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it('keybench --version prints the harness package version', async () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../packages/harness/package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it('names an unknown device', async () => {
    openHistory(join(dir, 'empty.db')).close();
    const result = await runCli([
      'report',
      '--db',
      join(dir, 'empty.db'),
      '--html',
      join(dir, 'r.html'),
      '--device',
      'abcdef',
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('device "abcdef" is not in');
  });
});
