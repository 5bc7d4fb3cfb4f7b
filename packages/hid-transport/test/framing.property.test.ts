import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  CtapHidError,
  MAX_MESSAGE_SIZE,
  MessageAssembler,
  continuationCount,
  decodeFrame,
  decodeMessage,
  encodeMessage,
} from '../src/index.js';

/** Lengths where the frame count changes, plus the ends of the range. */
const BOUNDARIES = [0, 1, 56, 57, 58, 115, 116, 117, 7550, 7551, 7608, 7609];

function roundTrip(cid: number, cmd: number, payload: Uint8Array): void {
  const reports = encodeMessage(cid, cmd, payload);
  expect(reports).toHaveLength(1 + continuationCount(payload.length));
  expect(reports.every((r) => r.length === 64)).toBe(true);

  const decoded = decodeMessage(reports);
  expect(decoded.cid).toBe(cid);
  expect(decoded.cmd).toBe(cmd);
  expect(Buffer.from(decoded.payload).equals(Buffer.from(payload))).toBe(true);
}

describe('framing round trip', () => {
  it.each(BOUNDARIES)('round-trips a %i-byte message', (length) => {
    const payload = Uint8Array.from({ length }, (_, i) => (i * 13 + length) & 0xff);
    roundTrip(0x00c0ffee, 0x83, payload);
  });

  it('needs 1, 1, 2, 2, 3 and 129 frames at 0, 57, 58, 116, 117 and 7609 bytes', () => {
    expect([0, 57, 58, 116, 117, 7609].map((n) => 1 + continuationCount(n))).toEqual([
      1, 1, 2, 2, 3, 129,
    ]);
  });

  it('round-trips any length 0..7609 with any cid and command', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_MESSAGE_SIZE }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0x80, max: 0xff }),
        fc.integer({ min: 0, max: 255 }),
        (length, cid, cmd, seed) => {
          const payload = Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
          roundTrip(cid, cmd, payload);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (payload) => {
        roundTrip(0x01020304, 0x81, payload);
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips every length 0..7609 (one shared buffer, compared byte for byte)', () => {
    const source = Uint8Array.from({ length: MAX_MESSAGE_SIZE }, (_, i) => (i * 7 + 1) & 0xff);
    const failures: number[] = [];
    for (let length = 0; length <= MAX_MESSAGE_SIZE; length++) {
      const payload = source.subarray(0, length);
      const { payload: back } = decodeMessage(encodeMessage(0x01020304, 0x83, payload));
      if (back.length !== length || !Buffer.from(back).equals(Buffer.from(payload))) {
        failures.push(length);
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses 7610 bytes', () => {
    expect(() => encodeMessage(1, 0x81, new Uint8Array(MAX_MESSAGE_SIZE + 1))).toThrow(RangeError);
  });

  it('rejects any out-of-order continuation frame', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 128 }), fc.nat(127), (count, skip) => {
        const length = 57 + count * 59;
        if (length > MAX_MESSAGE_SIZE) return;
        const reports = encodeMessage(7, 0x83, new Uint8Array(length));
        const bad = reports.slice();
        const victim = 1 + Math.min(skip, count - 1);
        bad[victim] = Uint8Array.from(bad[victim]!);
        bad[victim]![4] = (bad[victim]![4]! + 1) & 0x7f;
        expect(() => decodeMessage(bad)).toThrow(CtapHidError);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a BCNT over 7609 in an init frame', () => {
    const report = new Uint8Array(64);
    report.set([0, 0, 0, 1, 0x83, 0x1d, 0xba]); // BCNT 7610
    const frame = decodeFrame(report);
    if (frame.type !== 'init') throw new Error('expected an init frame');
    expect(() => new MessageAssembler(frame)).toThrow(/BCNT 7610 exceeds/);
  });
});
