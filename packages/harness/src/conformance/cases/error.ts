import { BROADCAST_CID, CTAPHID, CTAPHID_ERR, MAX_MESSAGE_SIZE } from '@keybench/hid-transport';

import type { ConformanceCase } from '../case.js';
import { randomBytes } from '../context.js';
import { expectEcho } from './framing.js';
import { expectMsgTimeout } from './channel.js';

const layer = 'error' as const;

export const ERROR_CASES: readonly ConformanceCase[] = [
  {
    id: 'ER-01',
    layer,
    title: 'every ERROR frame (INVALID_CMD, _LEN, _SEQ, _CHANNEL) has BCNT exactly 1',
    source: 'G isError; FA F-1..F-4; CTT#181',
    person: [],
    run: async (ctx) => {
      const cid = ctx.channel.cid;
      await ctx.raw.send(ctx.raw.initPacket(cid, 0xa1, 0, new Uint8Array(0)));
      await ctx.raw.expectError(cid, CTAPHID_ERR.INVALID_CMD);
      await ctx.raw.send(
        ctx.raw.initPacket(cid, CTAPHID.PING, MAX_MESSAGE_SIZE + 1, new Uint8Array(0)),
      );
      await ctx.raw.expectError(cid, CTAPHID_ERR.INVALID_LEN);
      await ctx.raw.send(ctx.raw.initPacket(cid, CTAPHID.PING, 99, randomBytes(57)));
      await ctx.raw.send(ctx.raw.contPacket(cid, 5, randomBytes(42)));
      await ctx.raw.expectError(cid, CTAPHID_ERR.INVALID_SEQ);
      await ctx.raw.sendMessage(BROADCAST_CID, CTAPHID.PING, randomBytes(4));
      await ctx.raw.expectError(BROADCAST_CID, CTAPHID_ERR.INVALID_CHANNEL);
    },
  },
  {
    id: 'ER-02',
    layer,
    title: 'every status word other than 9000 comes without data (6D00, 6E00, 6700, 6A80)',
    source: 'G-U2F test_Sign / test_Enroll; FA-AUTH F-4',
    person: [],
    run: async (ctx) => {
      ctx.expectSw(
        await ctx.apdu(Uint8Array.of(0, 0x40, 0, 0, 0, 0, 0)),
        [0x6d00, 0x9000],
        'INS 40',
      );
      ctx.expectSw(await ctx.apdu(Uint8Array.of(0x80, 3, 0, 0, 0, 0, 0)), 0x6e00, 'CLA 80');
      ctx.expectSw(
        await ctx.apdu(Uint8Array.of(0, 3, 0, 0, 0, 0, 1, 0x61, 0, 0)),
        0x6700,
        'VERSION with data',
      );
      const auth = ctx.authData(randomBytes(32), randomBytes(32), randomBytes(64));
      ctx.expectSw(
        await ctx.apdu(Uint8Array.of(0, 2, 7, 0, 0, 0, auth.length, ...auth, 0, 0)),
        0x6a80,
        'check-only, foreign handle',
      );
    },
  },
  {
    id: 'ER-03',
    layer,
    title: 'after INVALID_SEQ, CHANNEL_BUSY and MSG_TIMEOUT the channels work again',
    source: 'G sequencing; SK-HID test_resync_and_ping',
    person: [],
    run: async (ctx) => {
      const cid = ctx.channel.cid;
      await ctx.raw.send(ctx.raw.initPacket(cid, CTAPHID.PING, 99, randomBytes(57)));
      await ctx.raw.send(ctx.raw.contPacket(cid, 3, randomBytes(42)));
      await ctx.raw.expectError(cid, CTAPHID_ERR.INVALID_SEQ);
      await expectEcho(ctx, randomBytes(16));

      const other = await ctx.raw.allocate();
      const startedAt = await ctx.raw.send(
        ctx.raw.initPacket(cid, CTAPHID.PING, 99, randomBytes(57)),
      );
      await ctx.raw.send(ctx.raw.initPacket(other, CTAPHID.PING, 8, randomBytes(8)));
      await ctx.raw.expectError(other, CTAPHID_ERR.CHANNEL_BUSY);
      await expectMsgTimeout(ctx, cid, startedAt);
      await expectEcho(ctx, randomBytes(70));
      const echo = await ctx.raw.exchange(other, CTAPHID.PING, Uint8Array.of(1, 2, 3));
      ctx.check(
        echo.cmd === CTAPHID.PING && echo.bcnt === 3,
        'PING on the other channel works',
        () => `cmd 0x${echo.cmd.toString(16)}`,
      );
    },
  },
];
