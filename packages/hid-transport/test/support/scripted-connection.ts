import {
  BROADCAST_CID,
  CTAPHID,
  type HidConnection,
  MessageAssembler,
  TransportError,
  decodeFrame,
  encodeMessage,
  fromHex,
  toHex,
} from '../../src/index.js';

/** A 64-byte report from hex, zero-padded (whitespace ignored). */
export function report(hex: string): Uint8Array {
  const bytes = fromHex(hex);
  if (bytes.length > 64) throw new RangeError(`test report of ${bytes.length} bytes`);
  const out = new Uint8Array(64);
  out.set(bytes);
  return out;
}

/** The reports of one message. */
export const message = (cid: number, cmd: number, payload: Uint8Array | number[]) =>
  encodeMessage(cid, cmd, Uint8Array.from(payload));

/**
 * A HidConnection driven by the test: reports pushed with `push` are read in order (any
 * length, to script short reads); every write is recorded and handed to `onWrite`.
 */
export class ScriptedConnection implements HidConnection {
  readonly description = 'scripted';
  readonly written: Uint8Array[] = [];
  onWrite: ((report: Uint8Array, connection: ScriptedConnection) => void) | undefined;
  closed = false;
  reads = 0;
  private readonly inbox: Uint8Array[] = [];
  private wake: (() => void) | undefined;

  constructor(onWrite?: (report: Uint8Array, connection: ScriptedConnection) => void) {
    this.onWrite = onWrite;
  }

  /** Queues reports for the host to read. */
  push(...reports: Uint8Array[]): void {
    this.inbox.push(...reports);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Reports still unread. */
  get pending(): number {
    return this.inbox.length;
  }

  /** Written reports as hex, for exact assertions. */
  get writtenHex(): string[] {
    return this.written.map(toHex);
  }

  async write(report: Uint8Array): Promise<void> {
    if (this.closed) throw new TransportError('closed', 'scripted: closed');
    const copy = Uint8Array.from(report);
    this.written.push(copy);
    this.onWrite?.(copy, this);
  }

  async read(timeoutMs: number): Promise<Uint8Array | null> {
    this.reads++;
    if (this.closed) throw new TransportError('closed', 'scripted: closed');
    const next = this.inbox.shift();
    if (next) return next;
    if (timeoutMs <= 0) return null;

    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    return this.inbox.shift() ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
  }
}

export interface FakeKeyOptions {
  /** Channel ids handed out by successive INITs. Default 0x01020304, 0x01020305, ... */
  cids?: number[];
  /** Version/caps bytes after the cid: proto major minor build caps. */
  initTail?: number[];
  /** Extra bytes appended to the INIT reply (a longer-than-17 reply). */
  initExtra?: number[];
  /** Answers a complete request; returns the reports to send back (or pushes them itself). */
  onRequest?: (
    request: { cid: number; cmd: number; payload: Uint8Array },
    connection: ScriptedConnection,
  ) => Uint8Array[] | void;
}

/**
 * A scripted key on a ScriptedConnection: answers INIT on broadcast with the next cid and
 * reassembles other requests for `onRequest`. Returns the connection and the requests seen.
 */
export function fakeKey(options: FakeKeyOptions = {}) {
  const cids = options.cids ?? [0x01020304, 0x01020305, 0x01020306, 0x01020307];
  const requests: { cid: number; cmd: number; payload: Uint8Array }[] = [];
  let inits = 0;
  let assembler: MessageAssembler | undefined;

  const connection = new ScriptedConnection((written, conn) => {
    const frame = decodeFrame(written);
    if (frame.type === 'init' && frame.cid === BROADCAST_CID && frame.cmd === CTAPHID.INIT) {
      const cid = cids[Math.min(inits, cids.length - 1)]!;
      inits++;
      const payload = [
        ...frame.data,
        cid >>> 24,
        (cid >>> 16) & 0xff,
        (cid >>> 8) & 0xff,
        cid & 0xff,
        ...(options.initTail ?? [0x02, 0x05, 0x02, 0x01, 0x05]),
        ...(options.initExtra ?? []),
      ];
      conn.push(...message(BROADCAST_CID, CTAPHID.INIT, payload));
      return;
    }
    if (frame.type === 'init') {
      assembler = new MessageAssembler(frame);
    } else {
      assembler?.push(frame);
    }
    if (assembler?.complete) {
      const request = { cid: assembler.cid, cmd: assembler.cmd, payload: assembler.message() };
      assembler = undefined;
      requests.push(request);
      const replies = options.onRequest?.(request, conn);
      if (replies) conn.push(...replies);
    }
  });
  return { connection, requests, initCount: () => inits };
}

/** Echoes PING requests (the simplest well-behaved key). */
export const echo: FakeKeyOptions['onRequest'] = ({ cid, cmd, payload }) =>
  message(cid, cmd, payload);
