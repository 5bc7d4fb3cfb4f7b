import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { listFidoDevices } from '@keybench/hid-transport';
import { afterEach, describe, expect, it } from 'vitest';

import {
  runCli,
  spawnCli,
  startVirtualKey,
  type SpawnedCli,
  type VirtualKeyProcess,
} from './helpers/cli.js';

// What a new user ran into on a first try: slow keys, lists with a missing key, hints,
// ports in use, host names, touches, flag values, Ctrl-C.

const running: { stop(): Promise<void> }[] = [];
const sockets: Socket[] = [];
let dir: string | undefined;
afterEach(async () => {
  await Promise.all(running.splice(0).map((process) => process.stop()));
  for (const socket of sockets.splice(0)) socket.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function key(args: string[] = []): Promise<VirtualKeyProcess> {
  const started = await startVirtualKey(args);
  running.push(started);
  return started;
}

/** A loopback UDP socket holding a port, so that port is in use. */
async function takenPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  sockets.push(socket);
  return socket.address().port;
}

const udp = (k: VirtualKeyProcess) => `udp:127.0.0.1:${k.port}`;

describe('a slow key (--fault slow-reply=1200)', () => {
  it('fails with a hint at --frame-timeout, and passes with --frame-timeout 3000', async () => {
    const slow = await key(['--fault', 'slow-reply=1200']);

    const failed = await runCli(['check', '--device', udp(slow)]);
    expect(failed.code, failed.stderr).toBe(2);
    expect(failed.stderr).toMatch(/no frame for 1000 ms/);
    expect(failed.stderr).toMatch(/--frame-timeout MS, now 1000/);

    const passed = await runCli(['check', '--device', udp(slow), '--frame-timeout', '3000']);
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stdout).toContain('registration and authentication verified');
  });

  it('--frame-timeout takes whole ms only, repeating a bad value', async () => {
    const result = await runCli(['check', '--frame-timeout', '1.5s']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--frame-timeout must be a whole number of ms');
    expect(result.stderr).toContain('got 1.5s');
  });
});

describe('a list with a key that is not there', () => {
  it('check --device virtual,hid: the virtual key runs; hid fails on its own', async () => {
    const attached = await listFidoDevices().catch(() => []);
    const result = await runCli(['check', '--device', 'virtual,hid', '--json']);

    type Outcome = { device: string; ok: boolean; message?: string };
    const outcomes = JSON.parse(result.stdout) as Outcome[];
    expect(outcomes[0]).toMatchObject({ device: 'virtual', ok: true });
    if (attached.length === 0) {
      // The usual case on a machine without a FIDO key: hid alone is unusable, exit 2.
      expect(result.code).toBe(2);
      expect(outcomes[1]).toMatchObject({ device: 'hid', ok: false });
      expect(outcomes[1]!.message).toContain('no FIDO HID device found');
    } else {
      expect(outcomes).toHaveLength(2);
    }
  });
});

describe('hints', () => {
  it('a key answering a fixed port: the hint names both causes and @PORT', async () => {
    const replyPort = await takenPort();
    sockets.pop()!.close(); // free again: the key sends there, nobody listens yet
    const fixed = await key(['--reply-port', String(replyPort)]);

    const result = await runCli(['check', '--device', udp(fixed)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('nothing is listening there');
    expect(result.stderr).toContain('replies to a fixed port');
    expect(result.stderr).toContain(`udp:127.0.0.1:${fixed.port}@7112`);

    const right = await runCli(['check', '--device', `${udp(fixed)}@${replyPort}`]);
    expect(right.code, right.stderr).toBe(0);
  });

  it('--origin other than the appId origin passes, with a note on stderr', async () => {
    const result = await runCli(['check', '--origin', 'http://evil.example']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      "note: --origin http://evil.example differs from the appId's origin " +
        '(https://keybench.example); it is the only facet allowed in this check',
    );
  });
});

describe('touch and flag values', () => {
  it('no touch within --timeout is a failed check (exit 1), not an unusable key', async () => {
    const never = await key(['--presence', 'never']);
    const result = await runCli(['check', '--device', udp(never), '--timeout', '400']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('register: no touch within 400 ms');
  });

  it('counters: no touch within --timeout is exit 1 too', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keybench-first-use-'));
    const never = await key(['--presence', 'never']);
    const args = ['--device', udp(never), '--timeout', '400', '--db', join(dir, 'h.db')];
    const result = await runCli(['counters', ...args]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout + result.stderr).toContain('no touch within 400 ms');
  });

  it('--timeout abc repeats the value it got', async () => {
    const result = await runCli(['check', '--timeout', 'abc']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--timeout must be a whole number of ms from 1 to');
    expect(result.stderr).toContain('got abc');
  });
});

describe('ports in use', () => {
  it('virtual-key --udp on a taken port: a sentence, exit 2', async () => {
    const port = await takenPort();
    const result = await runCli(['virtual-key', '--udp', String(port)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `port ${port} on 127.0.0.1 is already in use (another keybench virtual-key or serve?); ` +
        'choose another with --udp, or 0 for a free one',
    );
    expect(result.stderr).not.toContain('EADDRINUSE');
  });

  it('a second serve on the same port: a sentence, exit 2', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keybench-first-use-'));
    const first = await spawnCli(['serve', '--port', '0', '--db', join(dir, 'a.db')], {
      ready: /listening on http:\/\/127\.0\.0\.1:\d+/,
    });
    running.push(first);
    const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(first.output())![1]!;

    const result = await runCli(['serve', '--port', port, '--db', join(dir, 'b.db')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `port ${port} on 127.0.0.1 is already in use (another keybench virtual-key or serve?); ` +
        'choose another with --port, or 0 for a free one',
    );
  });

  it('udp:HOST:PORT@LOCALPORT with LOCALPORT taken: a sentence for that key, exit 2', async () => {
    const local = await takenPort();
    const result = await runCli(['check', '--device', `udp:127.0.0.1:8111@${local}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`local port ${local} is already in use`);
    expect(result.stderr).toContain('choose another @LOCALPORT');
  });
});

describe('host names', () => {
  it('localhost is 127.0.0.1 in device specs and virtual-key --host', async () => {
    const local = await key(['--host', 'localhost']);
    expect(local.host).toBe('127.0.0.1');
    const result = await runCli(['check', '--device', `udp:localhost:${local.port}`]);
    expect(result.code, result.stderr).toBe(0);
  });

  it('any other name fails at once, suggesting an IP address', async () => {
    const [spec, flag] = await Promise.all([
      runCli(['check', '--device', 'udp:keys.example:8111']),
      runCli(['virtual-key', '--udp', '0', '--host', 'keys.example']),
    ]);
    for (const result of [spec, flag]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('"keys.example" is not an IP address');
      expect(result.stderr).toContain('such as 127.0.0.1');
    }
  });
});

describe('Ctrl-C', () => {
  async function stopTime(process: SpawnedCli): Promise<number> {
    const exited = new Promise<number | null>((resolve) => process.child.once('exit', resolve));
    const start = performance.now();
    process.child.kill('SIGINT');
    expect(await exited).toBe(0);
    return performance.now() - start;
  }

  it('stops virtual-key and serve within half a second', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keybench-first-use-'));
    const virtualKey = await key(['--state', join(dir, 'key.json')]);
    await runCli(['check', '--device', udp(virtualKey)]);
    const serve = await spawnCli(['serve', '--port', '0', '--db', join(dir, 's.db')], {
      ready: /listening on http/,
    });
    running.push(serve);
    // An idle keep-alive connection must not hold the server open.
    const url = /listening on (http:\S+)/.exec(serve.output())![1]!;
    expect((await fetch(`${url}/enroll`, { keepalive: true })).status).toBe(200);

    expect(await stopTime(virtualKey)).toBeLessThan(500);
    expect(await stopTime(serve)).toBeLessThan(500);
  });
});
