import {
  type ChannelOptions,
  type Settings,
  type TransactionOptions,
  settingsOf,
} from './channel-options.js';
import { Deadline, checkMs, now, sleep, throwIfAborted } from './clock.js';
import type { HidConnection } from './connection.js';
import {
  CTAPHID,
  CTAPHID_ERR,
  MAX_MESSAGE_SIZE,
  REPORT_SIZE,
  TYPE_INIT,
  ctapHidCommandName,
  ctapHidErrorName,
} from './constants.js';
import { CtapHidError, TransportError } from './errors.js';
import { MessageAssembler, decodeFrame, encodeMessage } from './frame.js';
import { type DeviceInfo, negotiateChannel } from './init.js';
import { Wire } from './wire.js';

export type { DeviceInfo } from './init.js';
export type { ChannelOptions, KeepaliveHook, TransactionOptions } from './channel-options.js';

const hex32 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/**
 * A CTAPHID channel on one connection (U2FHID v1.2 / CTAP §8.1): allocates a cid with INIT,
 * sends requests and reassembles their replies, skipping frames for other channels and
 * keepalives. Transactions are serialised. After any timeout, abort or framing fault the
 * connection is drained and a new cid taken before the next request, so a late reply is
 * never read as the answer to the next one (libfido2#917).
 */
export class CtapHidChannel {
  readonly connection: HidConnection;
  private readonly wire: Wire;
  private readonly settings: Settings;
  private currentCid: number;
  private currentInfo: DeviceInfo;
  private needsResync = false;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(wire: Wire, settings: Settings, cid: number, info: DeviceInfo) {
    this.connection = wire.connection;
    this.wire = wire;
    this.settings = settings;
    this.currentCid = cid;
    this.currentInfo = info;
  }

  /**
   * Drains stale reports and allocates a channel with INIT on the broadcast cid. Throws
   * RangeError for bad options, TransportError (timeout, I/O) or CtapHidError (a reserved
   * cid in the reply).
   */
  static async open(
    connection: HidConnection,
    options: ChannelOptions & { signal?: AbortSignal } = {},
  ): Promise<CtapHidChannel> {
    const settings = settingsOf(options);
    const wire = new Wire(connection, options.trace, settings.readSliceMs);

    await wire.drain(settings.drainQuietMs);
    const { cid, info } = await negotiateChannel(wire, {
      timeoutMs: settings.initTimeoutMs,
      busyRetries: settings.busyRetries,
      busyBackoffMs: settings.busyBackoffMs,
      signal: options.signal,
    });
    return new CtapHidChannel(wire, settings, cid, info);
  }

  /** The channel id the device assigned (changes after a re-INIT). */
  get cid(): number {
    return this.currentCid;
  }

  /** Versions and capabilities from the latest INIT reply. */
  get info(): DeviceInfo {
    return this.currentInfo;
  }

  /** Reports of the wrong length dropped so far (by the channel and by the connection). */
  get droppedReports(): number {
    return this.wire.dropped + (this.connection.droppedReports ?? 0);
  }

  /**
   * Sends `payload` as command `cmd` and returns the payload of the reply with the same
   * command. CHANNEL_BUSY is retried with backoff a bounded number of times.
   *
   * Throws RangeError for a bad cmd or a payload over 7609 bytes (nothing is sent),
   * CtapHidError for an ERROR reply (with its code) or a framing fault, TransportError for
   * timeouts ('timeout'), cancellation ('aborted') and connection failures.
   */
  async transaction(
    cmd: number,
    payload: Uint8Array,
    options: TransactionOptions = {},
  ): Promise<Uint8Array> {
    if (!Number.isInteger(cmd) || cmd < TYPE_INIT || cmd > 0xff) {
      throw new RangeError(`channel: cmd must be 0x80..0xff, got ${cmd}`);
    }
    if (!(payload instanceof Uint8Array)) {
      throw new TypeError('channel: payload must be a Uint8Array');
    }
    if (payload.length > MAX_MESSAGE_SIZE) {
      throw new RangeError(
        `channel: payload of ${payload.length} bytes exceeds the ${MAX_MESSAGE_SIZE}-byte maximum`,
      );
    }
    if (options.timeoutMs !== undefined) checkMs('channel: timeoutMs', options.timeoutMs, 1);
    return this.exclusive(() => this.run(cmd, payload, options));
  }

  /** PING: the device echoes `data`. Throws CtapHidError when the echo differs. */
  async ping(data: Uint8Array, options: TransactionOptions = {}): Promise<Uint8Array> {
    const echo = await this.transaction(CTAPHID.PING, data, options);
    if (echo.length !== data.length || echo.some((byte, i) => byte !== data[i])) {
      this.needsResync = true;
      throw new CtapHidError(
        `ctaphid: PING echo of ${echo.length} bytes differs from the ${data.length} bytes sent`,
      );
    }
    return echo;
  }

  /** WINK: the device signals itself (if it has the WINK capability). */
  async wink(options: TransactionOptions = {}): Promise<void> {
    await this.transaction(CTAPHID.WINK, new Uint8Array(0), options);
  }

  /**
   * LOCK: reserve the device for this channel for `seconds` (0 releases, at most 10 by the
   * spec; 255 accepted for testing devices). Throws RangeError outside 0..255.
   */
  async lock(seconds: number, options: TransactionOptions = {}): Promise<void> {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 255) {
      throw new RangeError(`channel: lock seconds must be an integer 0..255, got ${seconds}`);
    }
    await this.transaction(CTAPHID.LOCK, Uint8Array.of(seconds), options);
  }

  /**
   * Raw frame API (conformance suite): writes one 64-byte report exactly as given, after
   * pending transactions. Throws RangeError for another length, TransportError on failure.
   */
  async sendFrame(report: Uint8Array): Promise<void> {
    if (!(report instanceof Uint8Array) || report.length !== REPORT_SIZE) {
      throw new RangeError(`channel: a frame must be ${REPORT_SIZE} bytes`);
    }
    return this.exclusive(async () => {
      this.assertOpen();
      await this.wire.send(report, 'raw');
    });
  }

  /**
   * Raw frame API: the next 64-byte report on any channel, or null after `timeoutMs`.
   * Reports of another length are dropped and counted. Throws TransportError.
   */
  async receiveFrame(
    timeoutMs: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<Uint8Array | null> {
    checkMs('channel: timeoutMs', timeoutMs);
    return this.exclusive(async () => {
      this.assertOpen();
      const report = await this.wire.receive(timeoutMs, options.signal);
      if (report) this.wire.note('in', report, 'raw');
      return report;
    });
  }

  /** Discards queued reports until the line is quiet; returns how many. */
  drain(): Promise<number> {
    return this.exclusive(async () => {
      this.assertOpen();
      return this.wire.drain(this.settings.drainQuietMs);
    });
  }

  /** Drains and takes a new cid with INIT on the broadcast channel. Throws like open(). */
  reinit(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.exclusive(async () => {
      this.assertOpen();
      await this.resync(new Deadline(this.settings.initTimeoutMs), options.signal);
    });
  }

  /** Closes the connection; later calls throw TransportError('closed'). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.connection.close();
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task, task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new TransportError('closed', `ctaphid ${this.connection.description}: closed`);
    }
  }

  // TODO(2026-12): a device that hands out the same cid again on re-INIT defeats the cid
  // filter for a reply that arrives after the drain; only PING can detect it (echo check).
  private async resync(deadline: Deadline, signal: AbortSignal | undefined): Promise<void> {
    await this.wire.drain(this.settings.drainQuietMs);
    const { cid, info } = await negotiateChannel(this.wire, {
      timeoutMs: this.settings.initTimeoutMs,
      busyRetries: this.settings.busyRetries,
      busyBackoffMs: this.settings.busyBackoffMs,
      signal,
      deadline,
    });
    this.currentCid = cid;
    this.currentInfo = info;
    this.needsResync = false;
  }

  private async run(
    cmd: number,
    payload: Uint8Array,
    options: TransactionOptions,
  ): Promise<Uint8Array> {
    this.assertOpen();
    const { signal } = options;
    const deadline = new Deadline(options.timeoutMs ?? this.settings.transactionTimeoutMs);
    const where = `ctaphid ${this.connection.description}: ${ctapHidCommandName(cmd)}`;
    throwIfAborted(signal, where);

    try {
      if (this.needsResync) await this.resync(deadline, signal);
      else await this.wire.discardQueued();

      for (let attempt = 0; ; attempt++) {
        // Frames of one request go out back to back: devices abort a message whose
        // continuation frames come more than ~100 ms apart (OpenSK receive.rs).
        for (const frame of encodeMessage(this.currentCid, cmd, payload)) {
          await this.wire.send(frame);
        }

        const reply = await this.awaitReply(cmd, deadline, options, where);
        if (reply.cmd !== CTAPHID.ERROR) return reply.payload;

        const code = reply.payload[0] ?? CTAPHID_ERR.OTHER;
        const pause = Math.min(this.settings.busyBackoffMs * 2 ** attempt, 1000);
        const retry =
          code === CTAPHID_ERR.CHANNEL_BUSY &&
          attempt < this.settings.busyRetries &&
          pause < deadline.remaining();
        if (!retry) {
          if (code === CTAPHID_ERR.INVALID_CHANNEL) this.needsResync = true;
          const tries = code === CTAPHID_ERR.CHANNEL_BUSY ? ` after ${attempt + 1} tries` : '';
          // An ERROR with BCNT 0 names no code: it is kept as OTHER, and the message says so.
          const what = reply.payload.length === 0
            ? 'ERROR without a code byte (taken as OTHER)'
            : `ERROR 0x${code.toString(16).padStart(2, '0')} (${ctapHidErrorName(code)})`;
          throw new CtapHidError(`${where}: device answered ${what}${tries}`, code);
        }
        await sleep(pause, signal, where);
      }
    } catch (error) {
      // An ERROR reply ends the exchange cleanly; anything else may leave frames in flight.
      if (!(error instanceof CtapHidError && error.code !== undefined)) this.needsResync = true;
      throw error;
    }
  }

  /** Waits for the reply to `cmd` on our cid: the reply itself, or an ERROR reply. */
  private async awaitReply(
    cmd: number,
    deadline: Deadline,
    options: TransactionOptions,
    where: string,
  ): Promise<{ cmd: number; payload: Uint8Array }> {
    const { frameTimeoutMs } = this.settings;
    const cid = this.currentCid;
    let frameDue = now() + frameTimeoutMs;
    let assembler: MessageAssembler | undefined;
    let lastStatus: number | undefined;
    let previous: Uint8Array | undefined;

    for (;;) {
      const frameLeft = frameDue - now();
      const wait = Math.min(frameLeft, deadline.remaining());
      if (wait <= 0) {
        const what =
          frameLeft <= 0
            ? `no frame for ${frameTimeoutMs} ms`
            : `no complete reply within ${deadline.totalMs} ms`;
        throw new TransportError('timeout', `${where}: ${what} on cid ${hex32(cid)}`);
      }

      const report = await this.wire.receive(wait, options.signal);
      if (!report) continue;
      const frame = decodeFrame(report);

      if (frame.cid !== cid) {
        this.wire.note('in', report, 'other channel, skipped');
        continue;
      }

      // Firmware that re-queues a report it believed lost sends it twice; the copy is
      // byte-identical to the frame before it and carries nothing new.
      if (assembler && previous && sameBytes(report, previous)) {
        this.wire.note('in', report, 'duplicate of the previous frame, skipped');
        continue;
      }
      previous = report;

      if (frame.type === 'cont') {
        if (!assembler) {
          this.wire.note('in', report, 'continuation without a message, skipped');
          continue;
        }
        this.wire.note('in', report);
        assembler.push(frame);
        frameDue = now() + frameTimeoutMs;
        if (assembler.complete) return { cmd: assembler.cmd, payload: assembler.message() };
        continue;
      }

      this.wire.note('in', report);
      frameDue = now() + frameTimeoutMs;

      if (frame.cmd === CTAPHID.KEEPALIVE) {
        const status = frame.data[0] ?? 0;
        if (status !== lastStatus) {
          lastStatus = status;
          this.settings.onKeepalive?.(status);
          options.onKeepalive?.(status);
        }
        continue;
      }
      // An ERROR ends the exchange even in the middle of a reply (e.g. MSG_TIMEOUT).
      if (frame.cmd === CTAPHID.ERROR) {
        return { cmd: frame.cmd, payload: Uint8Array.from(frame.data) };
      }
      if (assembler) {
        throw new CtapHidError(
          `${where}: init frame ${ctapHidCommandName(frame.cmd)} arrived while ` +
            `${assembler.bcnt}-byte reply was incomplete on cid ${hex32(cid)}`,
        );
      }
      if (frame.cmd !== cmd) {
        throw new CtapHidError(
          `${where}: expected reply ${ctapHidCommandName(cmd)}, got ` +
            `${ctapHidCommandName(frame.cmd)} on cid ${hex32(cid)}`,
        );
      }

      assembler = new MessageAssembler(frame);
      if (assembler.complete) return { cmd: frame.cmd, payload: assembler.message() };
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
