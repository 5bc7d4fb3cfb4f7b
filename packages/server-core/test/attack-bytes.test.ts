import { describe, expect, it } from 'vitest';

import {
  completeRegistration, LIMITS, nobleEngine, nodeEngine, parseRegistrationData,
  parseSignatureData, type CryptoEngine,
} from '../src/index.js';
import { certificateCacheSize, CERTIFICATE_CACHE_LIMIT, parseAttestationCertificate } from
  '../src/attestation/certificate.js';
import { BoundedCache } from '../src/engine.js';
import { keyCacheSize, KEY_CACHE_LIMIT } from '../src/node-engine.js';
import { buildRegistration, type Signer } from './builders.js';
import { b64u, codeOf, concat, hex, publicPoint, signDer, spec, u2fErrorOf } from './helpers.js';

const reg = spec.registration;
const parts = parseRegistrationData(hex(reg.registrationData));
const certificate = new Uint8Array(parts.certificate);
const attest: Signer = (m) => signDer(reg.attestationPrivateKey, m);
const APP = 'https://keybench.example';
const userPoint = publicPoint(reg.userPrivateKey);

/** A registration signed over its own parts, with the named parts replaced afterwards. */
function registerWith(o: { publicKey?: Uint8Array; certificate?: Uint8Array;
  signature?: Uint8Array; keyHandle?: Uint8Array }, engine: CryptoEngine = nodeEngine): string {
  const publicKey = o.publicKey ?? userPoint;
  const keyHandle = o.keyHandle ?? new Uint8Array(16).fill(7);
  const signer: Signer = o.signature === undefined ? attest : () => o.signature as Uint8Array;
  const { request, response } = buildRegistration({ appId: APP, challenge: reg.challenge,
    keyHandle, publicKey, certificate: o.certificate ?? certificate, attest: signer });
  return codeOf(() => completeRegistration(request, response, { engine }));
}

const N = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551';
const derSig = (r: string, s: string): Uint8Array => {
  const int = (v: string): Uint8Array => concat(new Uint8Array([0x02, v.length / 2]), hex(v));
  const body = concat(int(r), int(s));
  return concat(new Uint8Array([0x30, body.length]), body);
};
const ONE = '01';

describe('ECDSA signatures at the edges of the range, on both engines', () => {
  const cases: [string, Uint8Array][] = [
    ['r = 0', derSig('00', ONE)],
    ['s = 0', derSig(ONE, '00')],
    ['r = n', derSig(`00${N}`, ONE)],
    ['s = n', derSig(ONE, `00${N}`)],
    ['r = 2^256 - 1', derSig(`00${'ff'.repeat(32)}`, ONE)],
    ['r = s = 1', derSig(ONE, ONE)],
  ];
  for (const engine of [nodeEngine, nobleEngine]) {
    for (const [what, signature] of cases) {
      it(`${what} is a canonical DER value that does not verify (${engine.name})`, () => {
        expect(registerWith({ signature }, engine)).toBe('BAD_SIGNATURE');
      });
    }
  }

  it.each([
    ['r padded with a superfluous 00', derSig('0001', ONE), /leading zero/],
    ['r negative', derSig('81', ONE), /negative/],
    ['s negative', derSig(ONE, 'ff'), /negative/],
    ['r of 0 bytes', derSig('', ONE), /0 bytes/],
    ['r of 34 bytes', derSig(`0000${'11'.repeat(32)}`, ONE), /34/],
  ])('refuses %s before any engine sees it', (_what, signature, message) => {
    const error = u2fErrorOf(() => parseRegistrationData(concat(hex('05'), userPoint,
      hex('01ff'), certificate, signature)));
    expect(error.code).toBe('BAD_REGISTRATION_DATA');
    expect(error.message).toMatch(message);
  });
});

describe('user public keys that are not P-256 points', () => {
  const point = (prefix: number, fill: number): Uint8Array =>
    concat(new Uint8Array([prefix]), new Uint8Array(64).fill(fill));
  const P = 'ffffffff00000001000000000000000000000000ffffffffffffffffffffffff';

  it.each([
    ['the identity written as 04 and zeros', point(0x04, 0), 'BAD_PUBLIC_KEY'],
    ['a point off the curve', point(0x04, 1), 'BAD_PUBLIC_KEY'],
    ['coordinates equal to p', concat(hex('04'), hex(P), hex(P)), 'BAD_PUBLIC_KEY'],
    ['a compressed prefix 02', concat(hex('02'), userPoint.subarray(1)), 'BAD_REGISTRATION_DATA'],
    ['a compressed prefix 03', concat(hex('03'), userPoint.subarray(1)), 'BAD_REGISTRATION_DATA'],
    ['the SEC1 infinity byte 00', point(0x00, 0), 'BAD_REGISTRATION_DATA'],
  ])('refuses %s even when the attestation signs it', (_what, publicKey, code) => {
    expect(registerWith({ publicKey })).toBe(code);
    expect(registerWith({ publicKey }, nobleEngine)).toBe(code);
  });
});

describe('certificate lengths and contents', () => {
  const withHeader = (header: string): Uint8Array => concat(hex(header), certificate.subarray(4));

  it.each([
    ['an indefinite length (30 80)', withHeader('3080'), 'BAD_REGISTRATION_DATA'],
    ['a non-minimal long form (30 82 00 05)', concat(hex('3082000530030201'),
      certificate.subarray(8)), 'BAD_REGISTRATION_DATA'],
    ['five length bytes (30 85 …)', withHeader('30850000000140'), 'BAD_REGISTRATION_DATA'],
    ['a length past the data (30 82 1f ff)', withHeader('30821fff'), 'BAD_REGISTRATION_DATA'],
    ['a length over the certificate limit (30 84 7f ff ff ff)', withHeader('30847fffffff'),
      'TOO_LARGE'],
  ])('refuses %s', (_what, cert, code) => {
    expect(registerWith({ certificate: cert })).toBe(code);
  });

  it('refuses a certificate whose TBS uses an indefinite length inside (BAD_CERTIFICATE)', () => {
    const cert = new Uint8Array(certificate);
    expect([...cert.subarray(4, 7)]).toEqual([0x30, 0x81, 0xe4]);
    cert.set([0x30, 0x80, 0x00], 4);
    expect(registerWith({ certificate: cert })).toBe('BAD_CERTIFICATE');
  });

  it('refuses a well-formed certificate larger than the limit with TOO_LARGE', () => {
    const size = LIMITS.CERTIFICATE_BYTES + 1;
    const big = concat(hex(`3082${size.toString(16).padStart(4, '0')}`), new Uint8Array(size));
    const error = u2fErrorOf(() => parseRegistrationData(concat(hex('05'), userPoint,
      hex('01ff'), big, derSig(ONE, ONE))));
    expect(error.code).toBe('TOO_LARGE');
    expect(error.actual).toBe(`${size} bytes`);
  });
});

describe('key handle and signatureData lengths', () => {
  it('refuses a key handle length of 0 and accepts 255 (a 256th byte cannot be said)', () => {
    expect(registerWith({ keyHandle: new Uint8Array(0) })).toBe('BAD_REGISTRATION_DATA');
    expect(registerWith({ keyHandle: new Uint8Array(255).fill(1) })).toBe('OK');
    // 256 bytes: the length byte wraps to 0, so the layout itself is refused.
    expect(registerWith({ keyHandle: new Uint8Array(256).fill(1) })).toBe('BAD_REGISTRATION_DATA');
  });

  it.each([
    ['nothing', '', /userPresence needs 1/],
    ['4 bytes (no room for the counter)', '01000000', /counter needs 4/],
    ['5 bytes (no signature)', '0100000001', /0 byte/],
  ])('refuses signatureData of %s', (_what, data, message) => {
    const error = u2fErrorOf(() => parseSignatureData(hex(data)));
    expect(error.code).toBe('BAD_SIGNATURE_DATA');
    expect(error.message).toMatch(message);
  });
});

describe('caches stay bounded under attacker-chosen inputs', () => {
  it('BoundedCache forgets the oldest entry past its limit', () => {
    const cache = new BoundedCache<number, number>(3);
    for (let i = 0; i < 10; i++) cache.set(i, i);
    expect(cache.size).toBe(3);
    expect(cache.has(6)).toBe(false);
    expect(cache.get(9)).toBe(9);
  });

  it('the certificate cache holds at most its limit of distinct certificates', () => {
    for (let i = 0; i < CERTIFICATE_CACHE_LIMIT + 40; i++) {
      const cert = new Uint8Array(certificate);
      // The last two bytes of the 10-byte serial number (offsets 14..23): distinct bytes,
      // still a parseable certificate.
      cert[22] = i >> 8;
      cert[23] = i & 0xff;
      parseAttestationCertificate(cert);
    }
    expect(certificateCacheSize()).toBe(CERTIFICATE_CACHE_LIMIT);
  });

  it('the KeyObject cache holds at most its limit of distinct points', () => {
    const message = new Uint8Array(1);
    const signature = derSig(ONE, ONE);
    for (let i = 0; i < KEY_CACHE_LIMIT + 100; i++) {
      const point = new Uint8Array(65).fill(1);
      point[0] = 0x04;
      new DataView(point.buffer).setUint32(1, i);
      expect(nodeEngine.verifyP256(point, message, signature)).toBe(false);
    }
    expect(keyCacheSize()).toBe(KEY_CACHE_LIMIT);
  });
});

describe('registration data of any size', () => {
  it('refuses 10 MB of registrationData with TOO_LARGE before decoding it', () => {
    const { request, response } = buildRegistration({ appId: APP, challenge: reg.challenge,
      keyHandle: new Uint8Array(8), publicKey: userPoint, certificate, attest });
    const error = u2fErrorOf(() => completeRegistration(request, { ...response,
      registrationData: b64u(new Uint8Array(10_000_000)) }));
    expect(error.code).toBe('TOO_LARGE');
    expect(error.field).toBe('response.registrationData');
  });
});
