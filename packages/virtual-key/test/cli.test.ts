import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { UdpHost } from './udp-host.js';

// `keybench virtual-key` runs from the harness build, as users run it.
const cli = fileURLToPath(new URL('../../harness/dist/cli.js', import.meta.url));

const children: ChildProcess[] = [];
let directory: string;
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
});

function run(args: string[]) {
  const child = spawn(process.execPath, [cli, 'virtual-key', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const listening = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${stdout}${stderr}`)),
      10_000);
    child.stdout!.on('data', () => {
      const match = /^virtual-key listening on udp:127\.0\.0\.1:(\d+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited: ${stderr}`));
    });
  });
  listening.catch(() => {});
  return { child, exited, listening, output: () => ({ stdout, stderr }) };
}

describe('keybench virtual-key', () => {
  it('serves on a free port, logs exchanges with --verbose, stops on SIGTERM', async () => {
    expect(existsSync(cli), 'packages/harness/dist is missing: run pnpm tsc -b').toBe(true);
    directory = mkdtempSync(join(tmpdir(), 'keybench-cli-'));
    const stateFile = join(directory, 'key.json');
    const key = run(['--udp', '0', '--state', stateFile, '--verbose']);
    const host = await UdpHost.open(await key.listening);
    expect(await host.allocate()).toBe(0x4b420001);
    await host.close();

    key.child.kill('SIGTERM');
    expect(await key.exited).toBe(0);
    expect(key.output().stderr).toMatch(/ffffffff INIT → cid 4b420001/);
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toMatchObject({ counter: 0 });
  });

  it('a second key on one --state exits 2 naming the pid; after SIGKILL a third takes over', async () => {
    directory = mkdtempSync(join(tmpdir(), 'keybench-cli-'));
    const stateFile = join(directory, 'shared.json');
    const first = run(['--udp', '0', '--state', stateFile, '--verbose']);
    await first.listening;

    const second = run(['--udp', '0', '--state', stateFile]);
    expect(await second.exited).toBe(2);
    expect(second.output().stderr).toContain(
      `state file ${stateFile}: is in use by process ${first.child.pid}`,
    );
    expect(second.output().stdout).not.toMatch(/listening/);

    first.child.kill('SIGKILL');
    await first.exited;
    const third = run(['--udp', '0', '--state', stateFile, '--verbose']);
    await third.listening;
    expect(third.output().stderr).toMatch(
      new RegExp(`took over the stale lock .* of process ${first.child.pid}, which is gone`),
    );
    expect(readFileSync(`${stateFile}.lock`, 'utf8').trim()).toBe(String(third.child.pid));
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
    expect(existsSync(`${stateFile}.lock`)).toBe(false);
  });

  it('exits 2 with a message for a port in use, a bad state file, a bad fault', async () => {
    directory = mkdtempSync(join(tmpdir(), 'keybench-cli-'));
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve));
    const stateFile = join(directory, 'bad.json');
    writeFileSync(stateFile, 'not json');

    // The three run side by side: each process start costs about a second.
    const busy = run(['--udp', String(taken.address().port)]);
    const corrupt = run(['--udp', '0', '--state', stateFile]);
    const fault = run(['--udp', '0', '--fault', 'no-such-fault']);
    try {
      expect(await busy.exited).toBe(2);
    } finally {
      taken.close();
    }
    expect(busy.output().stderr).toMatch(/port \d+ on 127\.0\.0\.1 is already in use/);

    expect(await corrupt.exited).toBe(2);
    expect(corrupt.output().stderr).toContain(stateFile);
    expect(readFileSync(stateFile, 'utf8')).toBe('not json');

    expect(await fault.exited).toBe(2);
    expect(fault.output().stderr).toMatch(/unknown fault "no-such-fault"/);
  });

  it('exits 2 naming the flag for bad values (no port is bound, no name resolved)', async () => {
    directory = mkdtempSync(join(tmpdir(), 'keybench-cli-'));
    const cases: [string[], RegExp][] = [
      [['--udp', '0', '--key-handle-length', '0'], /--key-handle-length must be .*1 to 255, got 0/],
      [['--udp', '0', '--key-handle-length', 'abc'], /--key-handle-length must be .*1 to 255/],
      [['--udp', '0', '--fault', 'counter-wrap=-1'], /counter-wrap expects a u32/],
      [['--udp', '70000'], /--udp must be .*0 to 65535, got 70000/],
      [['--udp', '0', '--host', 'keys.example'], /host "keys\.example" is not an IP address/],
    ];
    // Side by side: each process start costs about a second.
    const runs = cases.map(([args]) => run(args));
    for (const [i, [, message]] of cases.entries()) {
      expect(await runs[i]!.exited).toBe(2);
      expect(runs[i]!.output().stderr).toMatch(message);
      expect(runs[i]!.output().stdout).not.toMatch(/listening/);
    }
  });
});
