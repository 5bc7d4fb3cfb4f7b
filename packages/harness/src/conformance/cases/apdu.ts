import { CTAPHID, CTAPHID_ERR, toHex } from '@keybench/hid-transport';

import type { ConformanceCase } from '../case.js';
import {
  APP_ID,
  checkRegistration,
  concat,
  describeApdu,
  randomBytes,
  sha256,
  type TestContext,
} from '../context.js';
import type { VersionForm } from '../profiles.js';
import { describeReply } from '../raw-link.js';

const layer = 'apdu' as const;
const none = [] as const;
const U2F_V2 = '5532465f5632';

function versionCase(
  id: VersionForm,
  title: string,
  bytes: number[],
  source: string,
): ConformanceCase {
  return {
    id,
    layer,
    title,
    source: `${source} (§1.11 5)`,
    person: none,
    run: async (ctx) => {
      if (!ctx.profile.versionForms.includes(id)) {
        ctx.skip(`profile ${ctx.profile.name} does not require this VERSION encoding`);
      }
      const reply = await ctx.apdu(Uint8Array.from(bytes));
      ctx.check(reply.sw === 0x9000 && toHex(reply.data) === U2F_V2, '"U2F_V2" 9000', () =>
        describeApdu(reply),
      );
    },
  };
}

/** A check-only AUTHENTICATE APDU for `credential` in extended form, `trailing` Le bytes. */
function checkOnlyApdu(
  ctx: TestContext,
  keyHandle: Uint8Array,
  appParam: Uint8Array,
  trailing: number,
) {
  const data = ctx.authData(randomBytes(32), appParam, keyHandle);
  return concat(
    Uint8Array.of(0, 2, 7, 0, 0, data.length >> 8, data.length & 0xff),
    data,
    new Uint8Array(trailing),
  );
}

export const APDU_CASES: readonly ConformanceCase[] = [
  versionCase(
    'AP-01',
    'VERSION in ISO case 2E form 00 03 00 00 00 00 00 answers "U2F_V2"',
    [0, 3, 0, 0, 0, 0, 0],
    'G-U2F test_Version; MT',
  ),
  versionCase(
    'AP-02',
    'VERSION with Lc 000000 (9 bytes) answers "U2F_V2"',
    [0, 3, 0, 0, 0, 0, 0, 0, 0],
    'G-U2F fallback; PF test_get_version; SK-U2F test_version',
  ),
  versionCase(
    'AP-03',
    'VERSION in case 1 form 00 03 00 00 answers "U2F_V2"',
    [0, 3, 0, 0],
    'FA-GEN tool v1.3.2 (CTT#536, #614)',
  ),
  versionCase(
    'AP-04',
    'VERSION with short Le 00 03 00 00 00 answers "U2F_V2"',
    [0, 3, 0, 0, 0],
    'FA-GEN P-1 tool v1.7.20 (CTT#768)',
  ),
  {
    id: 'AP-05',
    layer,
    title: 'VERSION with data gets 6700 and no data',
    source: 'G-U2F test_WrongLength_U2F_VERSION; FA-GEN F-3',
    person: none,
    run: async (ctx) => {
      const reply = await ctx.apdu(Uint8Array.of(0, 3, 0, 0, 0, 0, 3, 0x61, 0x62, 0x63, 0, 0));
      ctx.expectSw(reply, 0x6700, 'VERSION with data');
    },
  },
  {
    id: 'AP-06',
    layer,
    title: 'unknown INS 00 gets 6D00 and no data',
    source: 'G-U2F test_UnknownINS; SK-U2F test_bad_ins; FA-GEN F-1',
    person: none,
    run: async (ctx) => {
      ctx.expectSw(await ctx.apdu(Uint8Array.of(0, 0, 0, 0, 0, 0, 0)), 0x6d00, 'INS 00');
      ctx.expectSw(
        await ctx.apdu(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0)),
        0x6d00,
        'INS 00, 9-byte form',
      );
    },
  },
  {
    id: 'AP-07',
    layer,
    title: 'bad CLA 01 (checked before the length) gets 6E00 and no data',
    source: 'G-U2F test_BadCLA; SK-U2F test_bad_cla; FA-GEN F-2',
    person: none,
    run: async (ctx) => {
      const reply = await ctx.apdu(Uint8Array.of(1, 3, 0, 0, 0, 0, 3, 0x61, 0x62, 0x63, 0, 0));
      ctx.expectSw(reply, 0x6e00, 'CLA 01');
    },
  },
  {
    id: 'AP-08',
    layer,
    title: 'REGISTER whose Lc says 255 but carries 64 bytes gets 6700 (extended and short)',
    source: 'FA-NFC F-3, F-4 (CTT#806)',
    person: none,
    run: async (ctx) => {
      const body = randomBytes(64);
      ctx.expectSw(
        await ctx.apdu(concat(Uint8Array.of(0, 1, 0, 0, 0, 0, 0xff), body)),
        0x6700,
        'extended Lc 00FF',
      );
      ctx.expectSw(
        await ctx.apdu(concat(Uint8Array.of(0, 1, 0, 0, 0xff), body)),
        0x6700,
        'short Lc FF',
      );
    },
  },
  {
    id: 'AP-09',
    layer,
    title: 'REGISTER as a short APDU (Lc 40, Le 00) registers (optional on HID)',
    source: 'FA-NFC P-3, P-4; G-NFC',
    person: ['touch'],
    run: async (ctx) => {
      const challengeParam = randomBytes(32);
      const appParam = sha256(APP_ID);
      const apdu = concat(
        Uint8Array.of(0, 1, 3, 0, 0x40),
        challengeParam,
        appParam,
        Uint8Array.of(0),
      );
      await ctx.presence.touch('AP-09 short REGISTER');
      let reply = await ctx.apdu(apdu);
      for (let tries = 0; reply.sw === 0x6985 && tries < 150; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        reply = await ctx.apdu(apdu);
      }
      if (reply.sw === 0x6700) ctx.skip('the key takes only extended APDUs over HID (allowed)');
      ctx.expectSw(reply, 0x9000, 'short REGISTER');
      checkRegistration(reply.data, challengeParam, appParam);
    },
  },
  {
    id: 'AP-10',
    layer,
    title: 'check-only AUTHENTICATE with 0, 1 or 2 Le bytes works; 3 trailing bytes get 6700',
    source: 'OSK ctap1.rs test_process_authenticate_check_only_wrong_length',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      for (const trailing of [0, 1, 2]) {
        const reply = await ctx.apdu(
          checkOnlyApdu(ctx, credential.keyHandle, credential.appParam, trailing),
        );
        ctx.expectSw(reply, 0x6985, `check-only with ${trailing} Le bytes`);
      }
      const reply = await ctx.apdu(
        checkOnlyApdu(ctx, credential.keyHandle, credential.appParam, 3),
      );
      ctx.expectSw(reply, 0x6700, 'check-only with 3 trailing bytes');
    },
  },
  {
    id: 'AP-11',
    layer,
    title: 'an APDU shorter than its 4-byte header gets an error status (or INVALID_LEN)',
    source: 'OSK apdu.rs test_invalid_apdu_header_length (status not fixed by the spec)',
    person: none,
    run: async (ctx) => {
      const reply = await ctx.raw.exchange(ctx.channel.cid, CTAPHID.MSG, Uint8Array.of(0, 0x12, 0));
      const invalidLen =
        reply.cmd === CTAPHID.ERROR && reply.payload[0] === CTAPHID_ERR.INVALID_LEN;
      const status = reply.cmd === CTAPHID.MSG && reply.bcnt === 2 && reply.payload[0] !== 0x90;
      ctx.check(invalidLen || status, 'an error status word alone, or ERROR INVALID_LEN', () =>
        describeReply(reply),
      );
    },
  },
  {
    id: 'AP-13',
    layer,
    title: 'AUTHENTICATE whose key-handle length byte says 255 with 64 bytes following is refused',
    source: 'uncovered by public suites (conformance §3, APDU fuzzing: L mismatch)',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      const data = ctx.authData(randomBytes(32), credential.appParam, credential.keyHandle);
      data[64] = 0xff;
      const apdu = concat(
        Uint8Array.of(0, 2, 7, 0, 0, data.length >> 8, data.length & 0xff),
        data,
        Uint8Array.of(0, 0),
      );
      ctx.expectSw(await ctx.apdu(apdu), [0x6700, 0x6a80], 'L = 255 with a shorter key handle');
    },
  },
];
