import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  ApduError,
  BROADCAST_CID,
  CTAPHID,
  CtapHidChannel,
  CtapHidError,
  TransportError,
  U2fDevice,
} from '../src/index.js';
import { ScriptedConnection, fakeKey, message } from './support/scripted-connection.js';

const CID = 0x01020304;
const fast = {
  frameTimeoutMs: 15,
  initTimeoutMs: 30,
  transactionTimeoutMs: 40,
  readSliceMs: 5,
  busyBackoffMs: 1,
  busyRetries: 2,
  drainQuietMs: 1,
};

/** A device report: random bytes of any length, or a header aimed at our channel. */
const deviceReport = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 80 }),
  fc.uint8Array({ minLength: 64, maxLength: 64 }),
  fc
    .tuple(
      fc.constantFrom(CID, BROADCAST_CID, 0),
      fc.oneof(fc.constantFrom(0x83, 0xbf, 0xbb, 0x86, 0x81, 0x00, 0x01, 0x7f), fc.nat(255)),
      fc.oneof(fc.constantFrom(0, 1, 2, 57, 58, 7609, 7610, 0xffff), fc.nat(0xffff)),
      fc.uint8Array({ minLength: 57, maxLength: 57 }),
    )
    .map(([cid, cmd, bcnt, data]) => {
      const out = new Uint8Array(64);
      new DataView(out.buffer).setUint32(0, cid);
      out.set([cmd, bcnt >> 8, bcnt & 0xff], 4);
      out.set(data, 7);
      return out;
    }),
);

const coded = (error: unknown) =>
  error instanceof CtapHidError || error instanceof ApduError || error instanceof TransportError;

/**
 * Whatever a device sends, the host answers with a result or a coded error (CtapHidError,
 * ApduError, TransportError), never a TypeError or RangeError from its own code.
 */
describe('the host survives any device', () => {
  it('any reply to a U2F request: a result or a coded error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(deviceReport, { maxLength: 12 }), async (replies) => {
        const { connection } = fakeKey({ onRequest: () => replies });
        const channel = await CtapHidChannel.open(connection, fast);
        const device = new U2fDevice(channel);
        try {
          await device.authenticate(new Uint8Array(32), new Uint8Array(32), Uint8Array.of(1), {
            p1: 0x07,
            timeoutMs: 40,
          });
        } catch (error) {
          if (!coded(error)) throw error;
        } finally {
          await channel.close();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('any answer to INIT: a channel or a coded error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(deviceReport, { maxLength: 6 }),
        fc.uint8Array({ minLength: 0, maxLength: 80 }),
        async (noise, initTail) => {
          const connection = new ScriptedConnection((written, conn) => {
            // Our nonce, then anything: a lying BCNT, a reserved cid, a truncated reply.
            const nonce = written.subarray(7, 15);
            conn.push(...noise, ...message(BROADCAST_CID, CTAPHID.INIT, [...nonce, ...initTail]));
          });
          try {
            const channel = await CtapHidChannel.open(connection, fast);
            expect(channel.cid).not.toBe(0);
            expect(channel.cid).not.toBe(BROADCAST_CID);
          } catch (error) {
            if (!coded(error)) throw error;
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
