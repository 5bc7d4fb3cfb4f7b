import { constants, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { encodeMessage, toHex } from '@keybench/hid-transport';

import { VirtualKey, serveFifo, type FifoServer } from '../src/index.js';
import { parseRegistration, registerApdu } from './u2f-helpers.js';

/** The host end of Google's FIFO emulator shim (u2f-ref-code dev.cc), non-blocking. */
class FifoHost {
  private buffered = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private readonly reader: Socket;
  private readonly writer: Socket;

  constructor(prefix: string) {
    const nonBlocking = constants.O_NONBLOCK;
    this.reader = new Socket({
      fd: openSync(`${prefix}out`, constants.O_RDONLY | nonBlocking),
      readable: true,
      writable: false,
    });
    this.writer = new Socket({
      fd: openSync(`${prefix}in`, constants.O_WRONLY | nonBlocking),
      readable: false,
      writable: true,
    });
    this.reader.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiter?.();
    });
  }

  /** Writes bytes as they are, lying headers included. */
  raw(bytes: Uint8Array): void {
    this.writer.write(bytes);
  }

  request(cmd: number, payload: Uint8Array = new Uint8Array(0)): void {
    const header = Buffer.alloc(8);
    header.writeUInt32LE(cmd, 0);
    header.writeUInt32LE(payload.length, 4);
    this.writer.write(Buffer.concat([header, payload]));
  }

  /** Polls until a report comes; returns it, counting the empty polls. */
  async pollReport(ms = 2000): Promise<{ report: Buffer; empty: number }> {
    const end = Date.now() + ms;
    let empty = 0;
    while (Date.now() < end) {
      this.request(5);
      const header = await this.take(8);
      expect(header.readUInt32LE(0)).toBe(5);
      const length = header.readUInt32LE(4);
      if (length === 64) return { report: await this.take(64), empty };
      expect(length).toBe(0);
      empty++;
    }
    throw new Error('fifo host: no report');
  }

  async take(count: number): Promise<Buffer> {
    while (this.buffered.length < count) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('fifo host: read timeout')), 2000);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const out = this.buffered.subarray(0, count);
    this.buffered = this.buffered.subarray(count);
    return out;
  }

  close(): void {
    this.reader.destroy();
    this.writer.destroy();
  }
}

const u32 = (value: number) => {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value);
  return out;
};

let directory: string;
let key: VirtualKey | undefined;
let server: FifoServer | undefined;
const hosts: FifoHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) host.close();
  await server?.close();
  await key?.close();
  rmSync(directory, { recursive: true, force: true });
});

async function start(presence: 'auto' | 'button' = 'auto') {
  directory = mkdtempSync(join(tmpdir(), 'keybench-fifo-'));
  const prefix = join(directory, 'dev-');
  key = await VirtualKey.create({ presence });
  server = serveFifo(key, { prefix });
  const open = () => {
    const host = new FifoHost(prefix);
    hosts.push(host);
    return host;
  };
  return { prefix, open };
}

const initReport = () => {
  const report = new Uint8Array(64);
  report.set([0xff, 0xff, 0xff, 0xff, 0x86, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]);
  return report;
};

describe('FIFO emulator protocol', () => {
  it('creates both FIFOs and answers a frame through polls', async () => {
    const { prefix, open } = await start();
    expect(statSync(`${prefix}in`).isFIFO()).toBe(true);
    expect(statSync(`${prefix}out`).isFIFO()).toBe(true);

    const host = open();
    host.request(5);
    expect(toHex(await host.take(8))).toBe('0500000000000000');
    host.request(4, initReport());
    const { report } = await host.pollReport();
    expect(toHex(report.subarray(0, 19))).toBe('ffffffff860011' + '0102030405060708' + '4b420001');
  });

  it('lets the host close and reopen the FIFOs', async () => {
    const { open } = await start();
    for (let i = 0; i < 3; i++) {
      const host = open();
      host.request(4, initReport());
      expect(toHex((await host.pollReport()).report.subarray(0, 7))).toBe('ffffffff860011');
      host.close();
    }
  });

  it('presses the button on interrupt 199 and stops on quit 3', async () => {
    const { open } = await start('button');
    const host = open();
    host.request(6, u32(199));
    const frames = encodeMessage(0x100, 0x83, registerApdu());
    for (const frame of frames) host.request(4, frame);
    const first = (await host.pollReport()).report;
    const length = first.readUInt16BE(5);
    const parts = [first.subarray(7)];
    while (parts.reduce((n, p) => n + p.length, 0) < length) {
      parts.push((await host.pollReport()).report.subarray(5));
    }
    const response = Buffer.concat(parts).subarray(0, length);
    expect(toHex(response.subarray(response.length - 2))).toBe('9000');
    expect(parseRegistration(response).reserved).toBe(0x05);

    host.request(2, u32(3));
    await expect(server!.done).resolves.toBeUndefined();
  });

  it('drops a request whose length lies (4 GiB) and keeps serving', async () => {
    const { open } = await start();
    const host = open();
    host.raw(Buffer.concat([u32(4), u32(0xffffffff)]));
    // Let the server read the lying header on its own before the next request arrives.
    await new Promise((resolve) => setTimeout(resolve, 50));
    host.request(5);
    expect(toHex(await host.take(8))).toBe('0500000000000000');
  });

  it('answers thousands of polls a second without busy-waiting', async () => {
    const { open } = await start();
    const host = open();
    const started = performance.now();
    for (let i = 0; i < 2000; i++) {
      host.request(5);
      await host.take(8);
    }
    const elapsed = performance.now() - started;
    expect(2000 / (elapsed / 1000)).toBeGreaterThan(1000);

    // Idle: the server waits for data instead of spinning.
    const before = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000).toBeLessThan(100);
  });
});
