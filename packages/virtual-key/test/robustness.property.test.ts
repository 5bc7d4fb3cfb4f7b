import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';

import { Bench, report } from './host.js';

/**
 * Whatever bytes reach the key, it never throws and answers only with 64-byte reports
 * (issue 5: a key must survive every frame shape and every APDU, and answer each clearly).
 */
describe('the key survives any input', () => {
  let bench: Bench;
  let cid: number;

  // A fresh key per test: random reports leave half-received messages (and BUSY) behind.
  beforeEach(async () => {
    bench = await Bench.create({ keyHandleLength: 16 });
    cid = bench.allocate();
  });
  afterEach(() => bench.close());

  test('any sequence of 64-byte reports: no throw, only 64-byte replies', () => {
    const anyReport = fc.uint8Array({ minLength: 64, maxLength: 64 });
    // Reports on our channel or broadcast make the interesting paths more likely.
    const onChannel = fc
      .tuple(fc.constantFrom(cid, 0xffffffff, 0), fc.uint8Array({ minLength: 60, maxLength: 60 }))
      .map(([target, rest]) => report(target, [...rest]));
    fc.assert(
      fc.property(fc.array(fc.oneof(anyReport, onChannel), { maxLength: 20 }), (reports) => {
        const replies = bench.raw(...reports);
        for (const reply of replies) expect(reply.length).toBe(64);
      }),
      { numRuns: 300 },
    );
  });

  test('reports of every other length are ignored without a reply', () => {
    for (let length = 0; length <= 130; length++) {
      if (length === 64) continue;
      expect(bench.raw(new Uint8Array(length).fill(0xff))).toEqual([]);
    }
  });

  test('APDUs of every length 0..300 with random bytes: a status word, never a throw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.infiniteStream(fc.nat(255)),
        fc.constantFrom(0x00, 0x01, 0x02, 0x03, 0x40),
        (length, bytes, ins) => {
          const apdu = Uint8Array.from(bytes.take(length));
          if (length >= 1) apdu[0] = 0x00;
          if (length >= 2) apdu[1] = ins;
          const reply = bench.call(cid, 0x83, apdu);
          if (length === 0) {
            // An empty MSG is refused at the CTAPHID layer: ERROR INVALID_LEN.
            expect([reply.cmd, ...reply.payload]).toEqual([0xbf, 0x03]);
            return;
          }
          expect(reply.cmd).toBe(0x83);
          expect(reply.payload.length).toBeGreaterThanOrEqual(2);
        }),
      { numRuns: 400 },
    );
  });

  test('extended and short lengths that lie are 0x6700 with no data', () => {
    for (let body = 0; body <= 140; body++) {
      for (const lc of [0, 1, 64, 65, 129, 255, 256, 0xffff]) {
        const extended = [0x00, 0x02, 0x03, 0x00, 0x00, lc >> 8, lc & 0xff];
        const short = [0x00, 0x02, 0x03, 0x00, lc & 0xff];
        for (const head of [extended, short]) {
          const apdu = [...head, ...new Array<number>(body).fill(0x11)];
          const response = bench.apdu(cid, apdu);
          const sw = (response.at(-2)! << 8) | response.at(-1)!;
          expect([0x6700, 0x6a80, 0x6985]).toContain(sw);
          expect(response.length).toBe(2);
        }
      }
    }
  });
});
