import { describe, expect, it } from 'vitest';

import { beginAuthentication, completeAuthentication, completeRegistration, nobleEngine,
  nodeEngine } from '../src/index.js';
import v from './vectors/tstranex-yubikey.json' with { type: 'json' };

describe('a real YubiKey with Chrome (tstranex TestFull, server.md 4.5)', () => {
  for (const engine of [nodeEngine, nobleEngine]) {
    it(`registers, trusted through the shipped Yubico root, then authenticates (${engine.name})`,
      () => {
        const request = { appId: v.appId, registerRequests: [{ version: 'U2F_V2' as const,
          challenge: v.registerChallenge }], registeredKeys: [] };
        const reg = completeRegistration(request, v.registerResponse,
          { engine, requireTrustedAttestation: true });
        expect(reg.certificate.subject).toBe(v.expected.certificateSubject);
        expect(reg.attestation.vendor?.name).toBe('Yubico');
        expect(reg.attestation.deviceName).toBe(v.expected.deviceName);

        const signRequest = beginAuthentication({ appId: v.appId,
          registrations: [reg.registration], challenge: v.signChallenge });
        const result = completeAuthentication(signRequest, v.signResponse, [reg.registration],
          { engine });
        expect(result.counter).toBe(v.expected.counter);

        expect(() => completeAuthentication(signRequest, v.signResponse,
          [{ ...reg.registration, counter: 7 }], { engine })).toThrow(expect.objectContaining({
          code: 'COUNTER_NOT_INCREASED', previous: 7, current: 6 }));
      });
  }
});
