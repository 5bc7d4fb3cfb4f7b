import { describe, expect, it } from 'vitest';

import { completeAuthentication, completeRegistration, nobleEngine,
  nodeEngine } from '../src/index.js';
import { b64u, codeOf, hex, REGISTER_TYP, SIGN_TYP, spec, specClientData } from './helpers.js';
import java from './vectors/java-u2flib.json' with { type: 'json' };

const reg = spec.registration;
const auth = spec.authentication;
const facets = ['http://example.com'];
const regRequest = { appId: reg.appId, registerRequests: [{ version: 'U2F_V2' as const,
  challenge: reg.challenge }], registeredKeys: [] };
const regClientData = b64u(specClientData(REGISTER_TYP, reg.challenge));

describe('java-u2flib-server vectors (server.md 4.2)', () => {
  for (const engine of [nodeEngine, nobleEngine]) {
    for (const name of ['registrationWithDifferentAppId',
      'registrationWithDifferentClientDataType'] as const) {
      it(`${name} fails with ${java[name].expectedCode} (${engine.name})`, () => {
        const response = { registrationData: b64u(hex(java[name].registrationData)),
          clientData: regClientData };
        expect(codeOf(() => completeRegistration(regRequest, response, { facets, engine })))
          .toBe(java[name].expectedCode);
      });
    }

    it(`AcmeKey ("Discretix") registers for http://example.com (${engine.name})`, () => {
      const response = { registrationData: b64u(hex(java.acmeKey.registrationData)),
        clientData: regClientData };
      const result = completeRegistration(regRequest, response, { facets, engine });
      expect(result.registration.keyHandle).toBe(java.acmeKey.keyHandle);
      expect(result.registration.publicKey).toBe(java.acmeKey.publicKey);
      expect(result.certificate.der.length).toBe(java.acmeKey.certificateLength);
      expect(result.certificate.issuer).toBe(java.acmeKey.certificateIssuer);
    });

    it(`SIGN_RESPONSE_INVALID_USER_PRESENCE: valid signature, UP=0 (${engine.name})`, () => {
      const v = java.signResponseInvalidUserPresence;
      const registration = { version: 'U2F_V2', keyHandle: auth.keyHandle,
        publicKey: b64u(hex(auth.publicKey)), appId: v.appId, transports: null };
      const request = { appId: v.appId, challenge: auth.challenge,
        registeredKeys: [{ version: 'U2F_V2', keyHandle: auth.keyHandle }] };
      const response = { keyHandle: auth.keyHandle, signatureData: b64u(hex(v.signatureData)),
        clientData: b64u(specClientData(SIGN_TYP, auth.challenge)) };
      expect(codeOf(() => completeAuthentication(request, response, [registration],
        { facets, engine }))).toBe('USER_NOT_PRESENT');
      const result = completeAuthentication(request, response, [registration],
        { facets, engine, requireUserPresence: false });
      expect(result.userPresence).toBe(v.expected.userPresence);
      expect(result.counter).toBe(v.expected.counter);
    });
  }
});
