/**
 * Reading /dev/uhid without ever blocking: the fd is O_NONBLOCK and drained with readSync until
 * EAGAIN, then polled again after a short sleep. Two pollers:
 *
 * - in a worker thread (the real device): the kernel's uhid queue holds only 32 events and
 *   drops the rest ("Output queue is full" in dmesg). A host writing a 129-report message
 *   through hidraw fills it in about 16 ms, faster than a main thread busy with JS, garbage
 *   collection or a signature can come back to a timer; the VM test lost reports that way
 *   (conformance FR-15, INVALID_SEQ). A worker drains the queue whatever the main thread does.
 * - on a main-thread timer (a fake file layer in tests, whose functions cannot cross threads).
 *
 * Neither ever waits inside a syscall, so no exit path can hang on a pending read: a worker is
 * terminated with its process, a timer simply stops.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

/** A running poller. stop() resolves once no read can happen any more (the fd may close). */
export interface UhidReader {
  stop(): Promise<void>;
}

export interface ReaderCallbacks {
  /** One event as read (normally 4380 bytes); the bytes are the callee's to keep. */
  onEvent(bytes: Uint8Array): void;
  /** A read failed with something other than EAGAIN; the reader has stopped. */
  onFailure(reason: string): void;
}

/** Sleeps between empty reads: short while events flow, longer when idle. */
export const READER_TIMING = Object.freeze({
  ACTIVE_SLEEP_MS: 0.25,
  IDLE_SLEEP_MS: 4,
  /** Empty polls in a row before the sleep grows to IDLE_SLEEP_MS. */
  IDLE_AFTER_POLLS: 200,
} as const);

/** How long stop() waits for the worker to notice its flag before terminating it. */
const STOP_TIMEOUT_MS = 2000;

const isEagain = (code: unknown) => code === 'EAGAIN' || code === 'EWOULDBLOCK';

// Runs in the worker (CommonJS, evaluated from this string so no extra file has to ship).
// Atomics.wait on the stop flag doubles as an interruptible sleep.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { fd, size, stop, activeMs, idleMs, idleAfter } = workerData;
const buffer = new Uint8Array(size);
let empty = 0;
while (Atomics.load(stop, 0) === 0) {
  let length;
  try {
    length = readSync(fd, buffer, 0, size, null);
  } catch (error) {
    if (error.code === 'EAGAIN' || error.code === 'EWOULDBLOCK') {
      empty += 1;
      Atomics.wait(stop, 0, 0, empty > idleAfter ? idleMs : activeMs);
      continue;
    }
    parentPort.postMessage({ failure: String(error) });
    break;
  }
  empty = 0;
  parentPort.postMessage(buffer.slice(0, length));
}
`;

/**
 * Polls `fd` in a worker thread and delivers events on the calling thread. The worker is
 * ref'd, like a listening server: the process lives until stop(). Throws what `new Worker`
 * throws (e.g. out of memory).
 */
export function readInWorker(
  fd: number,
  eventSize: number,
  callbacks: ReaderCallbacks,
): UhidReader {
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      fd,
      size: eventSize,
      stop: stopFlag,
      activeMs: READER_TIMING.ACTIVE_SLEEP_MS,
      idleMs: READER_TIMING.IDLE_SLEEP_MS,
      idleAfter: READER_TIMING.IDLE_AFTER_POLLS,
    },
  });
  const exited = once(worker, 'exit').then(() => undefined);
  let stopped = false;

  worker.on('message', (message: Uint8Array | { failure: string }) => {
    if (stopped) return;
    if (message instanceof Uint8Array) callbacks.onEvent(message);
    else callbacks.onFailure(message.failure);
  });
  worker.on('error', (error) => {
    if (!stopped) callbacks.onFailure(`reader thread: ${String(error)}`);
  });

  return {
    async stop() {
      stopped = true;
      Atomics.store(stopFlag, 0, 1);
      Atomics.notify(stopFlag, 0);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(resolve, STOP_TIMEOUT_MS, 'late');
      });
      if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
      clearTimeout(timer);
    },
  };
}

/** The file operation readOnTimer needs. */
export interface ReadSync {
  readSync(fd: number, buffer: Uint8Array): number;
}

/**
 * Polls `fd` on a main-thread timer (1 ms while events flow, backing off to 8 ms). The timer
 * is ref'd; the first poll waits a turn so callers can attach to events first.
 */
export function readOnTimer(
  file: ReadSync,
  fd: number,
  eventSize: number,
  callbacks: ReaderCallbacks,
): UhidReader {
  const buffer = new Uint8Array(eventSize);
  let timer: NodeJS.Timeout | undefined;
  let interval = 1;
  let stopped = false;

  const poll = (): void => {
    timer = undefined;
    let events = 0;
    while (!stopped) {
      let length: number;
      try {
        length = file.readSync(fd, buffer);
      } catch (error) {
        if (isEagain((error as { code?: unknown } | null)?.code)) break;
        stopped = true;
        callbacks.onFailure(String(error));
        return;
      }
      events += 1;
      callbacks.onEvent(buffer.slice(0, length));
    }
    if (stopped) return;
    interval = events > 0 ? 1 : Math.min(interval * 2, 8);
    timer = setTimeout(poll, interval);
  };
  timer = setTimeout(poll, 0);

  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
