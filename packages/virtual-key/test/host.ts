import { decodeFrame, encodeMessage, toHex } from '@keybench/hid-transport';

import { VirtualKey, type VirtualKeyOptions } from '../src/index.js';

/** A report of `cid | bytes`, padded with `padding` to 64 bytes. */
export function report(cid: number, bytes: readonly number[], padding = 0x00): Uint8Array {
  const out = new Uint8Array(64).fill(padding);
  new DataView(out.buffer).setUint32(0, cid);
  out.set(bytes, 4);
  return out;
}

/** Hex of the first `length` bytes of a report. */
export const head = (report: Uint8Array, length: number) => toHex(report.subarray(0, length));

/**
 * A device-side test bench: feeds reports to a key's handleReport and records every report
 * it answers, in order.
 */
export class Bench {
  readonly replies: Uint8Array[] = [];
  private constructor(readonly key: VirtualKey) {}

  static async create(options: VirtualKeyOptions = {}): Promise<Bench> {
    return new Bench(await VirtualKey.create(options));
  }

  /** Sends raw reports; returns the replies they caused synchronously. */
  raw(...reports: Uint8Array[]): Uint8Array[] {
    const before = this.replies.length;
    for (const r of reports) this.key.handleReport(r, (reply) => this.replies.push(reply));
    return this.replies.slice(before);
  }

  /** Sends a whole message; returns the replies it caused synchronously. */
  send(cid: number, cmd: number, payload: Uint8Array | readonly number[]): Uint8Array[] {
    return this.raw(...encodeMessage(cid, cmd, Uint8Array.from(payload)));
  }

  /** Sends a message and reassembles the single reply message. */
  call(cid: number, cmd: number, payload: Uint8Array | readonly number[]) {
    const reports = this.send(cid, cmd, payload);
    const first = reports[0];
    if (!first) throw new Error('no reply');
    const frame = decodeFrame(first);
    if (frame.type !== 'init') throw new Error('reply starts with a continuation');
    const data = new Uint8Array(frame.bcnt);
    let offset = 0;
    for (const r of reports) {
      const part = r.subarray(offset === 0 ? 7 : 5);
      const take = Math.min(part.length, frame.bcnt - offset);
      data.set(part.subarray(0, take), offset);
      offset += take;
    }
    return { cid: frame.cid, cmd: frame.cmd, payload: data, reports };
  }

  /** A fresh channel from a broadcast INIT. */
  allocate(): number {
    const { payload } = this.call(0xffffffff, 0x86, [1, 2, 3, 4, 5, 6, 7, 8]);
    return new DataView(payload.buffer).getUint32(8);
  }

  /** An APDU over MSG on `cid`; the response bytes (data | SW). */
  apdu(cid: number, apdu: readonly number[] | Uint8Array): Uint8Array {
    return this.call(cid, 0x83, apdu).payload;
  }

  close(): Promise<void> {
    return this.key.close();
  }
}

/** Waits until `predicate` holds, polling every 5 ms, at most `ms`. */
export async function until(predicate: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (predicate()) return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return predicate();
}
