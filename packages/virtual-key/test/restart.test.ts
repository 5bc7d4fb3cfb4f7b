import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { UdpHost } from './udp-host.js';
import {
  authenticateApdu,
  parseRegistration,
  parseSignature,
  registerApdu,
} from './u2f-helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/key-process.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

let child: ChildProcess | undefined;
let directory: string | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
  if (directory) rmSync(directory, { recursive: true, force: true });
});

/** Starts the key process on `stateFile`; resolves with its UDP port. */
function startKey(stateFile: string): Promise<number> {
  child = spawn(process.execPath, [fixture, stateFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const started = child;
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`key process did not start: ${output}`)),
      10_000);
    started.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^(\d+)\n/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    started.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    started.once('exit', (code) => reject(new Error(`key process exited ${code}: ${output}`)));
  });
}

function killKey(): Promise<void> {
  const running = child!;
  child = undefined;
  return new Promise((resolve) => {
    running.once('exit', () => resolve());
    running.kill('SIGKILL');
  });
}

describe('restart', () => {
  it('SIGKILL during a loop of authentications never lets the counter go back', async () => {
    // The key runs from the build, as `keybench virtual-key` does.
    expect(existsSync(dist), 'packages/virtual-key/dist is missing: run pnpm tsc -b').toBe(true);
    directory = mkdtempSync(join(tmpdir(), 'keybench-restart-'));
    const stateFile = join(directory, 'key.json');

    let host = await UdpHost.open(await startKey(stateFile));
    let cid = await host.allocate();
    const reg = parseRegistration(await host.call(cid, 0x83, registerApdu()));
    let highest = 0;

    for (let round = 0; round < 3; round++) {
      // A few answered authentications, then requests in flight when the process dies.
      for (let i = 0; i < 5 + round * 3; i++) {
        const response = await host.call(cid, 0x83, authenticateApdu(0x03, reg.keyHandle));
        const { counter } = parseSignature(response);
        expect(counter).toBeGreaterThan(highest);
        highest = counter;
      }
      for (let i = 0; i < 3; i++) host.send(cid, 0x83, authenticateApdu(0x03, reg.keyHandle));
      await killKey();
      await host.close();

      const stored = JSON.parse(readFileSync(stateFile, 'utf8')) as { counter: number };
      expect(stored.counter).toBeGreaterThanOrEqual(highest);

      host = await UdpHost.open(await startKey(stateFile));
      cid = await host.allocate();
      const response = await host.call(cid, 0x83, authenticateApdu(0x03, reg.keyHandle));
      const { counter } = parseSignature(response);
      expect(counter).toBeGreaterThan(highest);
      highest = counter;
    }
    await host.close();
  });
});
