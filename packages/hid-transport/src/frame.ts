import {
  CONT_DATA_SIZE,
  CONT_HEADER_SIZE,
  INIT_DATA_SIZE,
  INIT_HEADER_SIZE,
  MAX_MESSAGE_SIZE,
  REPORT_SIZE,
  TYPE_INIT,
} from './constants.js';
import { CtapHidError } from './errors.js';

/** An init packet: starts a message of `bcnt` bytes on channel `cid`. */
export interface InitFrame {
  readonly type: 'init';
  readonly cid: number;
  readonly cmd: number;
  readonly bcnt: number;
  /** The payload bytes this packet carries (at most 57, fewer for the last bytes). */
  readonly data: Uint8Array;
}

/** A continuation packet with sequence number `seq` (0..127). */
export interface ContFrame {
  readonly type: 'cont';
  readonly cid: number;
  readonly seq: number;
  /** All 59 data bytes; the reassembler takes only as many as the message still needs. */
  readonly data: Uint8Array;
}

export type Frame = InitFrame | ContFrame;

/**
 * Splits a message into 64-byte reports: one init packet and as many continuation packets as
 * needed, zero-padded. Throws RangeError for a payload over 7609 bytes or a bad cid/cmd.
 */
export function encodeMessage(cid: number, cmd: number, payload: Uint8Array): Uint8Array[] {
  if (!Number.isInteger(cid) || cid < 0 || cid > 0xffffffff) {
    throw new RangeError(`frame: cid must be a 32-bit unsigned integer, got ${cid}`);
  }
  if (!Number.isInteger(cmd) || cmd < TYPE_INIT || cmd > 0xff) {
    throw new RangeError(`frame: cmd must be 0x80..0xff, got ${cmd}`);
  }
  if (payload.length > MAX_MESSAGE_SIZE) {
    throw new RangeError(
      `frame: payload of ${payload.length} bytes exceeds the ${MAX_MESSAGE_SIZE}-byte maximum`,
    );
  }

  // One backing buffer for all reports (each report is a 64-byte view of it): a 7609-byte
  // message is 129 reports, and one allocation instead of 129 is most of the encoding cost.
  const count = 1 + continuationCount(payload.length);
  const backing = new Uint8Array(count * REPORT_SIZE);
  const frames: Uint8Array[] = new Array(count);
  const cid0 = cid >>> 24;
  const cid1 = (cid >>> 16) & 0xff;
  const cid2 = (cid >>> 8) & 0xff;
  const cid3 = cid & 0xff;

  backing[0] = cid0;
  backing[1] = cid1;
  backing[2] = cid2;
  backing[3] = cid3;
  backing[4] = cmd;
  backing[5] = payload.length >> 8;
  backing[6] = payload.length & 0xff;
  backing.set(payload.subarray(0, INIT_DATA_SIZE), INIT_HEADER_SIZE);
  frames[0] = backing.subarray(0, REPORT_SIZE);

  let offset = INIT_DATA_SIZE;
  for (let seq = 0; seq < count - 1; seq++) {
    const start = (seq + 1) * REPORT_SIZE;
    backing[start] = cid0;
    backing[start + 1] = cid1;
    backing[start + 2] = cid2;
    backing[start + 3] = cid3;
    backing[start + 4] = seq;
    backing.set(payload.subarray(offset, offset + CONT_DATA_SIZE), start + CONT_HEADER_SIZE);
    frames[seq + 1] = backing.subarray(start, start + REPORT_SIZE);
    offset += CONT_DATA_SIZE;
  }
  return frames;
}

/**
 * Reads the header of one 64-byte report. Throws CtapHidError when the report is not 64
 * bytes long. An init frame's `data` is limited to the bytes its BCNT announces.
 */
export function decodeFrame(report: Uint8Array): Frame {
  if (report.length !== REPORT_SIZE) {
    throw new CtapHidError(`frame: expected a ${REPORT_SIZE}-byte report, got ${report.length}`);
  }
  const cid = ((report[0]! << 24) | (report[1]! << 16) | (report[2]! << 8) | report[3]!) >>> 0;
  const fifth = report[4]!;
  if (fifth & TYPE_INIT) {
    const bcnt = (report[5]! << 8) | report[6]!;
    const take = Math.min(bcnt, INIT_DATA_SIZE);
    return {
      type: 'init',
      cid,
      cmd: fifth,
      bcnt,
      data: report.subarray(INIT_HEADER_SIZE, INIT_HEADER_SIZE + take),
    };
  }
  return { type: 'cont', cid, seq: fifth, data: report.subarray(CONT_HEADER_SIZE) };
}

/** Number of continuation packets a message of `length` bytes needs. */
export function continuationCount(length: number): number {
  return length <= INIT_DATA_SIZE ? 0 : Math.ceil((length - INIT_DATA_SIZE) / CONT_DATA_SIZE);
}

/**
 * Reassembles one message from its init frame and continuation frames, checking sequence
 * numbers strictly. Feed frames of one channel only.
 */
export class MessageAssembler {
  readonly cid: number;
  readonly cmd: number;
  readonly bcnt: number;
  private readonly buffer: Uint8Array;
  private filled: number;
  private nextSeq = 0;

  constructor(init: InitFrame) {
    if (init.bcnt > MAX_MESSAGE_SIZE) {
      throw new CtapHidError(
        `frame: BCNT ${init.bcnt} exceeds the ${MAX_MESSAGE_SIZE}-byte maximum`,
      );
    }
    this.cid = init.cid;
    this.cmd = init.cmd;
    this.bcnt = init.bcnt;
    this.buffer = new Uint8Array(init.bcnt);
    this.buffer.set(init.data);
    this.filled = init.data.length;
  }

  get complete(): boolean {
    return this.filled >= this.bcnt;
  }

  /** Adds a continuation frame. Throws CtapHidError on a wrong sequence number. */
  push(frame: ContFrame): void {
    if (frame.seq !== this.nextSeq) {
      throw new CtapHidError(
        `frame: continuation seq ${frame.seq}, expected ${this.nextSeq} on cid ` +
          `0x${this.cid.toString(16).padStart(8, '0')}`,
      );
    }
    this.nextSeq++;
    const take = Math.min(this.bcnt - this.filled, frame.data.length);
    this.buffer.set(frame.data.subarray(0, take), this.filled);
    this.filled += take;
  }

  /** The payload; throws CtapHidError if frames are still missing. */
  message(): Uint8Array {
    if (!this.complete) {
      throw new CtapHidError(`frame: message incomplete, ${this.filled} of ${this.bcnt} bytes`);
    }
    return this.buffer;
  }
}

/**
 * Decodes a complete message from its reports (as sent by encodeMessage). Throws
 * CtapHidError when the first report is not an init frame, channels differ, or bytes are
 * missing.
 */
export function decodeMessage(reports: readonly Uint8Array[]): {
  cid: number;
  cmd: number;
  payload: Uint8Array;
} {
  const [head, ...rest] = reports;
  if (!head) throw new CtapHidError('frame: no reports to decode');
  const init = decodeFrame(head);
  if (init.type !== 'init') throw new CtapHidError('frame: first report is not an init frame');
  const assembler = new MessageAssembler(init);
  for (const report of rest) {
    if (assembler.complete) throw new CtapHidError('frame: reports left after the message');
    const frame = decodeFrame(report);
    if (frame.type !== 'cont' || frame.cid !== init.cid) {
      throw new CtapHidError('frame: expected a continuation frame on the same channel');
    }
    assembler.push(frame);
  }
  return { cid: init.cid, cmd: init.cmd, payload: assembler.message() };
}
