import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  completeAuthentication, completeRegistration, parseClientData, parseRegistrationData,
  parseSignatureData, U2fError, type DeviceRegistration,
} from '../src/index.js';
import { b64u, hex, spec, specClientData, REGISTER_TYP, SIGN_TYP } from './helpers.js';

const reg = spec.registration;
const auth = spec.authentication;
const regRequest = { appId: reg.appId, registerRequests: [{ version: 'U2F_V2' as const,
  challenge: reg.challenge }], registeredKeys: [] };
const regData = hex(reg.registrationData);
const regClientData = Buffer.from(specClientData(REGISTER_TYP, reg.challenge));
const signRequest = { appId: auth.appId, challenge: auth.challenge,
  registeredKeys: [{ version: 'U2F_V2', keyHandle: auth.keyHandle, appId: auth.appId }] };
const registration: DeviceRegistration = { version: 'U2F_V2', keyHandle: auth.keyHandle,
  publicKey: b64u(hex(auth.publicKey)), appId: auth.appId, transports: null, counter: 0 };
const sigData = hex(auth.signatureData);
const signClientData = Buffer.from(specClientData(SIGN_TYP, auth.challenge));
const facets = ['http://example.com'];

/** Runs `f`; any throw other than U2fError fails the property. */
function onlyU2fError(f: () => unknown): void {
  try {
    f();
  } catch (error) {
    if (!(error instanceof U2fError)) {
      throw new Error(`escaped ${(error as Error)?.constructor?.name}: ${String(error)}`);
    }
    expect(typeof error.code).toBe('string');
  }
}

/** A byte-level mutation: flip, set, delete, insert, truncate or extend. */
const mutation = fc.tuple(fc.integer({ min: 0, max: 5 }), fc.nat(), fc.integer({ min: 0,
  max: 255 }));

function mutate(bytes: Uint8Array, steps: [number, number, number][]): Uint8Array {
  let out = Array.from(bytes);
  for (const [kind, where, value] of steps) {
    const at = out.length === 0 ? 0 : where % out.length;
    if (kind === 0 && out.length > 0) out[at] = (out[at] as number) ^ (1 << (value % 8));
    else if (kind === 1 && out.length > 0) out[at] = value;
    else if (kind === 2) out.splice(at, 1);
    else if (kind === 3) out.splice(at, 0, value);
    else if (kind === 4) out = out.slice(0, at);
    else out.push(value);
  }
  return new Uint8Array(out);
}

const RUNS = { numRuns: 300 };

describe('only U2fError escapes for bad input', () => {
  it('random JSON values as registration and sign responses', () => {
    fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.json(), fc.string(),
      fc.record({ registrationData: fc.string(), clientData: fc.string(),
        keyHandle: fc.string(), signatureData: fc.string(),
        errorCode: fc.option(fc.oneof(fc.integer(), fc.string())) })), (response) => {
      onlyU2fError(() => completeRegistration(regRequest, response as never, { facets }));
      onlyU2fError(() => completeAuthentication(signRequest, response as never, [registration],
        { facets }));
    }), RUNS);
  });

  it('random JSON values as requests', () => {
    const response = { registrationData: b64u(regData), clientData: b64u(regClientData) };
    fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.json()), (request) => {
      onlyU2fError(() => completeRegistration(request as never, response, { facets }));
      onlyU2fError(() => completeAuthentication(request as never, { keyHandle: auth.keyHandle,
        signatureData: b64u(sigData), clientData: b64u(signClientData) }, [registration]));
    }), RUNS);
  });

  it('mutated registration data and clientData', () => {
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(),
      (steps, mutateClientData) => {
        const data = mutateClientData ? regData : mutate(regData, steps);
        const clientData = mutateClientData ? mutate(regClientData, steps) : regClientData;
        onlyU2fError(() => completeRegistration(regRequest, { registrationData: b64u(data),
          clientData: b64u(clientData) }, { facets }));
        onlyU2fError(() => parseRegistrationData(data));
      }), RUNS);
  });

  it('mutated signature data, clientData and key handle', () => {
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 0, max: 2 }), (steps, target) => {
        const data = target === 0 ? mutate(sigData, steps) : sigData;
        const clientData = target === 1 ? mutate(signClientData, steps) : signClientData;
        const keyHandle = target === 2 ? b64u(mutate(Buffer.from(auth.keyHandle, 'base64url'),
          steps)) : auth.keyHandle;
        onlyU2fError(() => completeAuthentication(signRequest, { keyHandle,
          signatureData: b64u(data), clientData: b64u(clientData) }, [registration],
        { facets }));
        onlyU2fError(() => parseSignatureData(data));
        onlyU2fError(() => parseClientData(clientData));
      }), RUNS);
  });

  it('mutated stored registrations', () => {
    fc.assert(fc.property(fc.record({ keyHandle: fc.string(), publicKey: fc.string(),
      appId: fc.string(), counter: fc.option(fc.integer()) }), (over) => {
      onlyU2fError(() => completeAuthentication(signRequest, { keyHandle: auth.keyHandle,
        signatureData: b64u(sigData), clientData: b64u(signClientData) },
      [{ ...registration, ...over } as DeviceRegistration], { facets }));
    }), RUNS);
  });

  it('never changes a successful answer into a different one when nothing is mutated', () => {
    const result = completeAuthentication(signRequest, { keyHandle: auth.keyHandle,
      signatureData: b64u(sigData), clientData: b64u(signClientData) }, [registration],
    { facets });
    expect(result.counter).toBe(1);
  });
});
