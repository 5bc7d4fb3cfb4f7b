import {
  BROADCAST_CID,
  CAPABILITY,
  CTAPHID,
  CTAPHID_ERR,
  KEEPALIVE_STATUS,
  MAX_MESSAGE_SIZE,
  MessageAssembler,
  REPORT_SIZE,
  ctapHidCommandName,
  ctapHidErrorName,
  decodeFrame,
  encodeMessage,
} from '@keybench/hid-transport';

import { cidHex, concat, u32be } from './bytes.js';
import type { FaultSet } from './faults.js';
import type { Profile } from './profiles.js';

/** Sends one 64-byte report to the host that sent the request. */
export type ReplyFn = (report: Uint8Array) => void;

/** Device timers (U2F HID v1.2 header: U2FHID_FRAME_TIMEOUT 500 ms). */
export const DEVICE_TIMING = Object.freeze({
  /** Without the next continuation packet for this long, the message fails MSG_TIMEOUT. */
  FRAME_TIMEOUT_MS: 500,
  /** LOCK durations are 1..10 s (CTAP 2.0 §8.1.9.1.4). */
  MAX_LOCK_SECONDS: 10,
} as const);

/** INIT reply version fields: protocol 2, device version 1.0.0. */
const INIT_VERSION = Uint8Array.of(0x02, 0x01, 0x00, 0x00);
const CAPABILITIES = CAPABILITY.WINK | CAPABILITY.LOCK;

/** First channel id handed out; ids count up from it, skipping 0 and broadcast. */
const FIRST_CID = 0x4b420001;
/** Channels remembered; the oldest is forgotten beyond this (INIT storms). */
const MAX_CHANNELS = 65536;

interface Pending {
  readonly assembler: MessageAssembler;
  readonly reply: ReplyFn;
  timer: NodeJS.Timeout;
}

/** What the key answers to a complete MSG payload. */
export type MessageHandler = (payload: Uint8Array) => { response: Uint8Array; summary: string };

/**
 * The device side of CTAPHID (U2F HID v1.2 / CTAP 2.0 §8.1): channel allocation,
 * reassembly with one transaction at a time, BUSY, timeouts, LOCK, and the commands PING,
 * MSG, INIT, WINK, LOCK. Replies leave through `reply` of the report that completed the
 * request; MSG_TIMEOUT through the one that started it.
 */
export class CtapHidDevice {
  private readonly channels = new Set<number>();
  private nextCid = FIRST_CID;
  private pending: Pending | undefined;
  private lock: { cid: number; until: number } | undefined;
  private readonly delayed = new Set<NodeJS.Timeout>();
  private lastInitNonce: Uint8Array = new Uint8Array(8);
  private lastMsgResponse: Uint8Array | undefined;
  private closed = false;

  constructor(
    private readonly onMessage: MessageHandler,
    private readonly profile: Profile,
    private readonly faults: FaultSet,
    private readonly log: (line: string) => void,
  ) {}

  /** Handles one report from the host; replies (zero or more reports) go to `reply`. */
  handleReport(report: Uint8Array, reply: ReplyFn): void {
    if (this.closed) return;
    if (report.length !== REPORT_SIZE) {
      this.log(`ignored a ${report.length}-byte report (expected ${REPORT_SIZE})`);
      return;
    }

    const frame = decodeFrame(report);
    if (frame.type === 'cont') {
      this.continuation(frame.cid, frame.seq, report, reply);
      return;
    }
    if (frame.cmd === CTAPHID.INIT) {
      this.init(frame.cid, frame.bcnt, frame.data, reply);
      return;
    }
    this.initFrame(report, reply);
  }

  /** Stops timers; pending messages and delayed replies are dropped. */
  close(): void {
    this.closed = true;
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
    for (const timer of this.delayed) clearTimeout(timer);
    this.delayed.clear();
  }

  /** INIT (U2F HID §4.1.3): allocate on broadcast, resynchronise on an own channel. */
  private init(cid: number, bcnt: number, data: Uint8Array, reply: ReplyFn): void {
    const request = `${cidHex(cid)} INIT`;
    if (cid === 0) return this.error(reply, cid, CTAPHID_ERR.INVALID_CHANNEL, request);
    if (bcnt !== 8) return this.error(reply, cid, CTAPHID_ERR.INVALID_LEN, request);

    let newCid = cid;
    if (cid === BROADCAST_CID) {
      newCid = this.allocate();
    } else {
      if (this.lockedAgainst(cid) && this.profile.initUnderLock === 'busy') {
        return this.error(reply, cid, CTAPHID_ERR.CHANNEL_BUSY, request);
      }
      if (!this.channels.has(cid) && this.profile.unallocatedChannel === 'invalid-channel') {
        return this.error(reply, cid, CTAPHID_ERR.INVALID_CHANNEL, request);
      }
      this.remember(cid);
      if (this.pending?.assembler.cid === cid) this.abandon();
    }

    let nonce: Uint8Array = Uint8Array.from(data.subarray(0, 8));
    if (this.faults.strikes('wrong-init-nonce')) {
      [nonce, this.lastInitNonce] = [this.lastInitNonce, nonce];
    } else {
      this.lastInitNonce = nonce;
    }
    const payload = concat(nonce, u32be(newCid), INIT_VERSION, Uint8Array.of(CAPABILITIES));
    this.send(reply, cid, CTAPHID.INIT, payload, `${request} → cid ${cidHex(newCid)}`);
  }

  /** An init frame of any command but INIT. */
  private initFrame(report: Uint8Array, reply: ReplyFn): void {
    const frame = decodeFrame(report);
    if (frame.type !== 'init') return;
    const { cid, cmd, bcnt } = frame;
    const request = `${cidHex(cid)} ${ctapHidCommandName(cmd)} ${bcnt}B`;

    if (cid === 0 || cid === BROADCAST_CID) {
      return this.error(reply, cid, CTAPHID_ERR.INVALID_CHANNEL, request);
    }
    if (this.pending && this.pending.assembler.cid !== cid) {
      if (!this.faults.has('busy-ignored')) {
        return this.error(reply, cid, CTAPHID_ERR.CHANNEL_BUSY, request);
      }
      this.abandon();
    }
    if (this.pending) {
      // A second init frame where a continuation was due (FR-07): the message is lost and
      // the new frame does not start one.
      this.abandon();
      return this.error(reply, cid, CTAPHID_ERR.INVALID_SEQ, request);
    }
    if (this.lockedAgainst(cid)) return this.error(reply, cid, CTAPHID_ERR.CHANNEL_BUSY, request);
    if (!this.channels.has(cid) && this.profile.unallocatedChannel === 'invalid-channel') {
      return this.error(reply, cid, CTAPHID_ERR.INVALID_CHANNEL, request);
    }
    if (bcnt > MAX_MESSAGE_SIZE) return this.error(reply, cid, CTAPHID_ERR.INVALID_LEN, request);

    const assembler = new MessageAssembler(frame);
    if (assembler.complete) return this.dispatch(cid, cmd, assembler.message(), reply);
    this.pending = { assembler, reply, timer: this.startTimer() };
  }

  /** A continuation packet: part of the pending message, or ignored (FR-02). */
  private continuation(cid: number, seq: number, report: Uint8Array, reply: ReplyFn): void {
    const pending = this.pending;
    if (!pending || pending.assembler.cid !== cid) {
      this.log(`${cidHex(cid)} stray continuation seq ${seq} ignored`);
      return;
    }

    const frame = decodeFrame(report);
    if (frame.type !== 'cont') return;
    try {
      pending.assembler.push(frame);
    } catch {
      this.abandon();
      return this.error(reply, cid, CTAPHID_ERR.INVALID_SEQ, `${cidHex(cid)} CONT seq ${seq}`);
    }

    clearTimeout(pending.timer);
    if (!pending.assembler.complete) {
      pending.timer = this.startTimer();
      return;
    }
    this.pending = undefined;
    this.dispatch(cid, pending.assembler.cmd, pending.assembler.message(), reply);
  }

  /** A complete message. */
  private dispatch(cid: number, cmd: number, payload: Uint8Array, reply: ReplyFn): void {
    const request = `${cidHex(cid)} ${ctapHidCommandName(cmd)} ${payload.length}B`;
    switch (cmd) {
      case CTAPHID.PING:
        return this.send(reply, cid, cmd, payload, `${request} → echo`);
      case CTAPHID.WINK:
        return this.send(reply, cid, cmd, new Uint8Array(0), `${request} → wink`);
      case CTAPHID.LOCK:
        return this.lockCommand(cid, payload, reply, request);
      case CTAPHID.MSG:
        return this.msg(cid, payload, reply, request);
      case CTAPHID.CANCEL:
        // CTAP 2.0 §8.1.9.1.5: CANCEL is never answered; there is nothing to cancel in U2F.
        this.log(`${request} → (no reply)`);
        return;
      default:
        return this.error(reply, cid, CTAPHID_ERR.INVALID_CMD, request);
    }
  }

  private msg(cid: number, payload: Uint8Array, reply: ReplyFn, request: string): void {
    if (payload.length === 0) return this.error(reply, cid, CTAPHID_ERR.INVALID_LEN, request);

    const { response, summary } = this.onMessage(payload);
    let sent = response;
    if (this.lastMsgResponse && this.faults.strikes('stale-reply')) sent = this.lastMsgResponse;
    this.lastMsgResponse = response;
    this.send(reply, cid, CTAPHID.MSG, sent, `${request} ${summary}`);
  }

  /** LOCK (U2F HID §4.1.4): 0 releases, 1..10 locks the device to this channel for n s. */
  private lockCommand(cid: number, payload: Uint8Array, reply: ReplyFn, request: string): void {
    if (payload.length !== 1) return this.error(reply, cid, CTAPHID_ERR.INVALID_LEN, request);
    const seconds = payload[0]!;
    if (seconds > DEVICE_TIMING.MAX_LOCK_SECONDS) {
      return this.error(reply, cid, CTAPHID_ERR.INVALID_PAR, request);
    }
    this.lock = seconds === 0 ? undefined : { cid, until: performance.now() + seconds * 1000 };
    this.send(reply, cid, CTAPHID.LOCK, new Uint8Array(0), `${request} → lock ${seconds}s`);
  }

  private lockedAgainst(cid: number): boolean {
    if (this.lock && performance.now() >= this.lock.until) this.lock = undefined;
    return this.lock !== undefined && this.lock.cid !== cid;
  }

  private allocate(): number {
    let cid = this.nextCid;
    while (cid === 0 || cid === BROADCAST_CID || this.channels.has(cid)) {
      cid = (cid + 1) >>> 0;
    }
    this.nextCid = (cid + 1) >>> 0;
    this.remember(cid);
    return cid;
  }

  private remember(cid: number): void {
    this.channels.add(cid);
    if (this.channels.size > MAX_CHANNELS) {
      const oldest = this.channels.values().next().value;
      if (oldest !== undefined) this.channels.delete(oldest);
    }
  }

  private startTimer(): NodeJS.Timeout {
    return setTimeout(() => {
      const pending = this.pending;
      if (!pending) return;
      this.pending = undefined;
      const cid = pending.assembler.cid;
      this.error(pending.reply, cid, CTAPHID_ERR.MSG_TIMEOUT, `${cidHex(cid)} (no continuation)`);
    }, DEVICE_TIMING.FRAME_TIMEOUT_MS);
  }

  private abandon(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
  }

  private error(reply: ReplyFn, cid: number, code: number, request: string): void {
    const name = ctapHidErrorName(code);
    this.send(reply, cid, CTAPHID.ERROR, Uint8Array.of(code), `${request} → ERROR ${name}`);
  }

  /** Frames a reply and sends it through the frame-level faults. */
  private send(reply: ReplyFn, cid: number, cmd: number, payload: Uint8Array, line: string): void {
    this.log(line);
    const replyCid = this.faults.strikes('wrong-reply-cid')
      ? new DataView(u32be(cid).reverse().buffer).getUint32(0)
      : cid;

    let frames = encodeMessage(replyCid, cmd, payload);
    if (cmd === CTAPHID.MSG && this.faults.has('keepalive-flood')) {
      const keepalive = encodeMessage(replyCid, CTAPHID.KEEPALIVE,
        Uint8Array.of(KEEPALIVE_STATUS.PROCESSING))[0]!;
      const count = this.faults.value('keepalive-flood') ?? 0;
      frames = [...Array.from({ length: count }, () => keepalive), ...frames];
    }
    if (frames.length >= 2 && this.faults.strikes('reorder-frames')) {
      const last = frames.length - 1;
      [frames[last - 1], frames[last]] = [frames[last]!, frames[last - 1]!];
    }

    const out: Uint8Array[] = [];
    for (const frame of frames) {
      if (this.faults.strikes('drop-frames')) continue;
      out.push(frame);
      if (this.faults.strikes('duplicate-frames')) out.push(frame);
    }

    const delay = this.faults.value('slow-reply');
    if (delay === undefined || delay === 0) {
      for (const frame of out) reply(frame);
      return;
    }
    const timer = setTimeout(() => {
      this.delayed.delete(timer);
      for (const frame of out) reply(frame);
    }, delay);
    this.delayed.add(timer);
  }
}
