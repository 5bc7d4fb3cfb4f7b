import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

import { p256 } from '@noble/curves/nist.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { isOnP256 } from '../src/p256-point.js';

import {
  appParam, authenticationSignedBytes, checkEcdsaDer, nobleEngine, nodeEngine,
  parseAttestationCertificate,
  parseRegistrationData, parseSignatureData, registrationSignedBytes, type CryptoEngine,
} from '../src/index.js';
import { hex, sha256, spec, specClientData, REGISTER_TYP, SIGN_TYP } from './helpers.js';
import java from './vectors/java-u2flib.json' with { type: 'json' };

interface Case {
  name: string;
  point: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

/** The library's answer: canonical DER first, then the engine. */
function answer(engine: CryptoEngine, c: Case): boolean {
  try {
    checkEcdsaDer(c.signature, 'signature', 'BAD_SIGNATURE_DATA');
  } catch {
    return false;
  }
  return engine.verifyP256(c.point, c.message, c.signature);
}

function toHighS(der: Uint8Array): Uint8Array {
  const sig = p256.Signature.fromBytes(der, 'der');
  const n = p256.Point.CURVE().n;
  return sig.s > n / 2n ? der : new p256.Signature(sig.r, n - sig.s).toBytes('der');
}

function pointOf(key: KeyObject): Uint8Array {
  const spki = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - 65));
}

function vectorCases(): Case[] {
  const reg = spec.registration;
  const data = parseRegistrationData(hex(reg.registrationData));
  const certPoint = parseAttestationCertificate(data.certificate).publicKeyPoint as Uint8Array;
  const regMessage = registrationSignedBytes(appParam(reg.appId),
    sha256(specClientData(REGISTER_TYP, reg.challenge)), data.keyHandle, data.publicKey);
  const auth = spec.authentication;
  const sd = parseSignatureData(hex(auth.signatureData));
  const authMessage = authenticationSignedBytes(appParam(auth.appId), sd.flagsAndCounter,
    sha256(specClientData(SIGN_TYP, auth.challenge)));
  const base: Case[] = [
    { name: 'spec registration', point: certPoint, message: regMessage,
      signature: data.signature },
    { name: 'spec authentication', point: hex(auth.publicKey), message: authMessage,
      signature: sd.signature },
  ];
  const acme = parseRegistrationData(hex(java.acmeKey.registrationData));
  const javaCases: Case[] = [
    { name: 'java AcmeKey', point: parseAttestationCertificate(acme.certificate)
      .publicKeyPoint as Uint8Array, message: registrationSignedBytes(appParam(reg.appId),
      sha256(specClientData(REGISTER_TYP, reg.challenge)), acme.keyHandle, acme.publicKey),
    signature: acme.signature },
    ...(['registrationWithDifferentAppId', 'registrationWithDifferentClientDataType'] as const)
      .map((name) => ({ name: `java ${name}`, point: certPoint, message: regMessage,
        signature: parseRegistrationData(hex(java[name].registrationData)).signature })),
    (() => {
      const up = parseSignatureData(hex(java.signResponseInvalidUserPresence.signatureData));
      return { name: 'java invalid user presence', point: hex(auth.publicKey),
        message: authenticationSignedBytes(appParam(auth.appId), up.flagsAndCounter,
          sha256(specClientData(SIGN_TYP, auth.challenge))), signature: up.signature };
    })(),
  ];
  return [...javaCases, ...base.flatMap((c) => [
    c,
    { ...c, name: `${c.name} high-S`, signature: toHighS(c.signature) },
    { ...c, name: `${c.name} other message`, message: sha256(c.message) },
    { ...c, name: `${c.name} wrong key`, point: p256.getPublicKey(hex('01'.repeat(32)), false) },
  ])];
}

function randomCases(count: number): Case[] {
  const keys = Array.from({ length: 16 }, () => generateKeyPairSync('ec',
    { namedCurve: 'prime256v1' }));
  const out: Case[] = [];
  for (let i = 0; i < count; i++) {
    const key = keys[i % keys.length]!;
    const message = sha256(`message ${i}`).subarray(0, 10 + (i % 22));
    let signature: Uint8Array = new Uint8Array(sign('sha256', message, { key: key.privateKey,
      dsaEncoding: 'der' }));
    let point = pointOf(key.publicKey);
    let msg: Uint8Array = new Uint8Array(message);
    switch (i % 5) {
      case 1: signature = toHighS(signature); break;
      case 2: msg = sha256(message); break;
      case 3: point = pointOf(keys[(i + 1) % keys.length]!.publicKey); break;
      case 4: {
        signature = new Uint8Array(signature);
        const at = 4 + (i % (signature.length - 4));
        signature[at] = (signature[at] as number) ^ (1 << (i % 8));
        break;
      }
      default: break;
    }
    out.push({ name: `random ${i} kind ${i % 5}`, point, message: msg, signature });
  }
  return out;
}

describe('node and noble engines agree', () => {
  it('on every vector, with the expected answers', () => {
    const cases = vectorCases();
    const node = cases.map((c) => answer(nodeEngine, c));
    const noble = cases.map((c) => answer(nobleEngine, c));
    expect(noble).toEqual(node);
    expect(node).toEqual([true, false, false, true,
      true, true, false, false, true, true, false, false]);
  });

  it('on 1,000 random signatures (valid, high-S, wrong message, wrong key, bit flips)', () => {
    const cases = randomCases(1000);
    const node = cases.map((c) => answer(nodeEngine, c));
    const noble = cases.map((c) => answer(nobleEngine, c));
    const disagreements = cases.filter((_, i) => node[i] !== noble[i]).map((c) => c.name);
    expect(disagreements).toEqual([]);
    expect(node.filter((_, i) => i % 5 === 0 || i % 5 === 1).every(Boolean)).toBe(true);
    expect(node.filter((_, i) => i % 5 === 2 || i % 5 === 3).some(Boolean)).toBe(false);
  });

  it('on point validity', () => {
    const good = hex(spec.authentication.publicKey);
    const offCurve = new Uint8Array(good);
    offCurve[64] = (offCurve[64] as number) ^ 1;
    const compressedPrefix = new Uint8Array(good);
    compressedPrefix[0] = 2;
    for (const p of [good, offCurve, compressedPrefix, new Uint8Array(65), good.subarray(1)]) {
      expect(nobleEngine.isValidPoint(p)).toBe(nodeEngine.isValidPoint(p));
    }
    expect(nodeEngine.isValidPoint(good)).toBe(true);
    expect(nodeEngine.isValidPoint(offCurve)).toBe(false);
  });

  it('on the BigInt curve check and noble, for real, mutated and random points', () => {
    const real = Array.from({ length: 20 }, () => pointOf(generateKeyPairSync('ec',
      { namedCurve: 'prime256v1' }).publicKey));
    fc.assert(fc.property(fc.nat({ max: 19 }), fc.nat({ max: 64 }), fc.nat({ max: 255 }),
      (which, at, value) => {
        const point = new Uint8Array(real[which]!);
        expect(isOnP256(point)).toBe(true);
        point[at] = value;
        expect(isOnP256(point)).toBe(nobleEngine.isValidPoint(point));
      }), { numRuns: 300 });
    fc.assert(fc.property(fc.uint8Array({ minLength: 65, maxLength: 65 }), (point) => {
      point[0] = 4;
      expect(isOnP256(point)).toBe(nobleEngine.isValidPoint(point));
    }), { numRuns: 200 });
    const p = hex('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff');
    const overflow = new Uint8Array(65);
    overflow[0] = 4;
    overflow.set(p, 1);
    expect(isOnP256(overflow)).toBe(false);
    expect(nobleEngine.isValidPoint(overflow)).toBe(false);
  });
});
