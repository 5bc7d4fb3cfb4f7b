import { type Socket, createSocket } from 'node:dgram';

import { afterEach, describe, expect, it } from 'vitest';

import { type HidConnection, CtapHidChannel, openUdp, toHex } from '../src/index.js';
import { report } from './support/scripted-connection.js';

const sockets: Socket[] = [];
const connections: HidConnection[] = [];

afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.close()));
  await Promise.all(
    sockets.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  );
});

/** A UDP socket on a free loopback port, playing the device. */
async function deviceSocket(): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port };
}

/** A free loopback port (bound to 0, then released). */
async function freePort(): Promise<number> {
  const { socket, port } = await deviceSocket();
  sockets.splice(sockets.indexOf(socket), 1);
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

const nextDatagram = (socket: Socket) =>
  new Promise<{ data: Buffer; port: number }>((resolve) =>
    socket.once('message', (data, from) => resolve({ data, port: from.port })),
  );

describe('UDP connection', () => {
  it('sends one 64-byte datagram per report, no report id; device replies to sender', async () => {
    const device = await deviceSocket();
    const connection = await openUdp({ port: device.port });
    connections.push(connection);
    expect(connection.description).toBe(`udp:127.0.0.1:${device.port}`);

    const frame = report('ffffffff 86 0008 0102030405060708');
    const arrived = nextDatagram(device.socket);
    await connection.write(frame);
    const { data, port } = await arrived;
    expect(data.length).toBe(64);
    expect(data.toString('hex')).toBe(toHex(frame));

    const reply = report('ffffffff 86 0011 0102030405060708 00000009 0201000001');
    device.socket.send(reply, port, '127.0.0.1');
    expect(toHex((await connection.read(1000))!)).toBe(toHex(reply));
    expect(await connection.read(20)).toBeNull();
  });

  it('listens on a fixed local port in the simulated-firmware convention', async () => {
    const device = await deviceSocket();
    const localPort = await freePort();
    const connection = await openUdp({ host: '127.0.0.1', port: device.port, localPort });
    connections.push(connection);

    const arrived = nextDatagram(device.socket);
    await connection.write(new Uint8Array(64));
    expect((await arrived).port).toBe(localPort);

    // The device answers to the fixed host port, not to wherever the request came from.
    device.socket.send(report('01 83 0002 9000'), localPort, '127.0.0.1');
    expect(await connection.read(1000)).not.toBeNull();
  });

  it('drops and counts datagrams from other addresses and of the wrong length', async () => {
    const device = await deviceSocket();
    const stranger = await deviceSocket();
    const connection = await openUdp({ port: device.port });
    connections.push(connection);
    const arrived = nextDatagram(device.socket);
    await connection.write(new Uint8Array(64));
    const { port } = await arrived;

    stranger.socket.send(report('0a0b0c0d 83'), port, '127.0.0.1');
    device.socket.send(Buffer.alloc(65), port, '127.0.0.1');
    device.socket.send(Buffer.alloc(10), port, '127.0.0.1');
    const good = report('01020304 83 0002 6985');
    device.socket.send(good, port, '127.0.0.1');

    expect(toHex((await connection.read(1000))!)).toBe(toHex(good));
    expect(connection.droppedReports).toBe(3);
  });

  it('keeps the newest reports beyond queueLimit, counting the oldest as dropped', async () => {
    const device = await deviceSocket();
    const connection = await openUdp({ port: device.port, queueLimit: 2 });
    connections.push(connection);
    const arrived = nextDatagram(device.socket);
    await connection.write(new Uint8Array(64));
    const { port } = await arrived;

    for (const tag of ['01', '02', '03']) device.socket.send(report(tag), port, '127.0.0.1');
    // Datagrams arrive in order on loopback; wait until the third is counted or queued.
    const until = Date.now() + 1000;
    while ((connection.droppedReports ?? 0) < 1 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(connection.droppedReports).toBe(1);
    expect(toHex((await connection.read(0))!).slice(0, 2)).toBe('02');
    expect(toHex((await connection.read(0))!).slice(0, 2)).toBe('03');
    expect(await connection.read(0)).toBeNull();
  });

  it('reports a taken local port as busy', async () => {
    const device = await deviceSocket();
    const taken = await deviceSocket();
    await expect(openUdp({ port: device.port, localPort: taken.port })).rejects.toMatchObject({
      kind: 'busy',
    });
  });

  it('rejects bad options', async () => {
    await expect(openUdp({ port: 0 })).rejects.toThrow(RangeError);
    await expect(openUdp({ port: 70000 })).rejects.toThrow(RangeError);
    await expect(openUdp({ host: 'localhost', port: 8111 })).rejects.toThrow(TypeError);
  });

  it('carries a channel INIT end to end over loopback', async () => {
    const device = await deviceSocket();
    device.socket.on('message', (data, from) => {
      const nonce = data.subarray(7, 15).toString('hex');
      const reply = report(`ffffffff 86 0011 ${nonce} 0000002a 0201020304`);
      device.socket.send(reply, from.port, from.address);
    });
    const connection = await openUdp({ port: device.port });
    connections.push(connection);

    const channel = await CtapHidChannel.open(connection);
    expect(channel.cid).toBe(0x2a);
    expect(channel.info.deviceVersion).toEqual([1, 2, 3]);
  });

  it('throws "closed" after close', async () => {
    const device = await deviceSocket();
    const connection = await openUdp({ port: device.port });
    await connection.close();
    await expect(connection.write(new Uint8Array(64))).rejects.toMatchObject({ kind: 'closed' });
    await expect(connection.read(10)).rejects.toMatchObject({ kind: 'closed' });
  });
});
