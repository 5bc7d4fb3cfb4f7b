import { execFileSync } from 'node:child_process';
import { constants, openSync, statSync } from 'node:fs';
import { Socket } from 'node:net';

import { REPORT_SIZE } from '@keybench/hid-transport';

import { ByteReader, ShortReadError } from './byte-reader.js';
import type { VirtualKey } from './virtual-key.js';

/**
 * The named-pipe emulator protocol of Google's u2f-ref-code HID tests (`dev.cc`, a device
 * path ending in "-"). Each request on `PREFIX + "in"` is `u32le cmd | u32le len | payload`.
 */
export const FIFO_CMD = Object.freeze({
  /** `cmd 2, len 4, u32le 3`: reset/quit; the server stops. */
  QUIT: 0x02,
  /** `cmd 4, len 64, report`: one 64-byte report to the key (no report id). */
  WRITE_REPORT: 0x04,
  /** `cmd 5, len 0`: poll; answered `5, 0` (nothing pending) or `5, 64, report`. */
  POLL: 0x05,
  /** `cmd 6, len 4, u32le 199`: the touch interrupt; a button press. */
  INTERRUPT: 0x06,
} as const);

/** The u32 values that go with QUIT and INTERRUPT. */
export const FIFO_VALUE = Object.freeze({ QUIT: 3, TOUCH: 199 } as const);

/**
 * Longest payload accepted. Real requests carry 0, 4 or 64 bytes; a longer `len` means the
 * stream is out of step (or a host lies), and waiting for 4 GiB would only eat memory.
 */
export const FIFO_MAX_PAYLOAD = 4096;

export interface FifoServer {
  /** `PREFIX + "in"` and `PREFIX + "out"`. */
  readonly paths: { readonly in: string; readonly out: string };
  /** Resolves when the host sent QUIT or close() was called. */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

function ensureFifo(path: string): void {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    execFileSync('mkfifo', ['-m', '600', path]);
    return;
  }
  if (!stats.isFIFO()) throw new RangeError(`fifo: ${path} exists and is not a FIFO`);
}

function header(cmd: number, length: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt32LE(cmd, 0);
  out.writeUInt32LE(length, 4);
  return out;
}

/**
 * Serves `key` over two FIFOs. Both are created when missing and opened read-write, so the
 * host may close and reopen them any number of times without the server seeing end-of-file.
 * Replies are queued until polled; reading is event-driven (no busy-waiting). Throws
 * RangeError when a path exists but is not a FIFO, or the FIFOs cannot be created or opened.
 */
export function serveFifo(
  key: VirtualKey,
  options: { prefix: string; log?: (line: string) => void },
): FifoServer {
  const paths = { in: `${options.prefix}in`, out: `${options.prefix}out` };
  const log = options.log ?? (() => {});
  let input: Socket;
  let output: Socket;
  try {
    ensureFifo(paths.in);
    ensureFifo(paths.out);
    const flags = constants.O_RDWR | constants.O_NONBLOCK;
    input = new Socket({ fd: openSync(paths.in, flags), readable: true, writable: false });
    output = new Socket({ fd: openSync(paths.out, flags), readable: false, writable: true });
  } catch (error) {
    if (error instanceof RangeError) throw error;
    const reason = (error as Error).message;
    throw new RangeError(`fifo: cannot open ${paths.in} / ${paths.out}: ${reason}`);
  }

  const queue: Uint8Array[] = [];
  let buffered: Buffer = Buffer.alloc(0);
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const close = async () => {
    input.destroy();
    output.destroy();
    finish();
  };

  // Returns false when the buffer does not yet hold a whole request.
  const handleOne = (): boolean => {
    const reader = new ByteReader(buffered);
    let cmd: number;
    let payload: Uint8Array;
    try {
      cmd = reader.u32le('fifo cmd');
      const length = reader.u32le('fifo len');
      if (length > FIFO_MAX_PAYLOAD) {
        log(`fifo: request cmd ${cmd} claims ${length} bytes (at most ${FIFO_MAX_PAYLOAD}), ` +
          `${buffered.length} buffered bytes discarded`);
        buffered = Buffer.alloc(0);
        return false;
      }
      payload = reader.take(length, 'fifo payload');
    } catch (error) {
      if (error instanceof ShortReadError) return false;
      throw error;
    }
    buffered = buffered.subarray(buffered.length - reader.remaining);

    const value = payload.length === 4 ? new ByteReader(payload).u32le('fifo value') : undefined;
    if (cmd === FIFO_CMD.WRITE_REPORT && payload.length === REPORT_SIZE) {
      key.handleReport(Uint8Array.from(payload), (report) => queue.push(report));
    } else if (cmd === FIFO_CMD.POLL) {
      const next = queue.shift();
      output.write(next ? Buffer.concat([header(FIFO_CMD.POLL, REPORT_SIZE), next]) :
        header(FIFO_CMD.POLL, 0));
    } else if (cmd === FIFO_CMD.INTERRUPT && value === FIFO_VALUE.TOUCH) {
      log('fifo: touch');
      key.press();
    } else if (cmd === FIFO_CMD.QUIT && value === FIFO_VALUE.QUIT) {
      log('fifo: quit');
      void close();
    } else {
      log(`fifo: ignored request cmd ${cmd} with ${payload.length} bytes`);
    }
    return true;
  };

  input.on('data', (chunk: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    while (buffered.length >= 8 && handleOne()) {
      // one request handled per turn of the loop
    }
  });
  input.on('error', (error) => log(`fifo: read error ${error.message}`));
  output.on('error', (error) => log(`fifo: write error ${error.message}`));

  return { paths, done, close };
}
