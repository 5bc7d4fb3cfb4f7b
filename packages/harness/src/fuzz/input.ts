import {
  BROADCAST_CID,
  CTAPHID,
  INIT_HEADER_SIZE,
  MAX_MESSAGE_SIZE,
  REPORT_SIZE,
  TYPE_INIT,
  ctapHidCommandName,
  encodeMessage,
  toHex,
} from '@keybench/hid-transport';

/** What a fuzz input is made of: raw reports, or one APDU sent in a MSG on our channel. */
export const INPUT_KINDS = ['frames', 'apdu'] as const;
export type InputKind = (typeof INPUT_KINDS)[number];

/**
 * One 64-byte report of a fuzz input. When `ownCid` is set, bytes 0..3 stand for the channel
 * the harness holds and are overwritten with its cid when the report is sent: the cid
 * changes with every re-INIT and every fresh device, the input must not.
 */
export interface FuzzFrame {
  readonly bytes: Uint8Array;
  readonly ownCid: boolean;
}

/** A sequence of reports written back to back. */
export interface FramesInput {
  readonly kind: 'frames';
  /** How it was made (`truncated`, `bad-bcnt`, …), for the summary. */
  readonly label: string;
  readonly frames: readonly FuzzFrame[];
}

/** An APDU, possibly malformed, sent as one CTAPHID MSG on our channel. */
export interface ApduInput {
  readonly kind: 'apdu';
  readonly label: string;
  readonly apdu: Uint8Array;
}

export type FuzzInput = FramesInput | ApduInput;

/** The most an APDU input may hold: what one CTAPHID message carries. */
export const MAX_APDU_INPUT = MAX_MESSAGE_SIZE;

const CID_BYTES = 4;

/** The reports of `input` with our channel's `cid` written where the input says so. */
export function framesOf(input: FuzzInput, cid: number): Uint8Array[] {
  if (input.kind === 'apdu') {
    return encodeMessage(cid, CTAPHID.MSG, input.apdu).map((frame) => Uint8Array.from(frame));
  }
  return input.frames.map((frame) => {
    const report = Uint8Array.from(frame.bytes);
    if (frame.ownCid) new DataView(report.buffer).setUint32(0, cid >>> 0);
    return report;
  });
}

/** Nonzero bytes of a frame that the input chose (the own-cid placeholder does not count). */
export function chosenBytes(frame: FuzzFrame): Uint8Array {
  return frame.ownCid ? frame.bytes.subarray(CID_BYTES) : frame.bytes;
}

/**
 * How big an input is, compared in order: reports sent, bytes chosen (APDU length, or
 * nonzero bytes of the frames), then the sum of byte values. The shrinker only accepts a
 * candidate that is smaller by this measure, so shrinking always ends.
 */
export function inputSize(input: FuzzInput): [number, number, number] {
  if (input.kind === 'apdu') {
    const frames = framesOf(input, 0).length;
    return [frames, input.apdu.length, sum(input.apdu)];
  }
  let nonzero = 0;
  let total = 0;
  for (const frame of input.frames) {
    const bytes = chosenBytes(frame);
    for (const byte of bytes) if (byte !== 0) nonzero++;
    total += sum(bytes);
  }
  return [input.frames.length, nonzero, total];
}

/** Whether `a` is smaller than `b` by inputSize. */
export function smaller(a: FuzzInput, b: FuzzInput): boolean {
  const [x, y] = [inputSize(a), inputSize(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]!;
  return false;
}

function sum(bytes: Uint8Array): number {
  let total = 0;
  for (const byte of bytes) total += byte;
  return total;
}

/** A report as hex with its fields apart and zero padding cut: `ffffffff 86 0008 0102… (+49 zero bytes)`. */
export function describeReport(report: Uint8Array, ownCid = false): string {
  const cid = ownCid ? 'CID=own' : toHex(report.subarray(0, CID_BYTES));
  const type = report[4] ?? 0;
  const isInit = (type & TYPE_INIT) !== 0;
  const headerEnd = isInit ? INIT_HEADER_SIZE : CID_BYTES + 1;
  const header = isInit
    ? `${toHex(report.subarray(4, 5))} ${toHex(report.subarray(5, 7))}`
    : toHex(report.subarray(4, 5));
  let end = REPORT_SIZE;
  while (end > headerEnd && report[end - 1] === 0) end--;
  const data = toHex(report.subarray(headerEnd, end));
  const zeros = REPORT_SIZE - end;
  const name = isInit
    ? ` [${ctapHidCommandName(type)}${readCid(report) === BROADCAST_CID ? ' on broadcast' : ''}]`
    : ' [CONT]';
  return `${cid} ${header} ${data}${zeros > 0 ? ` (+${zeros} zero bytes)` : ''}${name}`.replace(
    / +/g,
    ' ',
  );
}

/** Every report of `input` as one hex line each (own-cid frames marked `CID=own`). */
export function describeInput(input: FuzzInput): string[] {
  if (input.kind === 'apdu') {
    return [
      `APDU ${toHex(input.apdu)} (${input.apdu.length} bytes) in a MSG on our channel:`,
      ...framesOf(input, 0).map((report) => describeReport(report, true)),
    ];
  }
  return input.frames.map((frame) => describeReport(frame.bytes, frame.ownCid));
}

/** The input as plain data for JSON reports: full 64-byte reports in hex. */
export function inputJson(input: FuzzInput): object {
  const frames =
    input.kind === 'apdu'
      ? framesOf(input, 0).map((report) => ({ hex: toHex(report), ownCid: true }))
      : input.frames.map((frame) => ({ hex: toHex(frame.bytes), ownCid: frame.ownCid }));
  return {
    kind: input.kind,
    label: input.label,
    ...(input.kind === 'apdu' ? { apdu: toHex(input.apdu) } : {}),
    size: inputSize(input),
    frames,
  };
}

export function readCid(report: Uint8Array): number {
  return new DataView(report.buffer, report.byteOffset, report.byteLength).getUint32(0);
}
