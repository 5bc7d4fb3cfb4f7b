import { BROADCAST_CID, CAPABILITY, CTAPHID, CTAPHID_ERR, toHex } from '@keybench/hid-transport';

import type { ConformanceCase } from '../case.js';
import { randomBytes, type TestContext } from '../context.js';
import { describeReply, hex32 } from '../raw-link.js';
import { expectInitReply, sendInit } from './channel.js';

const layer = 'hid-command' as const;
const none = [] as const;

function isError(reply: { cmd: number; payload: Uint8Array }, code: number) {
  return reply.cmd === CTAPHID.ERROR && reply.payload.length === 1 && reply.payload[0] === code;
}

function requireLock(ctx: TestContext) {
  if ((ctx.info.capabilities & CAPABILITY.LOCK) === 0) ctx.skip('the key has no LOCK capability');
}

async function lock(ctx: TestContext, cid: number, seconds: number) {
  const reply = await ctx.raw.exchange(cid, CTAPHID.LOCK, Uint8Array.of(seconds), 1000);
  ctx.check(reply.cmd === CTAPHID.LOCK && reply.bcnt === 0, `LOCK ${seconds}: 84 0000`, () =>
    describeReply(reply),
  );
}

/**
 * G test_Lock: A locks for 3 s; A's PINGs work; another channel's 1-byte PINGs every 100 ms
 * get BUSY until the lock expires; the first success comes ≥ 2.5 s after the lock.
 */
async function lockExpiry(ctx: TestContext) {
  requireLock(ctx);
  const a = await ctx.raw.allocate();
  const other = await ctx.raw.allocate();
  await lock(ctx, a, 3);
  const lockedAt = performance.now();
  const own = await ctx.raw.exchange(a, CTAPHID.PING, randomBytes(8), 1000);
  ctx.check(own.cmd === CTAPHID.PING, 'the lock owner PINGs', () => describeReply(own));

  for (;;) {
    const reply = await ctx.raw.exchange(other, CTAPHID.PING, Uint8Array.of(0x55), 1000);
    const elapsed = performance.now() - lockedAt;
    if (reply.cmd === CTAPHID.PING) {
      ctx.metric('lockReleasedMs', elapsed);
      ctx.check(
        elapsed >= 2500,
        'other channel served only ≥ 2.5 s after LOCK 3',
        () => `served after ${elapsed.toFixed(0)} ms`,
      );
      return;
    }
    ctx.check(isError(reply, CTAPHID_ERR.CHANNEL_BUSY), 'CHANNEL_BUSY while locked', () =>
      describeReply(reply),
    );
    ctx.check(
      elapsed < 4500,
      'the lock to expire after 3 s',
      () => `still BUSY after ${elapsed.toFixed(0)} ms`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const HID_COMMAND_CASES: readonly ConformanceCase[] = [
  {
    id: 'CMD-01',
    layer,
    title: 'SYNC (0xBC, U2FHID v1.0 only) gets INVALID_CMD',
    source: 'G-HID test_Unknown(U2FHID_SYNC)',
    person: none,
    run: async (ctx) => {
      const reply = await ctx.raw.exchange(ctx.channel.cid, CTAPHID.SYNC, new Uint8Array(0));
      ctx.check(isError(reply, CTAPHID_ERR.INVALID_CMD), 'ERROR INVALID_CMD', () =>
        describeReply(reply),
      );
    },
  },
  {
    id: 'CMD-02',
    layer,
    title: 'an undefined command (0xA1) gets INVALID_CMD',
    source: 'FA-HID F-1 (SK-HID test_invalid_hid_cmd uses 0xE6, a vendor command)',
    person: none,
    run: async (ctx) => {
      const reply = await ctx.raw.exchange(ctx.channel.cid, 0xa1, new Uint8Array(0));
      ctx.check(isError(reply, CTAPHID_ERR.INVALID_CMD), 'ERROR INVALID_CMD', () =>
        describeReply(reply),
      );
    },
  },
  {
    id: 'CMD-03',
    layer,
    title: 'WINK: 88 0000 when the WINK capability is set, INVALID_CMD otherwise',
    source: 'G-HID test_OptionalWink; FA-HID P-9; SK-HID test_wink',
    person: none,
    run: async (ctx) => {
      const reply = await ctx.raw.exchange(ctx.channel.cid, CTAPHID.WINK, new Uint8Array(0));
      if (ctx.info.capabilities & CAPABILITY.WINK) {
        ctx.check(reply.cmd === CTAPHID.WINK && reply.bcnt === 0, 'WINK reply 88 0000', () =>
          describeReply(reply),
        );
      } else {
        ctx.check(
          isError(reply, CTAPHID_ERR.INVALID_CMD),
          'ERROR INVALID_CMD (no WINK capability)',
          () => describeReply(reply),
        );
      }
    },
  },
  {
    id: 'CMD-04',
    layer,
    title: 'LOCK 0 (probe and unlock): 84 0000 with the LOCK capability, INVALID_CMD otherwise',
    source: 'G-HID test_Lock, test_InitUnderLock; FA-HID2 P-13',
    person: none,
    run: async (ctx) => {
      const reply = await ctx.raw.exchange(ctx.channel.cid, CTAPHID.LOCK, Uint8Array.of(0));
      if (ctx.info.capabilities & CAPABILITY.LOCK) {
        ctx.check(reply.cmd === CTAPHID.LOCK && reply.bcnt === 0, 'LOCK reply 84 0000', () =>
          describeReply(reply),
        );
      } else {
        ctx.check(
          isError(reply, CTAPHID_ERR.INVALID_CMD),
          'ERROR INVALID_CMD (no LOCK capability)',
          () => describeReply(reply),
        );
      }
    },
  },
  {
    id: 'CMD-05',
    layer,
    title: 'LOCK 3 s: the owner is served, another channel gets BUSY until the lock expires',
    source: 'G-HID test_Lock',
    person: none,
    run: lockExpiry,
  },
  {
    id: 'CMD-06',
    layer,
    title: 'under a lock held by A, INIT on broadcast and on DEADBEEF succeed; LOCK 0 unlocks',
    source: 'G-HID test_InitUnderLock (§1.11 2)',
    person: none,
    profiles: ['google'],
    run: async (ctx) => {
      requireLock(ctx);
      const a = await ctx.raw.allocate();
      await lock(ctx, a, 3);
      try {
        const nonce = await sendInit(ctx, BROADCAST_CID);
        await expectInitReply(ctx, BROADCAST_CID, nonce);
        const other = await sendInit(ctx, 0xdeadbeef);
        await expectInitReply(ctx, 0xdeadbeef, other);
      } finally {
        await lock(ctx, a, 0);
      }
    },
  },
  {
    id: 'CMD-07',
    layer,
    title: "under A's lock, INIT on another CID gets BUSY; after LOCK 0 it succeeds",
    source: 'FA-HID2 P-14 (§1.11 2)',
    person: none,
    profiles: ['spec', 'fido'],
    run: async (ctx) => {
      requireLock(ctx);
      const a = await ctx.raw.allocate();
      const b = await ctx.raw.allocate();
      await lock(ctx, a, 8);
      try {
        await sendInit(ctx, b);
        await ctx.raw.expectError(b, CTAPHID_ERR.CHANNEL_BUSY, 1000);
      } finally {
        await lock(ctx, a, 0);
      }
      const nonce = await sendInit(ctx, b);
      const { cid } = await expectInitReply(ctx, b, nonce);
      ctx.check(cid === b, `INIT answered on ${hex32(b)} after unlock`, () => hex32(cid));
    },
  },
  {
    id: 'CMD-08',
    layer,
    title: 'CBOR (0x90) to a U2F-only key gets INVALID_CMD',
    source: 'SK-HID test_cbor_no_payload; LF fido_dev_open fallback',
    person: none,
    run: async (ctx) => {
      if (ctx.info.capabilities & CAPABILITY.CBOR)
        ctx.skip('the key speaks CTAP2 (CBOR capability); out of scope');
      const reply = await ctx.raw.exchange(ctx.channel.cid, CTAPHID.CBOR, new Uint8Array(0));
      ctx.check(isError(reply, CTAPHID_ERR.INVALID_CMD), 'ERROR INVALID_CMD', () =>
        describeReply(reply),
      );
    },
  },
  {
    id: 'CMD-09',
    layer,
    title: 'MSG with an empty APDU gets INVALID_LEN (or APDU 6700)',
    source: 'SK-HID test_no_data_in_u2f_msg',
    person: none,
    run: async (ctx) => {
      const reply = await ctx.raw.exchange(ctx.channel.cid, CTAPHID.MSG, new Uint8Array(0));
      const ok =
        isError(reply, CTAPHID_ERR.INVALID_LEN) ||
        (reply.cmd === CTAPHID.MSG && toHex(reply.payload) === '6700');
      ctx.check(ok, 'ERROR INVALID_LEN or MSG 6700', () => describeReply(reply));
    },
  },
];

export { lockExpiry };
