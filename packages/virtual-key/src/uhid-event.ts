/**
 * `struct uhid_event` from linux/uhid.h: the fixed-size, packed, little-endian messages read
 * from and written to /dev/uhid. The offsets below were checked with offsetof() against
 * linux-libc-dev 6.1's linux/uhid.h, and every read from a 6.1 kernel returned 4380 bytes.
 */
import { ByteReader, ShortReadError } from './byte-reader.js';

/** sizeof(struct uhid_event): a u32 type followed by the largest union member (4376). */
export const UHID_EVENT_SIZE = 4380;

/** UHID_DATA_MAX: the largest report or descriptor one event can carry. */
export const UHID_DATA_MAX = 4096;

/** enum uhid_event_type (the legacy CREATE/INPUT/FEATURE numbers 0, 7, 8 are not used). */
export const UHID = Object.freeze({
  DESTROY: 1,
  START: 2,
  STOP: 3,
  OPEN: 4,
  CLOSE: 5,
  OUTPUT: 6,
  GET_REPORT: 9,
  GET_REPORT_REPLY: 10,
  CREATE2: 11,
  INPUT2: 12,
  SET_REPORT: 13,
  SET_REPORT_REPLY: 14,
} as const);

/** enum uhid_report_type. */
export const UHID_REPORT_TYPE = Object.freeze({
  FEATURE_REPORT: 0,
  OUTPUT_REPORT: 1,
  INPUT_REPORT: 2,
} as const);

/**
 * Bus types from linux/input.h. hidapi's hidraw backend lists only USB, Bluetooth, I2C and
 * SPI devices, so a key meant for node-hid must say BUS_USB; BUS_VIRTUAL gets a hidraw node
 * that no hidapi program ever sees.
 */
export const BUS = Object.freeze({
  USB: 0x03,
  VIRTUAL: 0x06,
} as const);

/** Field offsets inside the event (the union starts at 4, after the u32 type). */
const CREATE2 = Object.freeze({
  NAME: 4,
  NAME_SIZE: 128,
  PHYS: 132,
  PHYS_SIZE: 64,
  UNIQ: 196,
  UNIQ_SIZE: 64,
  RD_SIZE: 260,
  BUS: 262,
  VENDOR: 264,
  PRODUCT: 268,
  VERSION: 272,
  COUNTRY: 276,
  RD_DATA: 280,
} as const);

const INPUT2 = Object.freeze({ SIZE: 4, DATA: 6 } as const);

const REPLY = Object.freeze({ ID: 4, ERR: 8, SIZE: 10, DATA: 12 } as const);

/**
 * The FIDO HID report descriptor (FIDO U2F HID protocol §2.1 / CTAP HID, usage page 0xF1D0,
 * usage 0x01): one application collection with 64-byte input and output reports and no
 * report ids. A Uint8Array cannot be frozen: encodeCreate2 copies it, callers must not edit it.
 */
export const FIDO_REPORT_DESCRIPTOR: Uint8Array = Uint8Array.of(
  0x06, 0xd0, 0xf1, // Usage Page (FIDO Alliance, 0xF1D0)
  0x09, 0x01, //       Usage (U2F Authenticator Device)
  0xa1, 0x01, //       Collection (Application)
  0x09, 0x20, //         Usage (Input Report Data)
  0x15, 0x00, //         Logical Minimum (0)
  0x26, 0xff, 0x00, //   Logical Maximum (255)
  0x75, 0x08, //         Report Size (8)
  0x95, 0x40, //         Report Count (64)
  0x81, 0x02, //         Input (Data, Var, Abs)
  0x09, 0x21, //         Usage (Output Report Data)
  0x15, 0x00, //         Logical Minimum (0)
  0x26, 0xff, 0x00, //   Logical Maximum (255)
  0x75, 0x08, //         Report Size (8)
  0x95, 0x40, //         Report Count (64)
  0x91, 0x02, //         Output (Data, Var, Abs)
  0xc0, //             End Collection
);

/** What UHID_CREATE2 tells the kernel about the device. */
export interface Create2 {
  /** Shown as the product string (node-hid `product`); at most 127 UTF-8 bytes. */
  name: string;
  /** Physical location, free text; at most 63 UTF-8 bytes. */
  phys?: string;
  /** Unique id, shown as the serial number (node-hid `serialNumber`); at most 63 bytes. */
  uniq?: string;
  bus: number;
  vendor: number;
  product: number;
  version?: number;
  country?: number;
  descriptor: Uint8Array;
}

/** An event the kernel sent, decoded. Unknown types are kept with their number. */
export type UhidEvent =
  | { type: 'start'; devFlags: bigint }
  | { type: 'stop' }
  | { type: 'open' }
  | { type: 'close' }
  | { type: 'output'; rtype: number; data: Uint8Array }
  | { type: 'get-report'; id: number; rnum: number; rtype: number }
  | { type: 'set-report'; id: number; rnum: number; rtype: number; data: Uint8Array }
  | { type: 'unknown'; code: number };

/** The kernel sent an event this code cannot decode (too short, or a size past its data). */
export class UhidEventError extends Error {
  override readonly name = 'UhidEventError';
}

function newEvent(type: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(UHID_EVENT_SIZE);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, type, true);
  return { bytes, view };
}

function putString(bytes: Uint8Array, offset: number, size: number, field: string, text: string) {
  const encoded = new TextEncoder().encode(text);
  // The kernel copies the field as a C string: one byte must stay for the terminating NUL.
  if (encoded.length > size - 1) {
    throw new RangeError(`uhid: ${field} is ${encoded.length} bytes, at most ${size - 1} fit`);
  }
  bytes.set(encoded, offset);
}

function checkU32(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`uhid: ${field} must be an integer 0..0xffffffff, got ${value}`);
  }
}

/**
 * Encodes UHID_CREATE2. Throws RangeError when a string does not fit its field, the
 * descriptor is empty or longer than 4096 bytes, or an id is out of range.
 */
export function encodeCreate2(create: Create2): Uint8Array {
  const { bytes, view } = newEvent(UHID.CREATE2);
  putString(bytes, CREATE2.NAME, CREATE2.NAME_SIZE, 'name', create.name);
  putString(bytes, CREATE2.PHYS, CREATE2.PHYS_SIZE, 'phys', create.phys ?? '');
  putString(bytes, CREATE2.UNIQ, CREATE2.UNIQ_SIZE, 'uniq', create.uniq ?? '');

  const rd = create.descriptor;
  if (rd.length === 0 || rd.length > UHID_DATA_MAX) {
    throw new RangeError(
      `uhid: report descriptor must be 1..${UHID_DATA_MAX} bytes, got ${rd.length}`,
    );
  }
  if (!Number.isInteger(create.bus) || create.bus < 0 || create.bus > 0xffff) {
    throw new RangeError(`uhid: bus must be an integer 0..0xffff, got ${create.bus}`);
  }
  checkU32(create.vendor, 'vendor');
  checkU32(create.product, 'product');
  checkU32(create.version ?? 0, 'version');
  checkU32(create.country ?? 0, 'country');

  view.setUint16(CREATE2.RD_SIZE, rd.length, true);
  view.setUint16(CREATE2.BUS, create.bus, true);
  view.setUint32(CREATE2.VENDOR, create.vendor, true);
  view.setUint32(CREATE2.PRODUCT, create.product, true);
  view.setUint32(CREATE2.VERSION, create.version ?? 0, true);
  view.setUint32(CREATE2.COUNTRY, create.country ?? 0, true);
  bytes.set(rd, CREATE2.RD_DATA);
  return bytes;
}

/** Encodes UHID_INPUT2: one input report to the host. Throws RangeError past 4096 bytes. */
export function encodeInput2(report: Uint8Array): Uint8Array {
  if (report.length > UHID_DATA_MAX) {
    throw new RangeError(`uhid: input report is ${report.length} bytes, at most ${UHID_DATA_MAX}`);
  }
  const { bytes, view } = newEvent(UHID.INPUT2);
  view.setUint16(INPUT2.SIZE, report.length, true);
  bytes.set(report, INPUT2.DATA);
  return bytes;
}

/** Encodes UHID_DESTROY: the kernel removes the device (closing the fd does the same). */
export function encodeDestroy(): Uint8Array {
  return newEvent(UHID.DESTROY).bytes;
}

/**
 * Encodes the answer to UHID_GET_REPORT or UHID_SET_REPORT. This key has no feature reports,
 * so it answers with an errno (e.g. EIO = 5) at once rather than letting the kernel wait out
 * its 5 s timeout.
 */
export function encodeReportReply(
  type: typeof UHID.GET_REPORT_REPLY | typeof UHID.SET_REPORT_REPLY,
  id: number,
  err: number,
): Uint8Array {
  checkU32(id, 'report request id');
  const { bytes, view } = newEvent(type);
  view.setUint32(REPLY.ID, id, true);
  view.setUint16(REPLY.ERR, err, true);
  return bytes;
}

function u16le(reader: ByteReader, field: string): number {
  const b = reader.take(2, field);
  return b[0]! | (b[1]! << 8);
}

function decode(reader: ByteReader): UhidEvent {
  const code = reader.u32le('type');
  switch (code) {
    case UHID.START: {
      const flags = reader.take(8, 'start.dev_flags');
      const view = new DataView(flags.buffer, flags.byteOffset, 8);
      return { type: 'start', devFlags: view.getBigUint64(0, true) };
    }
    case UHID.STOP:
      return { type: 'stop' };
    case UHID.OPEN:
      return { type: 'open' };
    case UHID.CLOSE:
      return { type: 'close' };
    case UHID.OUTPUT: {
      const data = reader.take(UHID_DATA_MAX, 'output.data');
      const size = u16le(reader, 'output.size');
      const rtype = reader.u8('output.rtype');
      if (size > UHID_DATA_MAX) {
        throw new UhidEventError(`uhid: output.size ${size} exceeds ${UHID_DATA_MAX}`);
      }
      return { type: 'output', rtype, data: data.slice(0, size) };
    }
    case UHID.GET_REPORT: {
      const id = reader.u32le('get_report.id');
      const rnum = reader.u8('get_report.rnum');
      const rtype = reader.u8('get_report.rtype');
      return { type: 'get-report', id, rnum, rtype };
    }
    case UHID.SET_REPORT: {
      const id = reader.u32le('set_report.id');
      const rnum = reader.u8('set_report.rnum');
      const rtype = reader.u8('set_report.rtype');
      const size = u16le(reader, 'set_report.size');
      if (size > UHID_DATA_MAX) {
        throw new UhidEventError(`uhid: set_report.size ${size} exceeds ${UHID_DATA_MAX}`);
      }
      const data = reader.take(size, 'set_report.data').slice();
      return { type: 'set-report', id, rnum, rtype, data };
    }
    default:
      return { type: 'unknown', code };
  }
}

/**
 * Decodes one event read from /dev/uhid (normally exactly 4380 bytes). Throws UhidEventError
 * naming the field when the bytes end before it, or when a size field exceeds 4096.
 */
export function decodeUhidEvent(bytes: Uint8Array): UhidEvent {
  try {
    return decode(new ByteReader(bytes));
  } catch (error) {
    if (error instanceof ShortReadError) {
      throw new UhidEventError(
        `uhid: event of ${bytes.length} bytes is too short: ${error.message}`,
      );
    }
    throw error;
  }
}
