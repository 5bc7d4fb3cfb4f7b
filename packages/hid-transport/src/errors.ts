import { ctapHidErrorName, statusWordName } from './constants.js';

/** A device said CTAPHID_ERROR, or broke the framing rules. */
export class CtapHidError extends Error {
  override readonly name = 'CtapHidError';
  /** CTAPHID error code when the device sent an ERROR frame; undefined for framing faults. */
  readonly code: number | undefined;
  constructor(message: string, code?: number) {
    super(message);
    this.code = code;
  }
  /** Symbolic name of `code` (e.g. CHANNEL_BUSY). */
  get codeName(): string | undefined {
    return this.code === undefined ? undefined : ctapHidErrorName(this.code);
  }
}

/** An APDU answered with a status word other than the one expected. */
export class ApduError extends Error {
  override readonly name = 'ApduError';
  readonly sw: number;
  constructor(sw: number, expected = 0x9000) {
    const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
    super(`apdu: status ${hex(sw)} (${statusWordName(sw)}), expected ${hex(expected)}`);
    this.sw = sw;
  }
  get swName(): string {
    return statusWordName(this.sw);
  }
}

/** Kinds of transport failure, for messages a person can act on. */
export type TransportErrorKind =
  | 'timeout'
  | 'closed'
  | 'permission'
  | 'access-denied'
  | 'gone'
  | 'busy'
  | 'io'
  | 'aborted'
  | 'not-found';

/** The connection to a device failed (open, read, write), timed out, or was aborted. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly kind: TransportErrorKind;
  constructor(kind: TransportErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}
