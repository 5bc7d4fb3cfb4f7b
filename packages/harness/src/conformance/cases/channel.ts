import { BROADCAST_CID, CTAPHID, CTAPHID_ERR, toHex } from '@keybench/hid-transport';

import type { ConformanceCase } from '../case.js';
import { randomBytes, type TestContext } from '../context.js';
import { describeFrame, describeReply, hex32 } from '../raw-link.js';

const layer = 'channel' as const;
const none = [] as const;

/** Reads an INIT reply on `cid` and checks nonce, length and version byte; returns the new CID. */
export async function expectInitReply(ctx: TestContext, cid: number, nonce: Uint8Array) {
  const reply = await ctx.raw.readMessage(cid, 1000, 'the INIT reply');
  ctx.check(
    reply.cmd === CTAPHID.INIT && reply.bcnt >= 17,
    `INIT reply (86, BCNT 17) on cid ${hex32(cid)}`,
    () => describeReply(reply),
  );
  ctx.check(
    toHex(reply.payload.subarray(0, 8)) === toHex(nonce),
    `nonce ${toHex(nonce)} echoed`,
    () => `nonce ${toHex(reply.payload.subarray(0, 8))}`,
  );
  ctx.check(reply.payload[12] === 2, 'protocol version 2 (data[12])', () => `${reply.payload[12]}`);
  return { cid: new DataView(reply.payload.buffer, reply.payload.byteOffset).getUint32(8), reply };
}

/** Sends INIT with a fresh nonce on `cid`. */
export async function sendInit(ctx: TestContext, cid: number) {
  const nonce = randomBytes(8);
  await ctx.raw.send(ctx.raw.initPacket(cid, CTAPHID.INIT, 8, nonce));
  return nonce;
}

/**
 * Waits for the MSG_TIMEOUT a pending message on `cid` earns, judged against the profile's
 * window measured from `startedAt` (the first packet). With a lazy profile, a device that
 * stays silent passes when the channel still works afterwards.
 */
export async function expectMsgTimeout(ctx: TestContext, cid: number, startedAt: number) {
  const { minMs, maxMs, unsolicited } = ctx.profile.timeout;
  const left = startedAt + maxMs + 250 - performance.now();
  const frame = await ctx.raw.receiveOn(cid, Math.max(0, left));
  if (!frame && !unsolicited) {
    ctx.note(
      `no unsolicited MSG_TIMEOUT within ${maxMs} ms (accepted by profile ${ctx.profile.name})`,
    );
    return undefined;
  }
  const expected = `ERROR MSG_TIMEOUT on cid ${hex32(cid)} ${minMs}-${maxMs} ms after the first packet`;
  if (!frame) ctx.fail(expected, `nothing within ${maxMs} ms`);
  const elapsed = frame.at - startedAt;
  ctx.metric('timeoutMs', elapsed);
  const isTimeout =
    frame.cmd === CTAPHID.ERROR && frame.bcnt === 1 && frame.report[7] === CTAPHID_ERR.MSG_TIMEOUT;
  ctx.check(isTimeout, expected, () => describeFrame(frame));
  ctx.check(elapsed >= minMs, expected, () => `MSG_TIMEOUT after ${elapsed.toFixed(0)} ms`);
  return elapsed;
}

/** Whether the profile demands that unallocated CIDs are served (else INVALID_CHANNEL passes too). */
function unallocatedAnswer(ctx: TestContext, got: { cmd: number; payload: Uint8Array }) {
  return (
    ctx.profile.unallocatedCid === 'either' &&
    got.cmd === CTAPHID.ERROR &&
    got.payload[0] === CTAPHID_ERR.INVALID_CHANNEL
  );
}

export const CHANNEL_CASES: readonly ConformanceCase[] = [
  {
    id: 'CH-01',
    layer,
    title: 'broadcast INIT: nonce echoed, BCNT 17, version 2, CID not 0/FFFFFFFF, known caps',
    source: 'G-HID test_Init; FA-HID P-3; PF CtapHidDevice',
    person: none,
    run: async (ctx) => {
      const nonce = await sendInit(ctx, BROADCAST_CID);
      const { cid, reply } = await expectInitReply(ctx, BROADCAST_CID, nonce);
      ctx.check(cid !== 0 && cid !== BROADCAST_CID, 'a CID other than 0 and FFFFFFFF', () =>
        hex32(cid),
      );
      const caps = reply.payload[16] ?? 0;
      ctx.check(
        (caps & ~0x0f) === 0,
        'capabilities within WINK|LOCK|CBOR|NMSG',
        () => `0x${caps.toString(16)}`,
      );
      ctx.metric('capabilities', `0x${caps.toString(16).padStart(2, '0')}`);
    },
  },
  {
    id: 'CH-02',
    layer,
    title: 'three broadcast INITs allocate three distinct CIDs',
    source: 'G-HID test_Init; FA-HID P-4 (whose a===b===c check always passes)',
    person: none,
    run: async (ctx) => {
      const cids = [await ctx.raw.allocate(), await ctx.raw.allocate(), await ctx.raw.allocate()];
      ctx.check(new Set(cids).size === 3, 'three distinct CIDs', () => cids.map(hex32).join(', '));
    },
  },
  {
    id: 'CH-03',
    layer,
    title: "INIT on the client's own CID answers on it with the same CID",
    source: 'G-HID test_BasicInit; SK-HID test_init, test_resync_and_ping',
    person: none,
    run: async (ctx) => {
      const own = await ctx.raw.allocate();
      const nonce = await sendInit(ctx, own);
      const { cid } = await expectInitReply(ctx, own, nonce);
      ctx.check(cid === own, `the same CID ${hex32(own)}`, () => hex32(cid));
    },
  },
  {
    id: 'CH-04',
    layer,
    title: 'INIT on the unallocated CID DEADBEEF answers on it with CID DEADBEEF',
    source: 'G-HID test_InitOnNonBroadcastEchoesCID; disputed by OpenSK#399 (§1.11 1)',
    person: none,
    run: async (ctx) => {
      const cid = 0xdeadbeef;
      const nonce = await sendInit(ctx, cid);
      const reply = await ctx.raw.readMessage(cid, 1000, 'the INIT reply');
      if (unallocatedAnswer(ctx, reply)) {
        ctx.note('answered INVALID_CHANNEL, which this profile accepts');
        return;
      }
      ctx.check(reply.cmd === CTAPHID.INIT && reply.bcnt >= 17, 'INIT reply on DEADBEEF', () =>
        describeReply(reply),
      );
      ctx.check(toHex(reply.payload.subarray(0, 8)) === toHex(nonce), 'nonce echoed', () =>
        toHex(reply.payload.subarray(0, 8)),
      );
      ctx.check(toHex(reply.payload.subarray(8, 12)) === 'deadbeef', 'newCID DE AD BE EF', () =>
        toHex(reply.payload.subarray(8, 12)),
      );
    },
  },
  {
    id: 'CH-05',
    layer,
    title: 'INIT on CID 00000000 gets INVALID_CHANNEL',
    source: 'G-HID test_NothingOnChannel0; SK-HID test_cid_0; FA-HID F-2',
    person: none,
    run: async (ctx) => {
      await sendInit(ctx, 0);
      await ctx.raw.expectError(0, CTAPHID_ERR.INVALID_CHANNEL, 1000);
    },
  },
  {
    id: 'CH-06',
    layer,
    title: 'PING on the broadcast CID gets INVALID_CHANNEL',
    source: 'G-HID test_OnlyInitOnBroadcast; SK-HID test_cid_ffffffff; FA-HID F-3',
    person: none,
    run: async (ctx) => {
      await ctx.raw.sendMessage(BROADCAST_CID, CTAPHID.PING, randomBytes(8));
      await ctx.raw.expectError(BROADCAST_CID, CTAPHID_ERR.INVALID_CHANNEL, 1000);
    },
  },
  {
    id: 'CH-07',
    layer,
    title: 'PING of 10 bytes on the never-allocated CID 00000100 is echoed',
    source: 'G-HID test_LeadingZero (§1.11 1)',
    person: none,
    run: async (ctx) => {
      const payload = randomBytes(10);
      const reply = await ctx.raw.exchange(0x100, CTAPHID.PING, payload, 1000);
      if (unallocatedAnswer(ctx, reply)) {
        ctx.note('answered INVALID_CHANNEL, which this profile accepts');
        return;
      }
      ctx.check(
        reply.cmd === CTAPHID.PING && toHex(reply.payload) === toHex(payload),
        'PING echo of 10 bytes on cid 00000100',
        () => describeReply(reply),
      );
    },
  },
  {
    id: 'CH-08',
    layer,
    title: 'INIT on a CID with a pending PING answers and abandons the PING (no stray frames)',
    source: 'G-HID test_InitSelfAborts; SK-HID test_ping_abort; FA-HID P-7',
    person: none,
    run: async (ctx) => {
      const cid = await ctx.raw.allocate();
      await ctx.raw.send(ctx.raw.initPacket(cid, CTAPHID.PING, 99, randomBytes(57)));
      const nonce = await sendInit(ctx, cid);
      await expectInitReply(ctx, cid, nonce);
      await ctx.raw.expectSilence(1000, 'the INIT that abandoned the PING');
    },
  },
  {
    id: 'CH-09',
    layer,
    title: 'PING pending on A, INIT on B: B answered at once, A gets MSG_TIMEOUT',
    source: 'G-HID test_InitOther; SK-HID test_ping_abort_from_different_cid',
    person: none,
    run: async (ctx) => {
      const a = await ctx.raw.allocate();
      const b = await ctx.raw.allocate();
      const startedAt = await ctx.raw.send(
        ctx.raw.initPacket(a, CTAPHID.PING, 99, randomBytes(57)),
      );
      const nonce = await sendInit(ctx, b);
      await expectInitReply(ctx, b, nonce);
      await expectMsgTimeout(ctx, a, startedAt);
    },
  },
  {
    id: 'CH-10',
    layer,
    title: 'PING pending on A, the same packet on B: B gets CHANNEL_BUSY, A later MSG_TIMEOUT',
    source: 'G-HID test_Busy; SK-HID test_check_busy',
    person: none,
    run: async (ctx) => {
      const a = await ctx.raw.allocate();
      const b = await ctx.raw.allocate();
      const data = randomBytes(57);
      const startedAt = await ctx.raw.send(ctx.raw.initPacket(a, CTAPHID.PING, 99, data));
      const sentB = await ctx.raw.send(ctx.raw.initPacket(b, CTAPHID.PING, 99, data));
      const busy = await ctx.raw.expectError(b, CTAPHID_ERR.CHANNEL_BUSY, 400);
      ctx.metric('busyMs', busy.at - sentB);
      await expectMsgTimeout(ctx, a, startedAt);
    },
  },
  {
    id: 'CH-11',
    layer,
    title: "interleaved 2-packet PINGs on A and B: BUSY on B, A echoed, B's CONT dropped",
    source: 'G-HID test_Interleave; SK-HID test_check_busy_interleaved',
    person: none,
    run: async (ctx) => {
      const a = await ctx.raw.allocate();
      const b = await ctx.raw.allocate();
      const payloadA = randomBytes(116);
      const packetsA = ctx.raw.packets(a, CTAPHID.PING, payloadA);
      const packetsB = ctx.raw.packets(b, CTAPHID.PING, randomBytes(116));
      await ctx.raw.send(packetsA[0]!);
      await ctx.raw.send(packetsB[0]!);
      await ctx.raw.send(packetsB[1]!);
      await ctx.raw.send(packetsA[1]!);
      await ctx.raw.expectError(b, CTAPHID_ERR.CHANNEL_BUSY, 1000);
      const echo = await ctx.raw.readMessage(a, 1000, "A's PING echo");
      ctx.check(toHex(echo.payload) === toHex(payloadA), "A's 116 bytes echoed", () =>
        describeReply(echo),
      );
      await ctx.raw.expectSilence(500, "A's echo");
    },
  },
  {
    id: 'CH-12',
    layer,
    title: 'two channels sending U2F requests back to back both get their own right answers',
    source: 'uncovered by public suites (conformance §3, concurrency)',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      const a = await ctx.raw.allocate();
      const b = await ctx.raw.allocate();
      const check = ctx.authData(randomBytes(32), credential.appParam, credential.keyHandle);
      const checkOnly = Uint8Array.of(0, 2, 7, 0, 0, 0, check.length, ...check, 0, 0);
      const version = Uint8Array.of(0, 3, 0, 0, 0, 0, 0);
      let busy = 0;
      for (let round = 0; round < 20; round++) {
        await ctx.raw.sendMessage(a, CTAPHID.MSG, checkOnly);
        await ctx.raw.sendMessage(b, CTAPHID.MSG, version);
        const replyA = await ctx.raw.readMessage(a, 2000, 'the check-only reply on A');
        let replyB = await ctx.raw.readMessage(b, 2000, 'the VERSION reply on B');
        if (replyB.cmd === CTAPHID.ERROR && replyB.payload[0] === CTAPHID_ERR.CHANNEL_BUSY) {
          busy++;
          replyB = await ctx.raw.exchange(b, CTAPHID.MSG, version);
        }
        ctx.check(toHex(replyA.payload) === '6985', 'A: 6985 (check-only, known handle)', () =>
          describeReply(replyA),
        );
        ctx.check(toHex(replyB.payload) === '5532465f56329000', 'B: U2F_V2 9000', () =>
          describeReply(replyB),
        );
      }
      ctx.metric('busyAnswers', busy);
    },
  },
  {
    id: 'CH-13',
    layer,
    title: '200 broadcast INITs: never CID 0 or FFFFFFFF, consecutive CIDs distinct',
    source: 'uncovered by public suites (conformance §3, concurrency)',
    person: none,
    run: async (ctx) => {
      const seen = new Set<number>();
      let previous = -1;
      for (let i = 0; i < 200; i++) {
        const cid = await ctx.raw.allocate();
        ctx.check(cid !== 0 && cid !== BROADCAST_CID, 'a CID other than 0 and FFFFFFFF', () =>
          hex32(cid),
        );
        ctx.check(cid !== previous, 'a CID different from the previous one', () => hex32(cid));
        previous = cid;
        seen.add(cid);
      }
      ctx.metric('distinctCids', seen.size);
    },
  },
];
