import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { CLI, runCli, startVirtualKey, type VirtualKeyProcess } from './helpers/cli.js';

interface Serve {
  url: string;
  stop(): Promise<void>;
}

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

/** `keybench serve --port 0` on a fresh database; resolves once it prints where it listens. */
function serve(): Promise<Serve> {
  const dir = mkdtempSync(join(tmpdir(), 'keybench-client-e2e-'));
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--db', join(dir, 's.db')], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push(stop);

  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 15_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /^keybench serve listening on (\S+)\n/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, stop });
      }
    });
    void exited.then(() => reject(new Error(`serve exited: ${out}`)));
  });
}

describe('keybench client with a key in its own process', () => {
  let key: VirtualKeyProcess | undefined;

  afterEach(async () => {
    await key?.stop();
    key = undefined;
  });

  it('enrolls, binds, signs and verifies with a virtual key over UDP, twice', async () => {
    const server = await serve();
    key = await startVirtualKey();
    const device = `udp:127.0.0.1:${key.port}`;

    const first = await runCli(['client', '--server', server.url, '--device', device, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const one = JSON.parse(first.stdout);
    expect(one).toMatchObject({ ok: true, verified: { touch: 1, counter: 1 } });

    // The same key enrolls again under the same user: the server now offers two handles.
    const second = await runCli(['client', '--server', server.url, '--device', device]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/✔ sign\s+200 .* 2 key\(s\) offered/);
    expect(second.stdout).toMatch(/counter\s+2/);
  });

  it('reports an unreachable key as exit 2', async () => {
    const server = await serve();

    const result = await runCli(['client', '--server', server.url, '--device', 'udp:127.0.0.1:9']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('udp:127.0.0.1:9');
  });
});
