import { parseAttestationCertificate, parseRegistrationData } from '@keybench/server-core';

import type { ConformanceCase } from '../case.js';
import { APP_ID, checkRegistration, randomBytes, sha256 } from '../context.js';

const layer = 'register' as const;

export const REGISTER_CASES: readonly ConformanceCase[] = [
  {
    id: 'RG-01',
    layer,
    title: 'REGISTER before any touch gets 6985 and no data',
    source: 'G-U2F test_Enroll(0x6985)',
    person: ['no-touch'],
    run: async (ctx) => {
      await ctx.presence.withhold('RG-01 REGISTER without a touch');
      ctx.expectSw(await ctx.registerOnce(), 0x6985, 'REGISTER without a touch');
    },
  },
  {
    id: 'RG-02',
    layer,
    title:
      'REGISTER after a touch: 05 | point | L | handle | certificate | signature that verifies',
    source: 'G-U2F test_Enroll; SK-U2F test_u2f_reg; FA-REG P-1',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.register('RG-02 REGISTER');
      ctx.metric('keyHandleLength', credential.keyHandle.length);
    },
  },
  {
    id: 'RG-03',
    layer,
    title: 'REGISTER with a short body ("abc", 63 bytes) gets 6700',
    source:
      'G-U2F test_WrongLength_U2F_REGISTER; FA-REG F-1; OSK test_process_register_bad_message',
    person: [],
    run: async (ctx) => {
      const abc = Uint8Array.of(0, 1, 3, 0, 0, 0, 3, 0x61, 0x62, 0x63, 0, 0);
      ctx.expectSw(await ctx.apdu(abc), 0x6700, 'REGISTER "abc"');
      const short = Uint8Array.of(0, 1, 3, 0, 0, 0, 63, ...randomBytes(63), 0, 0);
      ctx.expectSw(await ctx.apdu(short), 0x6700, 'REGISTER of 63 bytes');
    },
  },
  {
    id: 'RG-05',
    layer,
    title: 'five REGISTERs with the same challenge and appId all verify, with distinct handles',
    source: 'SK-U2F test_u2f',
    person: ['touch'],
    run: async (ctx) => {
      const challengeParam = randomBytes(32);
      const appParam = sha256(APP_ID);
      const handles = new Set<string>();
      for (let i = 0; i < 5; i++) {
        await ctx.presence.touch(`RG-05 REGISTER ${i + 1} of 5`);
        const data = await ctx.device.register(challengeParam, appParam, { timeoutMs: 30_000 });
        const credential = checkRegistration(data, challengeParam, appParam);
        handles.add(Buffer.from(credential.keyHandle).toString('hex'));
      }
      ctx.check(handles.size === 5, 'five distinct key handles', () => `${handles.size} distinct`);
    },
  },
  {
    id: 'RG-06',
    layer,
    title: 'REGISTER with P1 00, 03, 80 and FF all register (unknown P1 bits ignored)',
    source: 'client encodings (python-fido2/libfido2 00, G 03, ChromeOS 80); uncovered (§3)',
    person: ['touch'],
    run: async (ctx) => {
      for (const p1 of [0x00, 0x03, 0x80, 0xff]) {
        await ctx.register(`RG-06 REGISTER P1 ${p1.toString(16)}`, { p1 });
      }
    },
  },
  {
    id: 'RG-07',
    layer,
    title:
      'REGISTER hygiene: new key pair each time, X.509 v3 P-256 certificate, signature ≤ 72 bytes',
    source: 'uncovered by public suites (conformance §3, cryptographic hygiene)',
    person: ['touch'],
    run: async (ctx) => {
      const first = await ctx.register('RG-07 REGISTER 1 of 2');
      const second = await ctx.register('RG-07 REGISTER 2 of 2');
      const a = Buffer.from(first.publicKey).toString('hex');
      ctx.check(
        a !== Buffer.from(second.publicKey).toString('hex'),
        'a new key pair per REGISTER',
        () => 'the same public key twice',
      );
      const parsed = parseRegistrationData(first.registrationData);
      ctx.check(
        parsed.signature.length <= 72,
        'an attestation signature of at most 72 bytes',
        () => `${parsed.signature.length} bytes`,
      );
      const certificate = parseAttestationCertificate(parsed.certificate);
      ctx.check(
        certificate.version === 3,
        'an X.509 v3 certificate',
        () => `version ${certificate.version}`,
      );
      ctx.check(
        !certificate.sha1Signature,
        'a certificate not signed with SHA-1',
        () => 'SHA-1 signature',
      );
    },
  },
];
