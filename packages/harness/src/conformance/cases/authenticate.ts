import { AUTH_P1 } from '@keybench/hid-transport';

import type { ConformanceCase } from '../case.js';
import { OTHER_APP_ID, randomBytes, sha256, type ApduReply } from '../context.js';

const layer = 'authenticate' as const;
const SW_WRONG_DATA = 0x6a80;

const flip = (bytes: Uint8Array, index: number, mask: number) => {
  const copy = Uint8Array.from(bytes);
  copy[index]! ^= mask;
  return copy;
};

export const AUTHENTICATE_CASES: readonly ConformanceCase[] = [
  {
    id: 'AU-01',
    layer,
    title: 'AUTHENTICATE P1 03 after a touch: flags exactly 01, counter, signature that verifies',
    source: 'G-U2F test_Sign; SK-U2F test_u2f_auth; FA-AUTH P-1',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      const signed = await ctx.authenticate(credential, 'AU-01 AUTHENTICATE');
      ctx.check(
        signed.userPresence === 0x01,
        'flags 01',
        () => `flags ${signed.userPresence.toString(16).padStart(2, '0')}`,
      );
      ctx.metric('counter', signed.counter);
    },
  },
  {
    id: 'AU-02',
    layer,
    title: 'check-only (P1 07) with a valid handle gets 6985 and no data',
    source: 'G-U2F test_Sign(check only); SK-U2F test_u2f_auth_check_only; FA-AUTH P-3',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      ctx.expectSw(
        await ctx.authenticateOnce(credential, AUTH_P1.CHECK_ONLY),
        0x6985,
        'check-only',
      );
    },
  },
  {
    id: 'AU-03',
    layer,
    title: 'check-only with an unknown handle (random; byte 0 ^ 40) gets 6A80',
    source: 'FA-AUTH F-4; SK-U2F test_bad_key_handle',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      const random = randomBytes(credential.keyHandle.length);
      ctx.expectSw(
        await ctx.authenticateOnce(credential, AUTH_P1.CHECK_ONLY, { keyHandle: random }),
        SW_WRONG_DATA,
        'random handle',
      );
      const tampered = flip(credential.keyHandle, 0, 0x40);
      ctx.expectSw(
        await ctx.authenticateOnce(credential, AUTH_P1.CHECK_ONLY, { keyHandle: tampered }),
        SW_WRONG_DATA,
        'handle byte 0 ^ 40',
      );
    },
  },
  {
    id: 'AU-04',
    layer,
    title: 'P1 03 with a corrupted handle (byte 0 ^ 55) gets 6A80 without waiting for a touch',
    source: 'G-U2F; SK-U2F test_bad_key_handle; FA-AUTH F-3',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      const tampered = flip(credential.keyHandle, 0, 0x55);
      ctx.expectSw(
        await ctx.authenticateOnce(credential, AUTH_P1.ENFORCE_USER_PRESENCE, {
          keyHandle: tampered,
        }),
        SW_WRONG_DATA,
        'corrupted handle',
      );
    },
  },
  {
    id: 'AU-05',
    layer,
    title: 'a valid handle under another appId (byte 0 ^ AA; another origin) gets 6A80',
    source: 'G-U2F; SK-U2F test_incorrect_appid; FA-AUTH F-2',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      const appParam = flip(credential.appParam, 0, 0xaa);
      ctx.expectSw(
        await ctx.authenticateOnce(credential, AUTH_P1.ENFORCE_USER_PRESENCE, { appParam }),
        SW_WRONG_DATA,
        'appId byte 0 ^ AA',
      );
      const other = sha256(OTHER_APP_ID);
      ctx.expectSw(
        await ctx.authenticateOnce(credential, AUTH_P1.CHECK_ONLY, { appParam: other }),
        SW_WRONG_DATA,
        'another appId, check-only',
      );
    },
  },
  {
    id: 'AU-06',
    layer,
    title: 'a truncated handle with a consistent length byte is refused (6700 or 6A80 by profile)',
    source:
      'G-U2F (KH-8: 6700); SK-U2F test_bad_key_handle_length (KH/2); FA-AUTH F-1 (L=0) (§1.11 3)',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      const kh = credential.keyHandle;
      const variants: Array<[string, Uint8Array]> = [];
      if (ctx.profile.name !== 'fido')
        variants.push(['KH - 8', kh.subarray(0, Math.max(0, kh.length - 8))]);
      if (ctx.profile.name !== 'google') {
        variants.push(['KH / 2', kh.subarray(0, kh.length >> 1)], ['L = 0', new Uint8Array(0)]);
      }
      for (const [what, keyHandle] of variants) {
        const reply = await ctx.authenticateOnce(credential, AUTH_P1.ENFORCE_USER_PRESENCE, {
          keyHandle,
        });
        ctx.expectSw(reply, ctx.profile.truncatedHandle, `truncated handle (${what})`);
      }
    },
  },
  {
    id: 'AU-07',
    layer,
    title: 'P1 08 (do not enforce presence) signs without a touch, presence byte 00',
    source: 'FA-AUTH P-4 (CTT#615); OSK test_process_authenticate_dont_enforce (§1.11 6)',
    person: ['touch', 'no-touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      await ctx.presence.withhold('AU-07 AUTHENTICATE P1 08');
      const signed = await ctx.authenticate(
        credential,
        'AU-07',
        AUTH_P1.DONT_ENFORCE_USER_PRESENCE,
      );
      const accepted = ctx.profile.dontEnforceUp;
      ctx.check(
        accepted.includes(signed.userPresence),
        `presence byte ${accepted.map((b) => b.toString(16).padStart(2, '0')).join(' or ')}`,
        () => signed.userPresence.toString(16).padStart(2, '0'),
      );
    },
  },
  {
    id: 'AU-08',
    layer,
    title: 'P1 EE with a valid handle gets 6A80',
    source: 'OSK test_process_authenticate_check_only_wrong_flags',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      ctx.expectSw(await ctx.authenticateOnce(credential, 0xee), SW_WRONG_DATA, 'P1 EE');
    },
  },
  {
    id: 'AU-09',
    layer,
    title: 'after a replug, handles registered before still authenticate and pass check-only',
    source: 'SK-U2F test_u2f (reboot)',
    person: ['touch', 'replug'],
    run: async (ctx) => {
      const first = await ctx.register('AU-09 REGISTER 1 of 2');
      const second = await ctx.register('AU-09 REGISTER 2 of 2');
      await ctx.replug('AU-09');
      for (const credential of [first, second]) {
        ctx.expectSw(
          await ctx.authenticateOnce(credential, AUTH_P1.CHECK_ONLY),
          0x6985,
          'check-only after the replug',
        );
      }
      await ctx.authenticate(second, 'AU-09 AUTHENTICATE after the replug');
    },
  },
  {
    id: 'AU-11',
    layer,
    title: 'AUTHENTICATE with P1 outside 03/07/08 (00, 01, 04, 09, 0F, 80, 83, FF) is refused',
    source: 'uncovered by public suites (conformance §3, APDU fuzzing: unknown P1)',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      for (const p1 of [0x00, 0x01, 0x04, 0x09, 0x0f, 0x80, 0x83, 0xff]) {
        const reply: ApduReply = await ctx.authenticateOnce(credential, p1);
        ctx.expectSw(
          reply,
          [SW_WRONG_DATA, 0x6d00, 0x6b00],
          `P1 ${p1.toString(16).padStart(2, '0')}`,
        );
      }
    },
  },
  {
    id: 'AU-12',
    layer,
    title: 'every single-bit flip of a key handle gets 6A80 (check-only)',
    source: 'uncovered by public suites (conformance §3, APDU fuzzing: key-handle bits)',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      const bits = credential.keyHandle.length * 8;
      for (let bit = 0; bit < bits; bit++) {
        const keyHandle = flip(credential.keyHandle, bit >> 3, 0x80 >> (bit & 7));
        const reply = await ctx.authenticateOnce(credential, AUTH_P1.CHECK_ONLY, { keyHandle });
        ctx.expectSw(reply, SW_WRONG_DATA, `handle with bit ${bit} flipped`);
      }
      ctx.metric('bitsFlipped', bits);
    },
  },
  {
    id: 'AU-13',
    layer,
    title:
      'a 255-byte random key handle is refused (6A80, or 6700 for a length the key never makes)',
    source: 'uncovered by public suites (conformance §3, APDU fuzzing: handle of 255 bytes)',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      const reply = await ctx.authenticateOnce(credential, AUTH_P1.CHECK_ONLY, {
        keyHandle: randomBytes(255),
      });
      ctx.expectSw(reply, [SW_WRONG_DATA, 0x6700], '255-byte handle');
    },
  },
  {
    id: 'AU-14',
    layer,
    title:
      'a signature under appId A after a request under appId B is over A (application parameter)',
    source: 'KeyBench (uncovered by public suites)',
    person: ['touch'],
    run: async (ctx) => {
      // Firmware that builds the signed data from a stale request buffer signs the previous
      // request's application parameter; only a request under another appId in between shows
      // it (the virtual key's wrong-app-param fault).
      const first = await ctx.register('AU-14 REGISTER under appId A');
      await ctx.register('AU-14 REGISTER under appId B', { appParam: sha256(OTHER_APP_ID) });
      const signed = await ctx.authenticate(first, 'AU-14 AUTHENTICATE under appId A');
      ctx.metric('counter', signed.counter);
    },
  },
];
