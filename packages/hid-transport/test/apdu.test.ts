import { describe, expect, it } from 'vitest';

import { CtapHidError, encodeApdu, parseApduResponse, toHex } from '../src/index.js';

const fill = (length: number, value: number) => new Uint8Array(length).fill(value);

describe('APDU encoding', () => {
  it('encodes VERSION without data as the ISO extended case 2: 00 03 00 00 00 00 00', () => {
    expect(toHex(encodeApdu({ ins: 0x03 }))).toBe('00030000000000');
  });

  it('encodes REGISTER as 00 01 03 00 | 00 00 40 | challenge app | 00 00', () => {
    const data = new Uint8Array([...fill(32, 0xcc), ...fill(32, 0xaa)]);
    expect(toHex(encodeApdu({ ins: 0x01, p1: 0x03, data }))).toBe(
      '00010300' + '000040' + 'cc'.repeat(32) + 'aa'.repeat(32) + '0000',
    );
  });

  it('encodes AUTHENTICATE with a 64-byte key handle: Lc 00 00 81', () => {
    const data = new Uint8Array([...fill(32, 1), ...fill(32, 2), 64, ...fill(64, 3)]);
    expect(toHex(encodeApdu({ ins: 0x02, p1: 0x07, data }))).toBe(
      '00020700' + '000081' + '01'.repeat(32) + '02'.repeat(32) + '40' + '03'.repeat(64) + '0000',
    );
  });

  it('encodes Lc in two bytes for long data', () => {
    const bytes = encodeApdu({ ins: 0x10, data: new Uint8Array(0x1234) });
    expect(toHex(bytes.subarray(0, 7))).toBe('00100000001234');
    expect(bytes.length).toBe(7 + 0x1234 + 2);
  });

  it('encodes the short form: CLA INS P1 P2 Lc data 00, and 00 03 00 00 00 without data', () => {
    expect(toHex(encodeApdu({ ins: 0x03 }, 'short'))).toBe('0003000000');
    expect(toHex(encodeApdu({ ins: 0x01, p1: 3, data: fill(64, 0x11) }, 'short'))).toBe(
      '0001030040' + '11'.repeat(64) + '00',
    );
    expect(() => encodeApdu({ ins: 1, data: new Uint8Array(256) }, 'short')).toThrow(RangeError);
  });

  it('keeps CLA and P2 when given', () => {
    expect(toHex(encodeApdu({ cla: 0x80, ins: 0x03, p1: 1, p2: 2 }))).toBe('80030102000000');
  });

  it('rejects header values that are not bytes', () => {
    expect(() => encodeApdu({ ins: 0x100 })).toThrow(/INS must be a byte/);
    expect(() => encodeApdu({ ins: 1, p1: -1 })).toThrow(RangeError);
    expect(() => encodeApdu({ ins: 1, data: new Uint8Array(0x10000) })).toThrow(RangeError);
  });
});

describe('APDU responses', () => {
  it('splits data and status word', () => {
    const { data, sw } = parseApduResponse(Uint8Array.of(0x55, 0x32, 0x46, 0x90, 0x00));
    expect(toHex(data)).toBe('553246');
    expect(sw).toBe(0x9000);
    expect(parseApduResponse(Uint8Array.of(0x69, 0x85))).toEqual({
      data: new Uint8Array(0),
      sw: 0x6985,
    });
  });

  it('throws CtapHidError for a response without a status word', () => {
    expect(() => parseApduResponse(Uint8Array.of(0x90))).toThrow(CtapHidError);
    expect(() => parseApduResponse(new Uint8Array(0))).toThrow(/expected at least 2/);
  });
});
