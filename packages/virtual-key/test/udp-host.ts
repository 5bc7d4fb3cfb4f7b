import { createSocket, type Socket } from 'node:dgram';

import { decodeFrame, encodeMessage } from '@keybench/hid-transport';

/** A minimal CTAPHID host over UDP for tests: one message at a time, reassembled. */
export class UdpHost {
  private readonly inbox: Buffer[] = [];
  private waiter: (() => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly port: number,
  ) {
    socket.on('message', (message) => {
      this.inbox.push(message);
      this.waiter?.();
    });
  }

  static async open(port: number): Promise<UdpHost> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new UdpHost(socket, port);
  }

  /** Sends a message without waiting for the answer. */
  send(cid: number, cmd: number, payload: Uint8Array): void {
    for (const frame of encodeMessage(cid, cmd, payload)) {
      this.socket.send(frame, this.port, '127.0.0.1');
    }
  }

  /** Sends a message and reassembles the answer; rejects after `ms`. */
  async call(cid: number, cmd: number, payload: Uint8Array, ms = 3000): Promise<Uint8Array> {
    this.inbox.length = 0;
    this.send(cid, cmd, payload);
    const first = decodeFrame(await this.read(ms));
    if (first.type !== 'init') throw new Error('udp host: reply starts with a continuation');
    const out = new Uint8Array(first.bcnt);
    out.set(first.data);
    let filled = first.data.length;
    while (filled < first.bcnt) {
      const frame = decodeFrame(await this.read(ms));
      const take = Math.min(frame.data.length, first.bcnt - filled);
      out.set(frame.data.subarray(0, take), filled);
      filled += take;
    }
    return out;
  }

  /** A channel from a broadcast INIT. */
  async allocate(): Promise<number> {
    const reply = await this.call(0xffffffff, 0x86, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    return new DataView(reply.buffer).getUint32(8);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private async read(ms: number): Promise<Buffer> {
    const end = Date.now() + ms;
    while (this.inbox.length === 0) {
      const left = end - Date.now();
      if (left <= 0) throw new Error('udp host: no reply');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.inbox.shift()!;
  }
}
