import { afterEach, describe, expect, it } from 'vitest';

import { toHex } from '@keybench/hid-transport';

import { Bench, report, until } from './host.js';

const BROADCAST = 0xffffffff;
const PING = 0x81;
const MSG = 0x83;
const INIT = 0x86;
const NONCE = [1, 2, 3, 4, 5, 6, 7, 8];
const cidHex = (cid: number) => cid.toString(16).padStart(8, '0');

/** The full 64-byte ERROR report `cid BF 0001 code`, zero-padded, as hex. */
const errorReport = (cid: number, code: number) =>
  cidHex(cid) + 'bf0001' + code.toString(16).padStart(2, '0') + '00'.repeat(56);

let bench: Bench;
afterEach(async () => {
  await bench?.close();
});

describe('INIT', () => {
  it('allocates a channel on broadcast and echoes the nonce (CH-01)', async () => {
    bench = await Bench.create();
    const [reply, extra] = bench.raw(report(BROADCAST, [INIT, 0x00, 0x08, ...NONCE]));
    expect(toHex(reply!)).toBe(
      'ffffffff860011' + '0102030405060708' + '4b420001' + '0201000003' + '00'.repeat(40),
    );
    expect(extra).toBeUndefined();
  });

  it('hands out distinct channel ids, never 0 or broadcast (CH-02)', async () => {
    bench = await Bench.create();
    const ids = new Set(Array.from({ length: 200 }, () => bench.allocate()));
    expect(ids.size).toBe(200);
    expect(ids.has(0)).toBe(false);
    expect(ids.has(BROADCAST)).toBe(false);
  });

  it('resynchronises an own channel and keeps its id (CH-03)', async () => {
    bench = await Bench.create();
    const cid = bench.allocate();
    const [reply] = bench.raw(report(cid, [INIT, 0x00, 0x08, 9, 9, 9, 9, 9, 9, 9, 9]));
    expect(toHex(reply!.subarray(0, 24))).toBe(
      cidHex(cid) + '860011' + '0909090909090909' + cidHex(cid) + '0201000003',
    );
  });

  it('answers INIT on a never-allocated channel with that id (CH-04, spec profile)', async () => {
    bench = await Bench.create();
    const [reply] = bench.raw(report(0xdeadbeef, [INIT, 0x00, 0x08, ...NONCE]));
    expect(toHex(reply!.subarray(0, 19))).toBe('deadbeef860011' + '0102030405060708' + 'deadbeef');
  });

  it('answers INVALID_CHANNEL to INIT on channel 0 (CH-05)', async () => {
    bench = await Bench.create();
    expect(bench.raw(report(0, [INIT, 0x00, 0x08, ...NONCE])).map(toHex)).toEqual([
      errorReport(0, 0x0b),
    ]);
  });

  it('answers INVALID_LEN to an INIT whose BCNT is not 8', async () => {
    bench = await Bench.create();
    expect(bench.raw(report(BROADCAST, [INIT, 0x00, 0x04, 1, 2, 3, 4])).map(toHex)).toEqual([
      errorReport(BROADCAST, 0x03),
    ]);
  });

  it('aborts a pending message on the same channel (CH-08)', async () => {
    bench = await Bench.create();
    const cid = bench.allocate();
    expect(bench.raw(report(cid, [PING, 0x00, 99]))).toEqual([]);
    const [reply] = bench.raw(report(cid, [INIT, 0x00, 0x08, ...NONCE]));
    expect(toHex(reply!.subarray(0, 15))).toBe(cidHex(cid) + '860011' + '0102030405060708');
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(bench.replies).toHaveLength(2); // the INIT reply, and no MSG_TIMEOUT
  });

  it('answers INIT on another channel while a message is pending (CH-09)', async () => {
    bench = await Bench.create();
    const a = bench.allocate();
    const b = bench.allocate();
    bench.raw(report(a, [PING, 0x00, 99]));
    const [reply] = bench.raw(report(b, [INIT, 0x00, 0x08, ...NONCE]));
    expect(toHex(reply!.subarray(0, 7))).toBe(cidHex(b) + '860011');
    expect(await until(() => bench.replies.length === 4, 1000)).toBe(true);
    expect(toHex(bench.replies[3]!)).toBe(errorReport(a, 0x05));
  });
});

describe('channels and framing', () => {
  it('answers INVALID_CHANNEL to any other command on broadcast (CH-06)', async () => {
    bench = await Bench.create();
    expect(bench.raw(report(BROADCAST, [PING, 0x00, 0x08, ...NONCE])).map(toHex)).toEqual([
      errorReport(BROADCAST, 0x0b),
    ]);
  });

  it('answers INVALID_CHANNEL to a command on channel 0', async () => {
    bench = await Bench.create();
    expect(bench.raw(report(0, [PING, 0x00, 0x01, 0xaa])).map(toHex)).toEqual([
      errorReport(0, 0x0b),
    ]);
  });

  it('serves PING on a never-allocated channel (CH-07, spec profile)', async () => {
    bench = await Bench.create();
    const { cid, payload } = bench.call(0x00000100, PING, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(cid).toBe(0x100);
    expect(toHex(payload)).toBe('0102030405060708090a');
  });

  it('answers INVALID_CHANNEL on never-allocated channels in the ctap-strict profile', async () => {
    bench = await Bench.create({ profile: 'ctap-strict' });
    expect(bench.raw(report(0xdeadbeef, [INIT, 0x00, 0x08, ...NONCE])).map(toHex)).toEqual([
      errorReport(0xdeadbeef, 0x0b),
    ]);
    expect(bench.raw(report(0x100, [PING, 0x00, 0x01, 0xaa])).map(toHex)).toEqual([
      errorReport(0x100, 0x0b),
    ]);
    const cid = bench.allocate();
    expect(toHex(bench.call(cid, PING, [0xaa]).payload)).toBe('aa');
  });

  it('answers CHANNEL_BUSY within 100 ms, then MSG_TIMEOUT on the first after ~0.5 s (CH-10)',
    async () => {
      bench = await Bench.create();
      const a = bench.allocate();
      const b = a ^ 1;
      const started = performance.now();
      expect(bench.raw(report(a, [PING, 0x00, 99]))).toEqual([]);
      const busy = bench.raw(report(b, [PING, 0x00, 99]));
      expect(performance.now() - started).toBeLessThan(100);
      expect(busy.map(toHex)).toEqual([errorReport(b, 0x06)]);

      expect(await until(() => bench.replies.length === 3, 1500)).toBe(true);
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(450);
      expect(elapsed).toBeLessThan(1000);
      expect(toHex(bench.replies[2]!)).toBe(errorReport(a, 0x05));
    });

  it('interleaves: BUSY on B, then A completes with its echo (CH-11)', async () => {
    bench = await Bench.create();
    const a = bench.allocate();
    const b = bench.allocate();
    const data = Array.from({ length: 116 }, (_, i) => i);
    const first = report(a, [PING, 0x00, 116, ...data.slice(0, 57)]);
    const second = report(a, [0x00, ...data.slice(57)]);
    const replies = bench.raw(
      first,
      report(b, [PING, 0x00, 116, ...data.slice(0, 57)]),
      report(b, [0x00, ...data.slice(57)]),
      second,
    );
    // A's echo is byte for byte its request; B's continuation is silently dropped.
    expect(replies.map(toHex)).toEqual([errorReport(b, 0x06), toHex(first), toHex(second)]);
    await new Promise((resolve) => setTimeout(resolve, 550));
    expect(bench.replies.length).toBe(5); // 2 INIT replies + 3: no timeout or stray frame
  });

  it('answers INVALID_SEQ at once to a wrong first sequence number, then stays silent (FR-04)',
    async () => {
      bench = await Bench.create();
      const cid = bench.allocate();
      bench.raw(report(cid, [PING, 0x00, 99]));
      expect(bench.raw(report(cid, [0x01])).map(toHex)).toEqual([errorReport(cid, 0x04)]);
      await new Promise((resolve) => setTimeout(resolve, 650));
      expect(bench.replies).toHaveLength(2);
    });

  it('answers INVALID_SEQ to a skipped sequence number (FR-05)', async () => {
    bench = await Bench.create();
    const cid = bench.allocate();
    bench.raw(report(cid, [PING, 0x04, 0x90]), report(cid, [0x00]), report(cid, [0x01]));
    expect(bench.raw(report(cid, [0x03])).map(toHex)).toEqual([errorReport(cid, 0x04)]);
  });

  it('answers INVALID_SEQ to a second init frame mid-message, which starts nothing (FR-07)',
    async () => {
      bench = await Bench.create();
      const cid = bench.allocate();
      bench.raw(report(cid, [PING, 0x00, 99]));
      expect(bench.raw(report(cid, [PING, 0x00, 99])).map(toHex)).toEqual([
        errorReport(cid, 0x04),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 650));
      expect(bench.replies).toHaveLength(2);
    });

  it('ignores a stray continuation (FR-02)', async () => {
    bench = await Bench.create();
    const cid = bench.allocate();
    expect(bench.raw(report(cid, [0x00, 0xee, 0xee]), report(0x12345678, [0x05]))).toEqual([]);
  });

  it('answers INVALID_LEN at once to BCNT 7610 (FR-03)', async () => {
    bench = await Bench.create();
    const cid = bench.allocate();
    expect(bench.raw(report(cid, [PING, 0x1d, 0xba])).map(toHex)).toEqual([
      errorReport(cid, 0x03),
    ]);
  });

  it('echoes PING of 0, 57, 58 and 7609 bytes byte for byte (FR-08, FR-09, FR-10)', async () => {
    bench = await Bench.create();
    const cid = bench.allocate();
    for (const length of [0, 57, 58, 7609]) {
      const data = Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff);
      const { cid: replyCid, cmd, payload, reports } = bench.call(cid, PING, data);
      expect([replyCid, cmd]).toEqual([cid, PING]);
      expect(toHex(payload)).toBe(toHex(data));
      expect(reports).toHaveLength(length <= 57 ? 1 : 1 + Math.ceil((length - 57) / 59));
    }
  });

  it('ignores padding bytes whatever their value (FR-13)', async () => {
    bench = await Bench.create();
    const cid = bench.allocate();
    const [reply] = bench.raw(report(cid, [PING, 0x00, 0x02, 0xab, 0xcd], 0xee));
    expect(toHex(reply!)).toBe(cidHex(cid) + '810002abcd' + '00'.repeat(55));
  });

  it('answers INVALID_CMD to unknown commands and SYNC (CMD-01, CMD-02, CMD-08)', async () => {
    bench = await Bench.create();
    const cid = bench.allocate();
    for (const cmd of [0xa1, 0xe6, 0xbc, 0x90]) {
      expect(bench.raw(report(cid, [cmd, 0x00, 0x00])).map(toHex)).toEqual([
        errorReport(cid, 0x01),
      ]);
    }
  });

  it('answers WINK with an empty WINK (CMD-03)', async () => {
    bench = await Bench.create();
    const cid = bench.allocate();
    expect(bench.raw(report(cid, [0x88, 0x00, 0x00])).map(toHex)).toEqual([
      cidHex(cid) + '880000' + '00'.repeat(57),
    ]);
  });

  it('answers INVALID_LEN to an empty MSG (CMD-09)', async () => {
    bench = await Bench.create();
    const cid = bench.allocate();
    expect(bench.raw(report(cid, [MSG, 0x00, 0x00])).map(toHex)).toEqual([errorReport(cid, 0x03)]);
  });

  it('does not answer CANCEL', async () => {
    bench = await Bench.create();
    const cid = bench.allocate();
    expect(bench.raw(report(cid, [0x91, 0x00, 0x00]))).toEqual([]);
  });

  it('ignores reports that are not 64 bytes long', async () => {
    bench = await Bench.create();
    expect(bench.raw(new Uint8Array(63), new Uint8Array(65))).toEqual([]);
  });
});

describe('LOCK', () => {
  it('locks other channels out with CHANNEL_BUSY, and unlocks with 0 (CMD-04, CMD-05)',
    async () => {
      bench = await Bench.create();
      const a = bench.allocate();
      const b = bench.allocate();
      expect(bench.raw(report(a, [0x84, 0x00, 0x01, 0x03])).map(toHex)).toEqual([
        cidHex(a) + '840000' + '00'.repeat(57),
      ]);
      expect(toHex(bench.call(a, PING, [1]).payload)).toBe('01');
      expect(bench.raw(report(b, [PING, 0x00, 0x01, 0x01])).map(toHex)).toEqual([
        errorReport(b, 0x06),
      ]);
      bench.raw(report(a, [0x84, 0x00, 0x01, 0x00]));
      expect(toHex(bench.call(b, PING, [2]).payload)).toBe('02');
    });

  it('expires after its duration', async () => {
    bench = await Bench.create();
    const a = bench.allocate();
    const b = bench.allocate();
    bench.raw(report(a, [0x84, 0x00, 0x01, 0x01]));
    expect(bench.raw(report(b, [PING, 0x00, 0x01, 0x01])).map(toHex)).toEqual([
      errorReport(b, 0x06),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1050));
    expect(toHex(bench.call(b, PING, [2]).payload)).toBe('02');
  });

  it('answers INVALID_PAR to a lock over 10 s and INVALID_LEN to a wrong length', async () => {
    bench = await Bench.create();
    const a = bench.allocate();
    expect(bench.raw(report(a, [0x84, 0x00, 0x01, 11])).map(toHex)).toEqual([
      errorReport(a, 0x02),
    ]);
    expect(bench.raw(report(a, [0x84, 0x00, 0x00])).map(toHex)).toEqual([errorReport(a, 0x03)]);
  });

  it('spec and fido profiles: INIT on another channel under a lock is BUSY (CMD-07)',
    async () => {
      for (const profile of ['spec', 'fido']) {
        bench = await Bench.create({ profile });
        const a = bench.allocate();
        const other = bench.allocate();
        bench.raw(report(a, [0x84, 0x00, 0x01, 0x08]));
        expect(bench.raw(report(other, [INIT, 0x00, 0x08, ...NONCE])).map(toHex)).toEqual([
          errorReport(other, 0x06),
        ]);
        // Broadcast INIT (allocation) is still answered.
        expect(toHex(bench.raw(report(BROADCAST, [INIT, 0x00, 0x08, ...NONCE]))[0]!
          .subarray(0, 7))).toBe('ffffffff860011');
        await bench.close();
      }
    });

  it('google profile: INIT under a lock succeeds (CMD-06)', async () => {
    bench = await Bench.create({ profile: 'google' });
    const a = bench.allocate();
    bench.raw(report(a, [0x84, 0x00, 0x01, 0x03]));
    const [reply] = bench.raw(report(0xdeadbeef, [INIT, 0x00, 0x08, ...NONCE]));
    expect(toHex(reply!.subarray(0, 19))).toBe('deadbeef860011' + '0102030405060708' + 'deadbeef');
  });
});
