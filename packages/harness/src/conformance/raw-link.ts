import {
  BROADCAST_CID,
  CONT_DATA_SIZE,
  CONT_HEADER_SIZE,
  CTAPHID,
  INIT_DATA_SIZE,
  INIT_HEADER_SIZE,
  REPORT_SIZE,
  ctapHidCommandName,
  ctapHidErrorName,
  decodeFrame,
  toHex,
  type CtapHidChannel,
} from '@keybench/hid-transport';

import { ConformanceFailure } from './failure.js';

/** One report read from the device, decoded, with when it came (ms on performance.now()). */
export interface ReceivedFrame {
  readonly report: Uint8Array;
  readonly cid: number;
  /** Init frames: the command byte; continuation frames: undefined. */
  readonly cmd: number | undefined;
  /** Continuation frames: the sequence number. */
  readonly seq: number | undefined;
  /** Init frames: BCNT. */
  readonly bcnt: number | undefined;
  readonly at: number;
}

/** A whole message read back: command, payload, and what its frames looked like. */
export interface Reply {
  readonly cid: number;
  readonly cmd: number;
  readonly bcnt: number;
  readonly payload: Uint8Array;
  /** Reports the message took, KEEPALIVE frames not counted. */
  readonly frames: number;
  /** KEEPALIVE frames skipped before the reply. */
  readonly keepalives: number;
  /** When the first frame of the reply came. */
  readonly at: number;
}

/** How to fill the bytes after the payload in a report. */
export type Padding = number | 'random';

export const hex32 = (cid: number) => (cid >>> 0).toString(16).padStart(8, '0');

/** A short human description of a frame: `0000abcd 86 0011 …` or `0000abcd seq 03`. */
export function describeFrame(frame: ReceivedFrame): string {
  const head = hex32(frame.cid);
  if (frame.cmd === undefined) return `${head} CONT seq ${frame.seq}`;
  const name = ctapHidCommandName(frame.cmd);
  const bcnt = frame.bcnt ?? 0;
  const data = frame.report.subarray(INIT_HEADER_SIZE, INIT_HEADER_SIZE + Math.min(bcnt, 8));
  const detail =
    frame.cmd === CTAPHID.ERROR && bcnt >= 1
      ? ` (${ctapHidErrorName(frame.report[INIT_HEADER_SIZE] ?? 0)})`
      : '';
  return `${head} ${name} bcnt ${bcnt} ${toHex(data)}${bcnt > 8 ? '…' : ''}${detail}`;
}

function fill(report: Uint8Array, from: number, padding: Padding): void {
  if (padding === 'random') {
    globalThis.crypto.getRandomValues(report.subarray(from));
  } else if (padding !== 0) {
    report.fill(padding, from);
  }
}

/**
 * Report-level access for conformance cases, on top of the channel's raw frame API: build
 * exactly the init and continuation packets a case needs (any CID, BCNT, SEQ, padding), read
 * frames back with bounded waits, and keep frames addressed to other CIDs in a backlog so a
 * case waiting on one channel loses nothing that came on another.
 */
export class RawLink {
  readonly channel: CtapHidChannel;
  private readonly backlog: ReceivedFrame[] = [];

  constructor(channel: CtapHidChannel) {
    this.channel = channel;
  }

  /** Writes one 64-byte report as given. */
  async send(report: Uint8Array): Promise<number> {
    await this.channel.sendFrame(report);
    return performance.now();
  }

  /** Builds an init packet: CID, CMD, BCNT and up to 57 data bytes, the rest padding. */
  initPacket(cid: number, cmd: number, bcnt: number, data: Uint8Array, padding: Padding = 0) {
    const report = new Uint8Array(REPORT_SIZE);
    const view = new DataView(report.buffer);
    view.setUint32(0, cid >>> 0);
    report[4] = cmd;
    view.setUint16(5, bcnt);
    const body = data.subarray(0, INIT_DATA_SIZE);
    report.set(body, INIT_HEADER_SIZE);
    fill(report, INIT_HEADER_SIZE + body.length, padding);
    return report;
  }

  /** Builds a continuation packet: CID, SEQ and up to 59 data bytes, the rest padding. */
  contPacket(cid: number, seq: number, data: Uint8Array, padding: Padding = 0) {
    const report = new Uint8Array(REPORT_SIZE);
    new DataView(report.buffer).setUint32(0, cid >>> 0);
    report[4] = seq;
    const body = data.subarray(0, CONT_DATA_SIZE);
    report.set(body, CONT_HEADER_SIZE);
    fill(report, CONT_HEADER_SIZE + body.length, padding);
    return report;
  }

  /** All packets of a message of `payload` (BCNT = its length unless `bcnt` says otherwise). */
  packets(cid: number, cmd: number, payload: Uint8Array, padding: Padding = 0, bcnt?: number) {
    const reports = [this.initPacket(cid, cmd, bcnt ?? payload.length, payload, padding)];
    for (let offset = INIT_DATA_SIZE, seq = 0; offset < payload.length; seq++) {
      reports.push(this.contPacket(cid, seq, payload.subarray(offset), padding));
      offset += CONT_DATA_SIZE;
    }
    return reports;
  }

  /** Sends every packet of a message back to back; returns when the first one went out. */
  async sendMessage(cid: number, cmd: number, payload: Uint8Array, padding: Padding = 0) {
    let first = 0;
    for (const report of this.packets(cid, cmd, payload, padding)) {
      const at = await this.send(report);
      if (first === 0) first = at;
    }
    return first;
  }

  /** The next frame on any channel (backlog first), or null after `timeoutMs`. */
  async receive(timeoutMs: number): Promise<ReceivedFrame | null> {
    const queued = this.backlog.shift();
    if (queued) return queued;
    return this.readWire(timeoutMs);
  }

  private async readWire(timeoutMs: number): Promise<ReceivedFrame | null> {
    const report = await this.channel.receiveFrame(Math.max(0, timeoutMs));
    if (!report) return null;
    const at = performance.now();
    const frame = decodeFrame(report);
    return frame.type === 'init'
      ? { report, cid: frame.cid, cmd: frame.cmd, seq: undefined, bcnt: frame.bcnt, at }
      : { report, cid: frame.cid, cmd: undefined, seq: frame.seq, bcnt: undefined, at };
  }

  /** The next frame on `cid` within `timeoutMs`; frames for other CIDs go to the backlog. */
  async receiveOn(cid: number, timeoutMs: number): Promise<ReceivedFrame | null> {
    const index = this.backlog.findIndex((frame) => frame.cid === cid);
    if (index >= 0) return this.backlog.splice(index, 1)[0]!;

    const until = performance.now() + timeoutMs;
    for (;;) {
      const frame = await this.readWire(until - performance.now());
      if (!frame) return null;
      if (frame.cid === cid) return frame;
      this.backlog.push(frame);
    }
  }

  /**
   * Reads one whole message on `cid`: an init frame and its continuation frames, skipping
   * KEEPALIVE. Fails (ConformanceFailure) when nothing comes within `timeoutMs`, or when the
   * continuation frames are out of order.
   */
  async readMessage(cid: number, timeoutMs = 2000, what = 'a reply'): Promise<Reply> {
    const until = performance.now() + timeoutMs;
    let keepalives = 0;

    for (;;) {
      const frame = await this.receiveOn(cid, until - performance.now());
      if (!frame) {
        throw new ConformanceFailure(
          `${what} on cid ${hex32(cid)}`,
          `nothing within ${timeoutMs} ms`,
        );
      }
      if (frame.cmd === undefined) {
        throw new ConformanceFailure(
          `${what} starting with an init frame`,
          `a continuation frame (seq ${frame.seq})`,
        );
      }
      if (frame.cmd === CTAPHID.KEEPALIVE) {
        keepalives++;
        continue;
      }
      return this.assemble(frame, until, keepalives, what);
    }
  }

  private async assemble(head: ReceivedFrame, until: number, keepalives: number, what: string) {
    const bcnt = head.bcnt ?? 0;
    const payload = new Uint8Array(bcnt);
    let filled = Math.min(bcnt, INIT_DATA_SIZE);
    payload.set(head.report.subarray(INIT_HEADER_SIZE, INIT_HEADER_SIZE + filled));
    let frames = 1;

    for (let seq = 0; filled < bcnt; seq++) {
      const frame = await this.receiveOn(head.cid, until - performance.now());
      if (!frame) {
        throw new ConformanceFailure(
          `${what}: ${bcnt} bytes`,
          `${filled} bytes, then no continuation frame in time`,
        );
      }
      if (frame.seq !== seq) {
        throw new ConformanceFailure(
          `${what}: continuation frame seq ${seq}`,
          frame.cmd === undefined ? `seq ${frame.seq}` : describeFrame(frame),
        );
      }
      const take = Math.min(bcnt - filled, CONT_DATA_SIZE);
      payload.set(frame.report.subarray(CONT_HEADER_SIZE, CONT_HEADER_SIZE + take), filled);
      filled += take;
      frames++;
    }
    return { cid: head.cid, cmd: head.cmd!, bcnt, payload, frames, keepalives, at: head.at };
  }

  /** Sends a message on `cid` and reads the whole reply on the same CID. */
  async exchange(cid: number, cmd: number, payload: Uint8Array, timeoutMs = 2000) {
    const sentAt = await this.sendMessage(cid, cmd, payload);
    const reply = await this.readMessage(cid, timeoutMs, `the ${ctapHidCommandName(cmd)} reply`);
    return { ...reply, sentAt };
  }

  /**
   * Expects `ERROR code` (BCNT 1) on `cid` as the next message there, within `timeoutMs`.
   * Returns when it came. Fails naming what came instead.
   */
  async expectError(cid: number, code: number, timeoutMs = 1000): Promise<ReceivedFrame> {
    const expected = `ERROR ${ctapHidErrorName(code)} (bf 0001 ${code.toString(16).padStart(2, '0')})`;
    const until = performance.now() + timeoutMs;
    let frame: ReceivedFrame | null;
    do {
      frame = await this.receiveOn(cid, until - performance.now());
    } while (frame?.cmd === CTAPHID.KEEPALIVE);

    if (!frame) {
      throw new ConformanceFailure(
        `${expected} on cid ${hex32(cid)}`,
        `nothing within ${timeoutMs} ms`,
      );
    }
    const got = frame.report[INIT_HEADER_SIZE];
    if (frame.cmd !== CTAPHID.ERROR || frame.bcnt !== 1 || got !== code) {
      throw new ConformanceFailure(expected, describeFrame(frame));
    }
    return frame;
  }

  /** Expects nothing at all (any CID) for `ms`; fails with the first frame that came. */
  async expectSilence(ms: number, after = 'this'): Promise<void> {
    const frame = await this.receive(ms);
    if (frame) {
      throw new ConformanceFailure(`no frame for ${ms} ms after ${after}`, describeFrame(frame));
    }
  }

  /** Frames waiting in the backlog (came on a CID nobody read yet). */
  get pending(): readonly ReceivedFrame[] {
    return this.backlog;
  }

  /** Forgets the backlog and drains the line. */
  async reset(): Promise<void> {
    this.backlog.length = 0;
    await this.channel.drain();
  }

  /**
   * Allocates a fresh CID with INIT on the broadcast channel (nonce checked). Fails when the
   * reply is missing or malformed.
   */
  async allocate(timeoutMs = 1000): Promise<number> {
    const nonce = globalThis.crypto.getRandomValues(new Uint8Array(8));
    await this.send(this.initPacket(BROADCAST_CID, CTAPHID.INIT, nonce.length, nonce));
    const reply = await this.readMessage(BROADCAST_CID, timeoutMs, 'the INIT reply');
    if (reply.cmd !== CTAPHID.INIT || reply.bcnt < 17) {
      throw new ConformanceFailure('INIT reply (86, 17 bytes)', describeReply(reply));
    }
    if (toHex(reply.payload.subarray(0, 8)) !== toHex(nonce)) {
      throw new ConformanceFailure(
        `INIT reply echoing nonce ${toHex(nonce)}`,
        `nonce ${toHex(reply.payload.subarray(0, 8))}`,
      );
    }
    return new DataView(reply.payload.buffer, reply.payload.byteOffset).getUint32(8);
  }
}

/** `cmd bcnt payload-prefix` of a reply, for failure messages. */
export function describeReply(reply: Reply): string {
  const name = ctapHidCommandName(reply.cmd);
  const data = toHex(reply.payload.subarray(0, 24));
  const detail = reply.cmd === CTAPHID.ERROR ? ` (${ctapHidErrorName(reply.payload[0] ?? 0)})` : '';
  return `${name} bcnt ${reply.bcnt} ${data}${reply.bcnt > 24 ? '…' : ''}${detail}`;
}
