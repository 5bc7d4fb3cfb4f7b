import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { UHID } from '../src/uhid-event.js';
import { readInWorker, type UhidReader } from '../src/uhid-reader.js';
import { serveUhid, type UhidServer } from '../src/uhid.js';

// A FIFO stands in for /dev/uhid: opened O_RDWR | O_NONBLOCK it reads EAGAIN when empty, like
// the real device, so the worker-thread poller runs exactly as it would against the kernel.
// Linux only (O_RDWR on a FIFO is a Linux behaviour).
const linux = process.platform === 'linux';

let dir: string;
let fifo: string;
const fds: number[] = [];
let reader: UhidReader | undefined;
let server: UhidServer | undefined;

beforeEach(() => {
  if (!linux) return;
  dir = mkdtempSync(join(tmpdir(), 'keybench-uhid-'));
  fifo = join(dir, 'uhid');
  execFileSync('mkfifo', [fifo]);
});

afterEach(async () => {
  await reader?.stop();
  await server?.close();
  reader = undefined;
  server = undefined;
  for (const fd of fds.splice(0)) closeSync(fd);
  if (linux) rmSync(dir, { recursive: true, force: true });
});

const open = (flags: number) => {
  const fd = openSync(fifo, flags | constants.O_NONBLOCK);
  fds.push(fd);
  return fd;
};

describe.skipIf(!linux)('readInWorker on a non-blocking fd', () => {
  it('delivers each event in order on the calling thread', async () => {
    const fd = open(constants.O_RDWR);
    const events: string[] = [];
    reader = readInWorker(fd, 16, {
      onEvent: (bytes) => events.push(Buffer.from(bytes).toString('hex')),
      onFailure: (reason) => events.push(`failure ${reason}`),
    });
    const writer = open(constants.O_WRONLY);
    for (let i = 1; i <= 3; i++) {
      writeSync(writer, new Uint8Array(16).fill(i));
      await vi.waitFor(() => expect(events).toHaveLength(i), { timeout: 5000 });
    }
    expect(events).toEqual([1, 2, 3].map((i) => `${i.toString(16).padStart(2, '0')}`.repeat(16)));
  });

  it('stops: nothing is delivered after stop() resolves', async () => {
    const fd = open(constants.O_RDWR);
    const events: Uint8Array[] = [];
    reader = readInWorker(fd, 16, { onEvent: (b) => events.push(b), onFailure: () => {} });
    await reader.stop();
    writeSync(open(constants.O_WRONLY), new Uint8Array(16));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events).toHaveLength(0);
  });

  it('reports a read error other than EAGAIN and stops', async () => {
    const fd = openSync(dir, 'r');
    fds.push(fd);
    const failures: string[] = [];
    reader = readInWorker(fd, 16, { onEvent: () => {}, onFailure: (r) => failures.push(r) });
    await vi.waitFor(() => expect(failures).toHaveLength(1), { timeout: 5000 });
    expect(failures[0]).toContain('EISDIR');
  });
});

describe.skipIf(!linux)('serveUhid on a real non-blocking fd (worker reader)', () => {
  it('writes CREATE2, reads kernel events through the worker, and closes', async () => {
    const lines: string[] = [];
    server = serveUhid(
      { handleReport: () => {} },
      { devicePath: fifo, platform: 'linux', trace: (l) => lines.push(l) },
    );
    // CREATE2 went into the FIFO, so the worker reads it back: an event type the key ignores.
    await vi.waitFor(() => expect(lines).toContain('uhid: ignored event type 11'), {
      timeout: 5000,
    });

    // A START as the kernel would send it (type 2, dev_flags 0), short enough to be atomic.
    const start = new Uint8Array(12);
    new DataView(start.buffer).setUint32(0, UHID.START, true);
    writeSync(open(constants.O_WRONLY), start);
    await expect(server.started).resolves.toBe(true);

    await server.close();
    expect(lines.at(-1)).toBe('uhid: closed');
  });
});
