import { describe, expect, it } from 'vitest';

import {
  appParam, completeAuthentication, completeRegistration, nobleEngine, nodeEngine,
  parseRegistrationData, parseSignatureData, type DeviceRegistration,
} from '../src/index.js';
import { b64u, hex, REGISTER_TYP, sha256hex, SIGN_TYP, spec, specClientData } from './helpers.js';

const reg = spec.registration;
const auth = spec.authentication;

describe('FIDO Raw Message Formats example (server.md 4.1)', () => {
  it('rebuilds both clientData byte for byte (SHA-256 as in the spec)', () => {
    expect(sha256hex(specClientData(REGISTER_TYP, reg.challenge))).toBe(reg.clientDataSha256);
    expect(sha256hex(specClientData(SIGN_TYP, auth.challenge))).toBe(auth.clientDataSha256);
  });

  it('hashes the appIds as UTF-8', () => {
    expect(Buffer.from(appParam(reg.appId)).toString('hex')).toBe(reg.appIdSha256);
    expect(Buffer.from(appParam(auth.appId)).toString('hex')).toBe(auth.appIdSha256);
  });

  it('hands out copies: mutating a returned appParam changes nothing', () => {
    const first = appParam(reg.appId);
    first.fill(0);
    expect(Buffer.from(appParam(reg.appId)).toString('hex')).toBe(reg.appIdSha256);
  });

  it('parses the registration data', () => {
    const data = parseRegistrationData(hex(reg.registrationData));
    expect(b64u(data.keyHandle)).toBe(reg.expected.keyHandle);
    expect(b64u(data.publicKey)).toBe(reg.expected.publicKey);
    expect(data.certificate.length).toBe(reg.expected.certificateLength);
    expect(data.signature.length).toBe(reg.expected.signatureLength);
  });

  for (const engine of [nodeEngine, nobleEngine]) {
    it(`completes the registration for http://example.com (${engine.name})`, () => {
      const request = {
        appId: reg.appId,
        registerRequests: [{ version: 'U2F_V2' as const, challenge: reg.challenge }],
        registeredKeys: [],
      };
      const response = {
        registrationData: b64u(hex(reg.registrationData)),
        clientData: b64u(specClientData(REGISTER_TYP, reg.challenge)),
        version: 'U2F_V2',
      };
      const result = completeRegistration(request, response,
        { facets: ['http://example.com'], engine });
      expect(result.registration).toEqual({
        version: 'U2F_V2', keyHandle: reg.expected.keyHandle, publicKey: reg.expected.publicKey,
        appId: reg.appId, transports: null,
      });
      expect(result.certificate.subject).toBe(reg.expected.certificateSubject);
      expect(result.certificate.issuer).toBe(reg.expected.certificateIssuer);
      expect(result.certificate.der.length).toBe(320);
      expect(result.attestation.trusted).toBe(false);
      expect(result.attestation.reasons).toContain('unknown-issuer');
    });

    it(`completes the authentication for the gstatic appId (${engine.name})`, () => {
      const registration: DeviceRegistration = {
        version: 'U2F_V2', keyHandle: auth.keyHandle, publicKey: b64u(hex(auth.publicKey)),
        appId: auth.appId, transports: null,
      };
      const request = { appId: auth.appId, challenge: auth.challenge,
        registeredKeys: [{ version: 'U2F_V2', keyHandle: auth.keyHandle, appId: auth.appId }] };
      const response = {
        keyHandle: auth.keyHandle,
        signatureData: b64u(hex(auth.signatureData)),
        clientData: b64u(specClientData(SIGN_TYP, auth.challenge)),
      };
      const result = completeAuthentication(request, response, [registration],
        { facets: ['http://example.com'], engine });
      expect(result.counter).toBe(1);
      expect(result.userPresence).toBe(1);
      expect(result.registration.counter).toBe(1);
      expect(result.counterVerdict).toEqual({ ok: true, current: 1 });
      expect(registration.counter).toBeUndefined();
    });
  }

  it('traces each message in hex through the optional hook', () => {
    const steps: string[] = [];
    const request = { appId: reg.appId, registerRequests: [{ version: 'U2F_V2' as const,
      challenge: reg.challenge }], registeredKeys: [] };
    completeRegistration(request, { registrationData: b64u(hex(reg.registrationData)),
      clientData: b64u(specClientData(REGISTER_TYP, reg.challenge)) },
    { trace: (step, detail) => steps.push(`${step}:${(detail['hex'] ?? '').slice(0, 6)}`) });
    expect(steps).toEqual(['clientData:7b2274', 'registrationData:0504b1']);
  });

  it('parses the signature data', () => {
    const data = parseSignatureData(hex(auth.signatureData));
    expect(data.userPresence).toBe(auth.expected.userPresence);
    expect(data.counter).toBe(auth.expected.counter);
  });
});
