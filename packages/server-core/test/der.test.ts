import { describe, expect, it } from 'vitest';

import { checkEcdsaDer, parseRegistrationData, parseSignatureData } from '../src/index.js';
import { codeOf as code, concat, hex } from './helpers.js';

const R = '00' + 'c1'.repeat(32);
const S = '2a'.repeat(32);

describe('canonical DER ECDSA signatures', () => {
  const good = `3045022100${'c1'.repeat(32)}0220${S}`;

  it('accepts a canonical signature (33-byte r with a needed leading zero)', () => {
    expect(code(() => checkEcdsaDer(hex(good), 'sig', 'BAD_SIGNATURE_DATA'))).toBe('OK');
    expect(R.length).toBe(66);
  });

  const bad: [string, string][] = [
    ['a trailing byte', `${good}00`],
    ['a long-form length for a short value', `308145022100${'c1'.repeat(32)}0220${S}`],
    ['an indefinite length', `3080022100${'c1'.repeat(32)}0220${S}0000`],
    ['a negative r', `30440220${'c1'.repeat(32)}0220${S}`],
    ['a superfluous leading zero', `3045022100${'2a'.repeat(32)}0220${S}`],
    ['an r of 34 bytes', `304702230000${'c1'.repeat(32)}0220${S}`],
    ['an empty r', `302402000220${S}`],
    ['a BIT STRING instead of INTEGER', `3045032100${'c1'.repeat(32)}0220${S}`],
    ['a SEQUENCE length past the end', `3046022100${'c1'.repeat(32)}0220${S}`],
    ['an extra element', `3048022100${'c1'.repeat(32)}0220${S}020100`],
  ];
  for (const [what, sig] of bad) {
    it(`rejects ${what}`, () => {
      expect(code(() => checkEcdsaDer(hex(sig), 'sig', 'BAD_SIGNATURE_DATA')))
        .toBe('BAD_SIGNATURE_DATA');
    });
  }
});

describe('certificate length from its own DER header', () => {
  const head = concat(new Uint8Array([0x05]), new Uint8Array(65).fill(0).map((_, i) =>
    i === 0 ? 4 : 1), new Uint8Array([2, 0xaa, 0xbb]));
  const sig = hex(`3006020101020101`);

  const cert = (header: string, length: number) => concat(hex(header), new Uint8Array(length));

  for (const [what, c, length] of [
    ['short form', cert('3005', 5), 7],
    ['one-byte long form', cert('308180', 0x80), 0x83],
    ['two-byte long form', cert('30820140', 0x140), 0x144],
  ] as const) {
    it(`reads the ${what}`, () => {
      const parsed = parseRegistrationData(concat(head, c, sig));
      expect(parsed.certificate.length).toBe(length);
      expect(parsed.signature.length).toBe(8);
      expect(parsed.keyHandle).toEqual(new Uint8Array([0xaa, 0xbb]));
    });
  }

  for (const [what, c] of [
    ['indefinite length', concat(hex('3080'), new Uint8Array(4), hex('0000'))],
    ['non-minimal one-byte long form', cert('308105', 5)],
    ['non-minimal two-byte long form', cert('30820090', 0x90)],
    ['a length past the end', hex('30820fff0000')],
    ['a tag other than SEQUENCE', cert('3105', 5)],
  ] as const) {
    it(`rejects ${what}`, () => {
      expect(() => parseRegistrationData(concat(head, c, sig))).toThrow(expect.objectContaining({
        code: 'BAD_REGISTRATION_DATA' }));
    });
  }

  it('rejects a missing signature', () => {
    expect(code(() => parseRegistrationData(concat(head, cert('3005', 5)))))
      .toBe('BAD_REGISTRATION_DATA');
  });

  it('names the field and lengths on a short read', () => {
    expect(() => parseRegistrationData(hex('0504'))).toThrow(
      /publicKey needs 65 byte\(s\), only 1 left/);
  });
});

describe('signatureData layout', () => {
  it('reads a big-endian counter up to 2^32-1', () => {
    const data = parseSignatureData(concat(hex('01ffffffff'), hex('3006020101020101')));
    expect(data.counter).toBe(0xffffffff);
  });

  it('names the field on a short read', () => {
    expect(() => parseSignatureData(hex('010000'))).toThrow(/counter needs 4 byte\(s\)/);
  });
});
