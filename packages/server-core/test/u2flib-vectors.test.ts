import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import {
  appParam, completeAuthentication, completeRegistration, nobleEngine, nodeEngine,
  parseAttestationCertificate, parseRegistrationData, parseSignatureData, U2fError,
  verifyAttestation,
} from '../src/index.js';
import { b64u } from './helpers.js';
import v from './vectors/u2flib.json' with { type: 'json' };

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64url'));

describe('python-u2flib-server 5.0.0 vectors (server.md 4.3)', () => {
  for (const engine of [nodeEngine, nobleEngine]) {
    it(`test_register_fixed_values registers with transports usb, nfc (${engine.name})`, () => {
      const r = v.registerFixedValues;
      const result = completeRegistration({ version: 'U2F_V2', challenge: r.challenge,
        appId: r.appId }, { version: 'U2F_V2', registrationData: r.registrationData,
        clientData: r.clientData }, { engine });
      expect(result.registration.transports).toEqual(r.expected.transports);
      expect(result.certificate.subject).toBe(r.expected.certificateSubject);
      expect(result.certificate.issuer).toBe(r.expected.certificateIssuer);
      expect(result.attestation.trusted).toBe(false);
    });

    it(`test_authenticate_fixed_values verifies; UP=0 needs requireUserPresence false ` +
      `(${engine.name})`, () => {
      const a = v.authenticateFixedValues;
      const device = { version: 'U2F_V2', publicKey: a.publicKey, keyHandle: a.keyHandle,
        appId: a.appId, transports: null };
      const request = { appId: a.appId, challenge: a.challenge, registeredKeys: [
        { version: 'U2F_V2', keyHandle: a.keyHandle, appId: a.appId }] };
      const response = { keyHandle: a.keyHandle, signatureData: a.signatureData,
        clientData: a.clientData };
      const facets = [a.origin];
      expect(() => completeAuthentication(request, response, [device], { facets, engine }))
        .toThrow(expect.objectContaining({ code: 'USER_NOT_PRESENT' }));
      const result = completeAuthentication(request, response, [device], { facets, engine,
        requireUserPresence: false });
      expect(result.userPresence).toBe(a.expected.userPresence);
      expect(result.counter).toBe(a.expected.counter);
    });
  }

  it('test_authenticate_fixed_values: the appId differs from the origin, so default facets ' +
    'reject it', () => {
    const a = v.authenticateFixedValues;
    const device = { version: 'U2F_V2', publicKey: a.publicKey, keyHandle: a.keyHandle,
      appId: a.appId, transports: null };
    expect(() => completeAuthentication({ appId: a.appId, challenge: a.challenge,
      registeredKeys: [{ version: 'U2F_V2', keyHandle: a.keyHandle }] }, {
      keyHandle: a.keyHandle, signatureData: a.signatureData, clientData: a.clientData },
    [device], { requireUserPresence: false })).toThrow(U2fError);
  });

  it('SAMPLE_REG_DATA: 64-byte handle, 395-byte self-signed SHA-1 certificate, 72-byte ' +
    'signature', () => {
    const s = v.sampleRegData;
    const data = parseRegistrationData(bytes(s.registrationData));
    expect(data.keyHandle.length).toBe(s.expected.keyHandleLength);
    expect(data.certificate.length).toBe(s.expected.certificateLength);
    expect(data.signature.length).toBe(s.expected.signatureLength);
    const cert = parseAttestationCertificate(data.certificate);
    expect(cert.subject).toBe(s.expected.certificateSubject);
    expect(cert.fixed).toBe(false);
    expect(verifyAttestation(cert).reasons).toEqual(['self-signed', 'sha1-signature']);
  });

  it('SAMPLE_REG_DATA_NEEDS_FIX: the Yubico certificate is repaired and then chains to the ' +
    'shipped Yubico root', () => {
    const s = v.sampleRegDataNeedsFix;
    const data = parseRegistrationData(bytes(s.registrationData));
    const received = createHash('sha256').update(data.certificate).digest('hex');
    expect(received.startsWith(s.expected.receivedSha256Prefix)).toBe(true);
    expect(data.certificate[data.certificate.length - 257]).toBe(s.expected.unusedBitsByte);

    const cert = parseAttestationCertificate(data.certificate);
    expect(cert.fixed).toBe(true);
    expect(cert.fingerprint.startsWith(s.expected.patchedSha256Prefix)).toBe(true);
    expect(cert.subject).toBe(s.expected.certificateSubject);
    expect(data.certificate[data.certificate.length - 257]).toBe(s.expected.unusedBitsByte);

    const verdict = verifyAttestation(cert);
    expect(verdict.trusted).toBe(true);
    expect(verdict.vendor?.name).toBe('Yubico');
    expect(verdict.deviceName).toBe(s.expected.deviceName);
    expect(verdict.transports).toEqual(['usb']);
  });

  it('SAMPLE_SIG_DATA and the fixed signatureData parse (UP 0, counter 1)', () => {
    for (const s of [v.sampleSigData.signatureData, v.authenticateFixedValues.signatureData]) {
      const data = parseSignatureData(bytes(s));
      expect(data.userPresence).toBe(0);
      expect(data.counter).toBe(1);
    }
  });

  it('applicationParameter of https://example.com', () => {
    expect(b64u(appParam(v.applicationParameter.appId))).toBe(v.applicationParameter.value);
  });

  it('the fixed public key is on P-256', () => {
    expect(nodeEngine.isValidPoint(bytes(v.authenticateFixedValues.publicKey))).toBe(true);
  });
});
