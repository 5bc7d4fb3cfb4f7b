/**
 * The virtual key as a real Linux HID device, through /dev/uhid: the kernel then offers it
 * to every program as a hidraw node (node-hid, python-fido2, libfido2, browsers).
 *
 * /dev/uhid is driven without ever blocking a libuv thread: the fd is opened O_NONBLOCK and
 * drained until EAGAIN by a poller (uhid-reader.ts). A blocking fs.read would sit in the
 * threadpool, and libuv joins its threadpool at exit, so a crash or process.exit() would hang
 * with the device still present. As it is, any exit ends the process, the kernel closes the
 * fd, and closing the fd destroys the device.
 *
 * Input reports are paced like a USB interrupt endpoint the host polls: a small burst, then
 * one report per interval. uhid itself has no flow control, and hidraw keeps at most 64
 * unread reports per open file, dropping newer ones. Written all at once, the 129 reports of
 * a 7609-byte PING echo outran node-hid in the VM test: the host got SEQ 0x00-0x42, then
 * 0x56 (19 reports lost, conformance FR-14). A real key cannot do that either: its reports
 * leave only as fast as the host polls.
 */
import * as fs from 'node:fs';

import { REPORT_SIZE } from '@keybench/hid-transport';

import {
  BUS,
  decodeUhidEvent,
  encodeCreate2,
  encodeDestroy,
  encodeInput2,
  encodeReportReply,
  FIDO_REPORT_DESCRIPTOR,
  UHID,
  UHID_EVENT_SIZE,
  UHID_REPORT_TYPE,
  type UhidEvent,
} from './uhid-event.js';
import { readInWorker, readOnTimer, type UhidReader } from './uhid-reader.js';

/**
 * Defaults: the pid.codes test VID:PID (1209:0001, "pid.codes Test PID", meant for testing,
 * never for a device that ships), and a name and serial that say what the device is.
 */
export const UHID_DEFAULTS = Object.freeze({
  DEVICE_PATH: '/dev/uhid',
  VENDOR_ID: 0x1209,
  PRODUCT_ID: 0x0001,
  NAME: 'KeyBench virtual U2F key (uhid)',
  SERIAL: 'KEYBENCH-VIRTUAL',
  /**
   * Input pacing: up to INPUT_BURST reports at once, then one per INPUT_INTERVAL_MS (a
   * full-speed endpoint with bInterval 4). A 64-byte reply has no delay; the largest message
   * (129 reports) takes about 0.5 s, and a reader may fall 7 ms per report behind before
   * hidraw's 64-report queue overflows.
   */
  INPUT_INTERVAL_MS: 4,
  INPUT_BURST: 8,
} as const);

/** Linux O_CLOEXEC (02000000 on x86, arm and arm64); node:fs does not export it. */
const O_CLOEXEC = 0o2000000;

/** errno a report request is refused with: this key has no feature reports. */
const EIO = 5;

/** Why /dev/uhid could not be used. */
export type UhidErrorKind = 'not-linux' | 'not-found' | 'permission' | 'io';

/** /dev/uhid is missing, not permitted, not on Linux, or failed a read or write. */
export class UhidError extends Error {
  override readonly name = 'UhidError';
  readonly kind: UhidErrorKind;
  /** The errno code behind it (ENOENT, EACCES, ...), when there was one. */
  readonly code: string | undefined;
  constructor(kind: UhidErrorKind, message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.code = options?.code;
  }
}

/** The file operations serveUhid uses; tests pass a fake. The default is node:fs. */
export interface UhidFileSystem {
  openSync(path: string, flags: number): number;
  /** Returns bytes read; throws an error with code EAGAIN when nothing is pending. */
  readSync(fd: number, buffer: Uint8Array): number;
  writeSync(fd: number, buffer: Uint8Array): number;
  closeSync(fd: number): void;
}

const nodeFileSystem: UhidFileSystem = {
  openSync: (path, flags) => fs.openSync(path, flags),
  readSync: (fd, buffer) => fs.readSync(fd, buffer, 0, buffer.length, null),
  writeSync: (fd, buffer) => fs.writeSync(fd, buffer),
  closeSync: (fd) => fs.closeSync(fd),
};

/** The key side serveUhid needs: VirtualKey fits. */
export interface UhidKey {
  handleReport(report: Uint8Array, reply: (report: Uint8Array) => void): void;
}

export interface UhidOptions {
  /** USB vendor id, default 0x1209 (pid.codes). */
  vendorId?: number;
  /** USB product id, default 0x0001 (pid.codes test PID). */
  productId?: number;
  /** Product name shown to host programs (at most 127 UTF-8 bytes). */
  name?: string;
  /** Serial number shown to host programs (at most 63 UTF-8 bytes). */
  serial?: string;
  /** Default /dev/uhid. */
  devicePath?: string;
  /** Receives one readable line per kernel event, report and dropped input. Never prints. */
  trace?: (line: string) => void;
  /** Milliseconds between paced input reports (default 4; 0 = no pacing). */
  inputIntervalMs?: number;
  /** Input reports sent without pacing after a quiet spell (default 8, at least 1). */
  inputBurst?: number;
  /**
   * Test seams: the file layer (given one, events are polled on a main-thread timer instead
   * of a worker thread) and the platform name (default process.platform).
   */
  fileSystem?: UhidFileSystem;
  platform?: string;
}

/** A running uhid device. */
export interface UhidServer {
  /** Resolves true when the kernel started the device (UHID_START), false if closed first. */
  readonly started: Promise<boolean>;
  /** Sends UHID_DESTROY and closes /dev/uhid. Safe to call twice. */
  close(): Promise<void>;
}

function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Turns an open() failure into a UhidError that says how to fix it. */
export function classifyOpenError(path: string, error: unknown): UhidError {
  const code = errnoCode(error);
  const reason = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'ENOENT':
    case 'ENODEV':
    case 'ENXIO':
      return new UhidError(
        'not-found',
        `uhid: ${path} not found (${code}): the uhid kernel module is not loaded. ` +
          'Load it with "sudo modprobe uhid" (at every boot: ' +
          'echo uhid | sudo tee /etc/modules-load.d/uhid.conf)',
        { cause: error, code },
      );
    case 'EACCES':
    case 'EPERM':
      return new UhidError(
        'permission',
        `uhid: permission denied opening ${path} (${code}); it is root-only (0600) by ` +
          'default. Run as root, or grant a group with a udev rule such as ' +
          '/etc/udev/rules.d/70-keybench-uhid.rules: KERNEL=="uhid", GROUP="uhid", ' +
          'MODE="0660", then: sudo groupadd -r uhid; sudo usermod -aG uhid $USER; ' +
          'sudo udevadm control --reload; sudo udevadm trigger /dev/uhid (and log in again)',
        { cause: error, code },
      );
    default:
      return new UhidError('io', `uhid: cannot open ${path}: ${reason}`, {
        cause: error,
        ...(code === undefined ? {} : { code }),
      });
  }
}

function checkId(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`uhid: ${field} must be an integer 0..0xffff, got ${value}`);
  }
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/**
 * Creates a FIDO HID device (bus USB, usage page 0xF1D0, 64-byte reports) played by `key`.
 * Each UHID_OUTPUT report goes to key.handleReport with the report-id byte hidraw passes
 * through removed; each reply goes back as UHID_INPUT2, paced like a USB endpoint (see
 * UHID_DEFAULTS). The process stays alive until close(). Throws RangeError for bad options
 * (ids, over-long name or serial, pacing) and UhidError when /dev/uhid is missing ('not-found'),
 * not permitted ('permission'), not on Linux ('not-linux') or refuses UHID_CREATE2 ('io').
 * Once running, kernel read/write failures are reported through `trace` and stop the device.
 */
export function serveUhid(key: UhidKey, options: UhidOptions = {}): UhidServer {
  const platform = options.platform ?? process.platform;
  const devicePath = options.devicePath ?? UHID_DEFAULTS.DEVICE_PATH;
  const vendorId = options.vendorId ?? UHID_DEFAULTS.VENDOR_ID;
  const productId = options.productId ?? UHID_DEFAULTS.PRODUCT_ID;
  const trace = options.trace ?? (() => {});
  const file = options.fileSystem ?? nodeFileSystem;
  checkId(vendorId, 'vendor id');
  checkId(productId, 'product id');
  const inputIntervalMs = options.inputIntervalMs ?? UHID_DEFAULTS.INPUT_INTERVAL_MS;
  const inputBurst = options.inputBurst ?? UHID_DEFAULTS.INPUT_BURST;
  if (!Number.isFinite(inputIntervalMs) || inputIntervalMs < 0) {
    throw new RangeError(`uhid: inputIntervalMs must be 0 or more, got ${inputIntervalMs}`);
  }
  if (!Number.isInteger(inputBurst) || inputBurst < 1) {
    throw new RangeError(`uhid: inputBurst must be a positive integer, got ${inputBurst}`);
  }

  // Encoding first, so bad options throw before any device exists.
  const create = encodeCreate2({
    name: options.name ?? UHID_DEFAULTS.NAME,
    phys: 'keybench-virtual-key',
    uniq: options.serial ?? UHID_DEFAULTS.SERIAL,
    bus: BUS.USB,
    vendor: vendorId,
    product: productId,
    descriptor: FIDO_REPORT_DESCRIPTOR,
  });

  if (platform !== 'linux') {
    throw new UhidError(
      'not-linux',
      `uhid: ${devicePath} exists only on Linux, this is ${platform}; ` +
        'use the key over UDP (keybench virtual-key --udp PORT) or in process instead',
    );
  }

  let fd: number;
  try {
    fd = file.openSync(devicePath, fs.constants.O_RDWR | fs.constants.O_NONBLOCK | O_CLOEXEC);
  } catch (error) {
    throw classifyOpenError(devicePath, error);
  }

  try {
    file.writeSync(fd, create);
  } catch (error) {
    file.closeSync(fd);
    throw new UhidError('io', `uhid: UHID_CREATE2 refused by ${devicePath}: ${String(error)}`, {
      cause: error,
    });
  }
  trace(`uhid: created ${vendorId.toString(16).padStart(4, '0')}:` +
    `${productId.toString(16).padStart(4, '0')} on ${devicePath}`);

  let closed = false;
  let reader: UhidReader | undefined;
  let closing: Promise<void> | undefined;
  let inputTimer: NodeJS.Timeout | undefined;
  const inputQueue: Uint8Array[] = [];
  let tokens: number = inputBurst;
  let refilledAt = performance.now();
  let resolveStarted: (started: boolean) => void = () => {};
  const started = new Promise<boolean>((resolve) => (resolveStarted = resolve));

  const write = (event: Uint8Array, what: string): void => {
    if (closed) return;
    try {
      file.writeSync(fd, event);
    } catch (error) {
      trace(`uhid: ${what} write failed: ${String(error)}; closing the device`);
      void shutdown(false);
    }
  };

  const onEvent = (event: UhidEvent): void => {
    switch (event.type) {
      case 'start':
        trace(`uhid: start (dev_flags 0x${event.devFlags.toString(16)})`);
        resolveStarted(true);
        return;
      case 'stop':
      case 'open':
      case 'close':
        trace(`uhid: ${event.type}`);
        return;
      case 'output':
        onOutput(event.rtype, event.data);
        return;
      case 'get-report':
        trace(`uhid: get_report ${event.rnum} refused (no feature reports)`);
        write(encodeReportReply(UHID.GET_REPORT_REPLY, event.id, EIO), 'get_report_reply');
        return;
      case 'set-report':
        trace(`uhid: set_report ${event.rnum} refused (no feature reports)`);
        write(encodeReportReply(UHID.SET_REPORT_REPLY, event.id, EIO), 'set_report_reply');
        return;
      case 'unknown':
        trace(`uhid: ignored event type ${event.code}`);
        return;
    }
  };

  const onOutput = (rtype: number, data: Uint8Array): void => {
    // hidraw hands uhid the whole write, report-id byte included (usbhid strips it): a
    // descriptor without report ids gets 00 ‖ 64-byte frame.
    let report = data;
    if (data.length === REPORT_SIZE + 1 && data[0] === 0x00) report = data.subarray(1);
    if (rtype !== UHID_REPORT_TYPE.OUTPUT_REPORT || report.length !== REPORT_SIZE) {
      trace(`uhid: dropped output (rtype ${rtype}, ${data.length} bytes, expected ` +
        `${REPORT_SIZE} or 00 + ${REPORT_SIZE}): ${hex(data)}`);
      return;
    }
    trace(`uhid: out ${hex(report)}`);
    key.handleReport(report.slice(), (reply) => {
      if (closed) return;
      inputQueue.push(reply.slice());
      sendInput();
    });
  };

  /** Writes queued input reports as far as the pacing allows; re-arms itself for the rest. */
  const sendInput = (): void => {
    if (inputTimer !== undefined) return;
    const now = performance.now();
    tokens = inputIntervalMs === 0
      ? inputBurst
      : Math.min(inputBurst, tokens + (now - refilledAt) / inputIntervalMs);
    refilledAt = now;
    while (!closed && inputQueue.length > 0 && tokens >= 1) {
      const reply = inputQueue.shift()!;
      if (inputIntervalMs !== 0) tokens -= 1;
      trace(`uhid: in  ${hex(reply)}`);
      write(encodeInput2(reply), 'input2');
    }
    if (closed || inputQueue.length === 0) return;
    inputTimer = setTimeout(() => {
      inputTimer = undefined;
      sendInput();
    }, Math.ceil((1 - tokens) * inputIntervalMs));
  };

  const onBytes = (bytes: Uint8Array): void => {
    if (closed) return;
    try {
      onEvent(decodeUhidEvent(bytes));
    } catch (error) {
      trace(`uhid: bad event: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const shutdown = (destroy: boolean): Promise<void> => {
    if (closing) return closing;
    if (destroy) {
      try {
        file.writeSync(fd, encodeDestroy());
      } catch (error) {
        trace(`uhid: destroy failed: ${String(error)} (closing the fd destroys it anyway)`);
      }
    }
    closed = true;
    if (inputTimer !== undefined) clearTimeout(inputTimer);
    inputTimer = undefined;
    if (inputQueue.length > 0) trace(`uhid: ${inputQueue.length} input report(s) unsent at close`);
    inputQueue.length = 0;
    resolveStarted(false);

    // The fd closes only once no read can touch it: a number reused by a later open must
    // never be read by a poller that is still running.
    closing = (async () => {
      await reader?.stop();
      try {
        file.closeSync(fd);
      } catch (error) {
        trace(`uhid: close failed: ${String(error)}`);
      }
      trace('uhid: closed');
    })();
    return closing;
  };

  const callbacks = {
    onEvent: onBytes,
    onFailure: (reason: string) => {
      trace(`uhid: read failed: ${reason}; closing the device`);
      void shutdown(false);
    },
  };
  try {
    reader = options.fileSystem
      ? readOnTimer(file, fd, UHID_EVENT_SIZE, callbacks)
      : readInWorker(fd, UHID_EVENT_SIZE, callbacks);
  } catch (error) {
    file.closeSync(fd);
    throw new UhidError('io', `uhid: cannot start the reader: ${String(error)}`, { cause: error });
  }

  return {
    started,
    close: () => shutdown(true),
  };
}
