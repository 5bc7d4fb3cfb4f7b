import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { StateFileError, VirtualKey } from '../src/index.js';

let directory: string;
const keys: VirtualKey[] = [];
afterEach(async () => {
  for (const key of keys.splice(0)) await key.close();
  rmSync(directory, { recursive: true, force: true });
});

const temp = () => {
  directory = mkdtempSync(join(tmpdir(), 'keybench-lock-'));
  return join(directory, 'shared.json');
};

async function create(stateFile: string, log?: (line: string) => void) {
  const key = await VirtualKey.create({ stateFile, ...(log ? { log } : {}) });
  keys.push(key);
  return key;
}

/** The pid of a process that has exited (and been reaped), so no process runs under it. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('state file lock', () => {
  it('a second key on the same state file fails, naming the file and the holding pid', async () => {
    const stateFile = temp();
    const first = await create(stateFile);
    expect(readFileSync(`${stateFile}.lock`, 'utf8').trim()).toBe(String(process.pid));

    const second = VirtualKey.create({ stateFile });
    await expect(second).rejects.toThrow(StateFileError);
    await expect(second).rejects.toThrow(
      new RegExp(`state file ${stateFile}: is in use by process ${process.pid}`),
    );
    // The failed attempt left the first key's lock in place.
    expect(readFileSync(`${stateFile}.lock`, 'utf8').trim()).toBe(String(process.pid));

    await first.close();
    keys.splice(0);
    expect(existsSync(`${stateFile}.lock`)).toBe(false);
    await create(stateFile);
    expect(existsSync(`${stateFile}.lock`)).toBe(true);
  });

  it('takes over a lock whose process is gone, saying so in its log', async () => {
    const stateFile = temp();
    const pid = deadPid();
    writeFileSync(`${stateFile}.lock`, `${pid}\n`);
    const lines: string[] = [];
    await create(stateFile, (line) => lines.push(line));
    expect(readFileSync(`${stateFile}.lock`, 'utf8').trim()).toBe(String(process.pid));
    expect(lines.join('\n')).toContain(
      `took over the stale lock ${stateFile}.lock of process ${pid}, which is gone`,
    );
  });

  it('takes over a lock file that names no process', async () => {
    const stateFile = temp();
    writeFileSync(`${stateFile}.lock`, '');
    const lines: string[] = [];
    await create(stateFile, (line) => lines.push(line));
    expect(lines.join('\n')).toMatch(/took over the stale lock .* \(it named no process\)/);
  });

  it('is released when creating the key fails after the lock was taken', async () => {
    const stateFile = temp();
    writeFileSync(stateFile, 'not json');
    await expect(VirtualKey.create({ stateFile })).rejects.toThrow(/is not JSON/);
    expect(existsSync(`${stateFile}.lock`)).toBe(false);
  });
});
