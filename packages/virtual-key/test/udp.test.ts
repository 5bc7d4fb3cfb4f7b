import { createSocket, type Socket } from 'node:dgram';

import { afterEach, describe, expect, it } from 'vitest';

import { toHex } from '@keybench/hid-transport';

import { UDP_CONTROL, VirtualKey, serveUdp, type UdpServer } from '../src/index.js';
import { report } from './host.js';
import { parseRegistration, registerApdu } from './u2f-helpers.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function socket(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => s.close(() => resolve())));
  return s;
}

function next(s: Socket, ms = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no datagram')), ms);
    s.once('message', (message) => {
      clearTimeout(timer);
      resolve(message);
    });
  });
}

async function start(options: { replyPort?: number; presence?: 'button' } = {}) {
  const key = await VirtualKey.create({ presence: options.presence });
  cleanup.push(() => key.close());
  const server: UdpServer = await serveUdp(key, { port: 0, replyPort: options.replyPort });
  cleanup.push(() => server.close());
  return { key, server };
}

const initReport = report(0xffffffff, [0x86, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]);

describe('serveUdp', () => {
  it('binds loopback and replies to the sender, one 64-byte report per datagram', async () => {
    const { server } = await start();
    expect(server.address).toBe('127.0.0.1');
    const host = await socket();
    const reply = next(host);
    host.send(initReport, server.port, '127.0.0.1');
    const datagram = await reply;
    expect(datagram.length).toBe(64);
    expect(toHex(datagram.subarray(0, 15))).toBe('ffffffff860011' + '0102030405060708');
  });

  it('with replyPort, replies to host:replyPort whatever the sender', async () => {
    const listener = await socket();
    const { server } = await start({ replyPort: listener.address().port });
    const sender = await socket();
    let senderGotOne = false;
    sender.on('message', () => {
      senderGotOne = true;
    });
    const reply = next(listener);
    sender.send(initReport, server.port, '127.0.0.1');
    expect(toHex((await reply).subarray(0, 7))).toBe('ffffffff860011');
    expect(senderGotOne).toBe(false);
  });

  it('presses the button on the control datagram and acknowledges it', async () => {
    const { key, server } = await start({ presence: 'button' });
    const host = await socket();
    const ack = next(host);
    host.send(UDP_CONTROL.PRESS, server.port, '127.0.0.1');
    expect((await ack).toString()).toBe(UDP_CONTROL.PRESSED);

    const out: Uint8Array[] = [];
    const { encodeMessage } = await import('@keybench/hid-transport');
    for (const frame of encodeMessage(0x100, 0x83, registerApdu())) {
      key.handleReport(frame, (r) => out.push(r));
    }
    expect(out.length).toBeGreaterThan(5);
    const payload = Buffer.concat(out.map((r, i) => r.subarray(i === 0 ? 7 : 5)));
    const length = (out[0]![5]! << 8) | out[0]![6]!;
    expect(parseRegistration(payload.subarray(0, length)).reserved).toBe(0x05);
  });

  it('refuses a host name (no DNS lookup) and ports out of range', async () => {
    const key = await VirtualKey.create();
    cleanup.push(() => key.close());
    expect(() => serveUdp(key, { port: 0, host: 'localhost' })).toThrow(/must be an IP address/);
    expect(() => serveUdp(key, { port: 70000 })).toThrow(RangeError);
    expect(() => serveUdp(key, { port: 0, replyPort: 0 })).toThrow(RangeError);
  });

  it('rejects with EADDRINUSE when the port is taken', async () => {
    const taken = await socket();
    const key = await VirtualKey.create();
    cleanup.push(() => key.close());
    await expect(serveUdp(key, { port: taken.address().port })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});
