import { describe, expect, it } from 'vitest';

import {
  decodeUhidEvent,
  encodeCreate2,
  encodeDestroy,
  encodeInput2,
  encodeReportReply,
  FIDO_REPORT_DESCRIPTOR,
  UHID,
  UHID_EVENT_SIZE,
  UhidEventError,
} from '../src/uhid-event.js';

// The descriptor as a 6.1 kernel read it back from sysfs (report_descriptor) for a uhid device
// node-hid listed with usage page 0xF1D0 (KeyBench's uhid proof of concept, 2026-12).
const DESCRIPTOR_FROM_SYSFS =
  '06d0f10901a1010920150026ff007508954081020921150026ff00750895409102c0';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.length);

/** A kernel event built by hand at the linux/uhid.h offsets, independent of the encoder. */
function kernelEvent(type: number, fill: (v: DataView, bytes: Uint8Array) => void = () => {}) {
  const bytes = new Uint8Array(UHID_EVENT_SIZE);
  view(bytes).setUint32(0, type, true);
  fill(view(bytes), bytes);
  return bytes;
}

describe('UHID_CREATE2', () => {
  const event = encodeCreate2({
    name: 'KeyBench',
    phys: 'p',
    uniq: 'SN1',
    bus: 0x03,
    vendor: 0x1209,
    product: 0x0001,
    version: 0x0102,
    country: 0,
    descriptor: FIDO_REPORT_DESCRIPTOR,
  });

  it('is one whole 4380-byte event of type 11', () => {
    expect(event.length).toBe(4380);
    expect(hex(event.subarray(0, 4))).toBe('0b000000');
  });

  it('puts name, phys and uniq as NUL-padded strings at 4, 132 and 196', () => {
    expect(hex(event.subarray(4, 13))).toBe(hex(Buffer.from('KeyBench\0')));
    expect(event.subarray(13, 132).every((b) => b === 0)).toBe(true);
    expect(hex(event.subarray(132, 134))).toBe('7000');
    expect(hex(event.subarray(196, 200))).toBe('534e3100');
  });

  it('puts rd_size, bus, vendor, product, version, country little-endian at 260..279', () => {
    expect(hex(event.subarray(260, 280))).toBe(
      '2200' + '0300' + '09120000' + '01000000' + '02010000' + '00000000',
    );
  });

  it('carries the FIDO report descriptor (usage page 0xF1D0) at 280, zero after it', () => {
    expect(hex(event.subarray(280, 280 + 34))).toBe(DESCRIPTOR_FROM_SYSFS);
    expect(event.subarray(280 + 34).every((b) => b === 0)).toBe(true);
  });

  it('rejects a name that leaves no room for the terminating NUL', () => {
    const create = { bus: 3, vendor: 1, product: 1, descriptor: FIDO_REPORT_DESCRIPTOR };
    expect(() => encodeCreate2({ ...create, name: 'x'.repeat(127) })).not.toThrow();
    expect(() => encodeCreate2({ ...create, name: 'x'.repeat(128) })).toThrow(
      /name is 128 bytes, at most 127 fit/,
    );
    expect(() => encodeCreate2({ ...create, name: 'k', uniq: 'é'.repeat(32) })).toThrow(
      /uniq is 64 bytes, at most 63/,
    );
  });

  it('rejects an empty or oversized descriptor and out-of-range ids', () => {
    const create = { name: 'k', bus: 3, vendor: 1, product: 1 };
    expect(() => encodeCreate2({ ...create, descriptor: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => encodeCreate2({ ...create, descriptor: new Uint8Array(4097) })).toThrow(
      /1\.\.4096 bytes, got 4097/,
    );
    expect(() =>
      encodeCreate2({ ...create, vendor: -1, descriptor: FIDO_REPORT_DESCRIPTOR }),
    ).toThrow(/vendor/);
    expect(() =>
      encodeCreate2({ ...create, bus: 0x10000, descriptor: FIDO_REPORT_DESCRIPTOR }),
    ).toThrow(/bus/);
  });
});

describe('UHID_INPUT2', () => {
  it('is type 12 with size at 4 and the report at 6', () => {
    const report = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
    const event = encodeInput2(report);
    expect(event.length).toBe(4380);
    expect(hex(event.subarray(0, 6))).toBe('0c000000' + '4000');
    expect(hex(event.subarray(6, 70))).toBe(hex(report));
    expect(event.subarray(70).every((b) => b === 0)).toBe(true);
  });

  it('rejects a report longer than UHID_DATA_MAX', () => {
    expect(() => encodeInput2(new Uint8Array(4097))).toThrow(/4097 bytes, at most 4096/);
  });
});

describe('UHID_DESTROY and report replies', () => {
  it('DESTROY is type 1 and nothing else', () => {
    const event = encodeDestroy();
    expect(event.length).toBe(4380);
    expect(hex(event.subarray(0, 4))).toBe('01000000');
    expect(event.subarray(4).every((b) => b === 0)).toBe(true);
  });

  it('GET_REPORT_REPLY carries id at 4 and err at 8', () => {
    const event = encodeReportReply(UHID.GET_REPORT_REPLY, 0x01020304, 5);
    expect(hex(event.subarray(0, 12))).toBe('0a000000' + '04030201' + '0500' + '0000');
  });
});

describe('decoding kernel events', () => {
  it('START carries dev_flags (u64 at 4)', () => {
    const event = kernelEvent(UHID.START, (v) => v.setBigUint64(4, 0x5n, true));
    expect(decodeUhidEvent(event)).toEqual({ type: 'start', devFlags: 5n });
  });

  it('OPEN, CLOSE and STOP have no payload', () => {
    expect(decodeUhidEvent(kernelEvent(UHID.OPEN))).toEqual({ type: 'open' });
    expect(decodeUhidEvent(kernelEvent(UHID.CLOSE))).toEqual({ type: 'close' });
    expect(decodeUhidEvent(kernelEvent(UHID.STOP))).toEqual({ type: 'stop' });
  });

  it('OUTPUT takes data[size] from 4, size (u16) from 4100 and rtype from 4102', () => {
    // What hidraw delivers for node-hid's write of 00 ‖ 64 bytes: 65 bytes, report id kept.
    const event = kernelEvent(UHID.OUTPUT, (v, bytes) => {
      bytes.set([0x00, 0xff, 0xff, 0xff, 0xff, 0x86], 4);
      v.setUint16(4100, 65, true);
      v.setUint8(4102, 1);
    });
    const decoded = decodeUhidEvent(event);
    expect(decoded.type).toBe('output');
    if (decoded.type !== 'output') return;
    expect(decoded.rtype).toBe(1);
    expect(decoded.data.length).toBe(65);
    expect(hex(decoded.data.subarray(0, 6))).toBe('00ffffffff86');
  });

  it('GET_REPORT and SET_REPORT carry id, rnum, rtype (and size, data)', () => {
    const get = kernelEvent(UHID.GET_REPORT, (v) => {
      v.setUint32(4, 7, true);
      v.setUint8(8, 2);
      v.setUint8(9, 0);
    });
    expect(decodeUhidEvent(get)).toEqual({ type: 'get-report', id: 7, rnum: 2, rtype: 0 });
    const set = kernelEvent(UHID.SET_REPORT, (v, bytes) => {
      v.setUint32(4, 9, true);
      v.setUint16(10, 2, true);
      bytes.set([0xaa, 0xbb], 12);
    });
    expect(decodeUhidEvent(set)).toEqual({
      type: 'set-report', id: 9, rnum: 0, rtype: 0, data: Uint8Array.of(0xaa, 0xbb),
    });
  });

  it('keeps an unknown type with its number', () => {
    expect(decodeUhidEvent(kernelEvent(99))).toEqual({ type: 'unknown', code: 99 });
  });

  it('names the field when an event is cut short', () => {
    expect(() => decodeUhidEvent(kernelEvent(UHID.OUTPUT).subarray(0, 4101))).toThrow(
      UhidEventError,
    );
    expect(() => decodeUhidEvent(kernelEvent(UHID.OUTPUT).subarray(0, 4101))).toThrow(
      /4101 bytes is too short: output.size: expected 2 bytes, only 1 left/,
    );
    expect(() => decodeUhidEvent(new Uint8Array(2))).toThrow(/type: expected 4 bytes/);
  });

  it('rejects an OUTPUT whose size exceeds UHID_DATA_MAX', () => {
    const event = kernelEvent(UHID.OUTPUT, (v) => v.setUint16(4100, 4097, true));
    expect(() => decodeUhidEvent(event)).toThrow(/output.size 4097 exceeds 4096/);
  });
});
