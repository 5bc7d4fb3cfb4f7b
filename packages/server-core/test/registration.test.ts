import { describe, expect, it } from 'vitest';

import {
  beginRegistration, completeRegistration, MemoryChallengeStore, parseRegistrationData,
  type RegistrationOptions,
} from '../src/index.js';
import { buildRegistration, type Signer } from './builders.js';
import { b64u, codeOf, hex, publicPoint, signDer, spec, specClientData,
  REGISTER_TYP } from './helpers.js';

const reg = spec.registration;
const specData = parseRegistrationData(hex(reg.registrationData));
const gnubbyCert = new Uint8Array(specData.certificate);
const attest: Signer = (m) => signDer(reg.attestationPrivateKey, m);
const attestHighS: Signer = (m) => signDer(reg.attestationPrivateKey, m, true);
const userPoint = publicPoint(reg.userPrivateKey);
const CHALLENGE = reg.challenge;
const APP = 'https://keybench.example';
const opts: RegistrationOptions = {};

function build(over: Partial<Parameters<typeof buildRegistration>[0]> = {}) {
  return buildRegistration({ appId: APP, challenge: CHALLENGE,
    keyHandle: new Uint8Array(64).fill(9),
    publicKey: userPoint, certificate: gnubbyCert, attest, ...over });
}

describe('beginRegistration', () => {
  it('issues a 32-byte base64url challenge without padding', () => {
    const request = beginRegistration({ appId: APP });
    expect(request.registerRequests[0]?.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(request.registerRequests[0]?.version).toBe('U2F_V2');
    expect(request.appId).toBe(APP);
  });

  it('sends only key data of registered keys', () => {
    const request = beginRegistration({ appId: APP, challenge: new Uint8Array(32),
      registeredKeys: [{ version: 'U2F_V2', keyHandle: 'AAAA', appId: APP, transports: ['usb'],
        publicKey: 'secret', counter: 5 } as never] });
    expect(request.registeredKeys).toEqual([{ version: 'U2F_V2', keyHandle: 'AAAA', appId: APP,
      transports: ['usb'] }]);
  });
});

describe('completeRegistration', () => {
  it('accepts a well-formed registration (defaults facets to the appId origin)', () => {
    const { request, response } = build();
    const result = completeRegistration(request, response, opts);
    expect(result.registration.appId).toBe(APP);
    expect(result.registration.transports).toBeNull();
    expect(result.publicKey).toEqual(userPoint);
  });

  it('accepts request and response as JSON text, and a response without version', () => {
    const { request, response } = build();
    const { version: _v, ...v10 } = response;
    expect(codeOf(() => completeRegistration(JSON.stringify(request), JSON.stringify(v10))))
      .toBe('OK');
  });

  it('accepts a v1.0 request {version, challenge, appId} and a 4.x wrapped one', () => {
    const { response } = build();
    expect(codeOf(() => completeRegistration({ version: 'U2F_V2', challenge: CHALLENGE,
      appId: APP }, response))).toBe('OK');
    expect(codeOf(() => completeRegistration({ registerRequests: [{ version: 'U2F_V2',
      challenge: CHALLENGE, appId: APP }], authenticateRequests: [] }, response))).toBe('OK');
  });

  for (const length of [1, 64, 255]) {
    it(`accepts a key handle of ${length} bytes`, () => {
      const { request, response } = build({ keyHandle: new Uint8Array(length).fill(3) });
      expect(completeRegistration(request, response).keyHandle.length).toBe(length);
    });
  }

  it('rejects a key handle length of 0', () => {
    const { request, response } = build({ keyHandle: new Uint8Array(0) });
    expect(codeOf(() => completeRegistration(request, response))).toBe('BAD_REGISTRATION_DATA');
  });

  it('rejects a key handle length that runs past the data', () => {
    const { data, request } = build();
    const cut = data.subarray(0, 67 + 10);
    expect(codeOf(() => completeRegistration(request, { registrationData: b64u(cut),
      clientData: build().response.clientData }))).toBe('BAD_REGISTRATION_DATA');
  });

  it('rejects a reserved byte other than 0x05', () => {
    const { request, response } = build({ reserved: 0x04 });
    expect(() => completeRegistration(request, response))
      .toThrow(/reserved byte 0x04, expected 0x05/);
  });

  it('rejects bytes after the signature', () => {
    const { request, response } = build({ trailing: new Uint8Array([0]) });
    expect(() => completeRegistration(request, response)).toThrow(expect.objectContaining({
      code: 'BAD_REGISTRATION_DATA' }));
  });

  it('accepts a high-S attestation signature', () => {
    const { request, response } = build({ attest: attestHighS });
    expect(codeOf(() => completeRegistration(request, response))).toBe('OK');
  });

  it('rejects a user key that is not on the curve', () => {
    const offCurve = new Uint8Array(userPoint);
    offCurve[64] = (offCurve[64] as number) ^ 1;
    const { request, response } = build({ publicKey: offCurve });
    expect(codeOf(() => completeRegistration(request, response))).toBe('BAD_PUBLIC_KEY');
  });

  it('rejects a compressed-point prefix', () => {
    const bad = new Uint8Array(userPoint);
    bad[0] = 0x02;
    const { request, response } = build({ publicKey: bad });
    expect(codeOf(() => completeRegistration(request, response))).toBe('BAD_REGISTRATION_DATA');
  });

  it('rejects a signature made for another appId (BAD_SIGNATURE)', () => {
    const { request, response } = build({ signedAppId: 'https://other.example' });
    expect(codeOf(() => completeRegistration(request, response))).toBe('BAD_SIGNATURE');
  });

  it('rejects the authentication typ (CLIENT_DATA_TYPE)', () => {
    const { request, response } = build({ typ: 'navigator.id.getAssertion' });
    expect(() => completeRegistration(request, response)).toThrow(expect.objectContaining({
      code: 'CLIENT_DATA_TYPE', expected: REGISTER_TYP }));
  });

  it('rejects another challenge (CHALLENGE_MISMATCH)', () => {
    const { request, response } = build({ challenge: b64u(new Uint8Array(32).fill(1)) });
    request.registerRequests[0]!.challenge = CHALLENGE;
    expect(codeOf(() => completeRegistration(request, response))).toBe('CHALLENGE_MISMATCH');
  });

  it('compares challenges as bytes: a padded spelling matches', () => {
    const padded = b64u(new Uint8Array(32).fill(2)) + '=';
    const { request, response } = build({ challenge: padded });
    request.registerRequests[0]!.challenge = b64u(new Uint8Array(32).fill(2));
    expect(codeOf(() => completeRegistration(request, response))).toBe('OK');
  });

  it('rejects an origin outside the facets, and everything with an empty facet list', () => {
    const { request, response } = build({ origin: 'https://evil.example' });
    expect(codeOf(() => completeRegistration(request, response))).toBe('ORIGIN_NOT_ALLOWED');
    const ok = build();
    expect(codeOf(() => completeRegistration(ok.request, ok.response, { facets: [] })))
      .toBe('ORIGIN_NOT_ALLOWED');
  });

  it('accepts an appId with a path, default port written out, and upper-case host', () => {
    const appId = 'https://keybench.example/u2f/app-id.json';
    const { request, response } = build({ appId, origin: 'https://KeyBench.example:443' });
    expect(codeOf(() => completeRegistration(request, response))).toBe('OK');
  });

  it('accepts extra clientData members and any cid_pubkey form', () => {
    for (const cid of ['unused', '', { kty: 'EC' }]) {
      const clientDataText = JSON.stringify({ typ: REGISTER_TYP, challenge: CHALLENGE,
        origin: APP, cid_pubkey: cid, extra: [1, 2] });
      const { request, response } = build({ clientDataText });
      expect(codeOf(() => completeRegistration(request, response))).toBe('OK');
    }
  });

  it('hashes the clientData bytes as received (escaped slashes, other key order)', () => {
    const clientDataText = `{"origin":"https:\\/\\/keybench.example","challenge":"${CHALLENGE}",` +
      `"typ":"${REGISTER_TYP}"}`;
    const { request, response } = build({ clientDataText });
    expect(codeOf(() => completeRegistration(request, response))).toBe('OK');
  });

  it('rejects clientData that is not UTF-8 JSON object', () => {
    const { request, response } = build();
    for (const bad of [new Uint8Array([0xff, 0xfe]), Buffer.from('[1]'), Buffer.from('{')]) {
      expect(codeOf(() => completeRegistration(request, { ...response,
        clientData: b64u(bad) }))).toBe('CLIENT_DATA_INVALID');
    }
  });

  for (const errorCode of [4, '4', 'DEVICE_INELIGIBLE']) {
    it(`reports a client errorCode ${JSON.stringify(errorCode)} as CLIENT_ERROR`, () => {
      const { request } = build();
      expect(() => completeRegistration(request, { errorCode } as never)).toThrow(
        expect.objectContaining({ code: 'CLIENT_ERROR', clientErrorCode: 4,
          message: expect.stringContaining('DEVICE_INELIGIBLE') }));
    });
  }

  it('ignores errorCode 0 and "0" (Firefox 57)', () => {
    const { request, response } = build();
    expect(codeOf(() => completeRegistration(request, { ...response, errorCode: '0' })))
      .toBe('OK');
  });

  it('makes challenges single-use and expiring with a challenge store', () => {
    let now = 0;
    const store = new MemoryChallengeStore({ ttlMs: 1000, now: () => now });
    const request = beginRegistration({ appId: APP, challengeStore: store });
    const challenge = request.registerRequests[0]!.challenge;
    const { response } = build({ challenge });
    expect(codeOf(() => completeRegistration(request, response, { challengeStore: store })))
      .toBe('OK');
    expect(codeOf(() => completeRegistration(request, response, { challengeStore: store })))
      .toBe('CHALLENGE_UNKNOWN');

    const late = beginRegistration({ appId: APP, challengeStore: store });
    const lateResponse = build({ challenge: late.registerRequests[0]!.challenge }).response;
    now = 1000;
    expect(codeOf(() => completeRegistration(late, lateResponse, { challengeStore: store })))
      .toBe('CHALLENGE_UNKNOWN');
  });

  it('reproduces the spec registration through the public API with JSON text', () => {
    const request = JSON.stringify({ appId: reg.appId, registerRequests: [{ version: 'U2F_V2',
      challenge: reg.challenge }], registeredKeys: [] });
    const response = JSON.stringify({ registrationData: b64u(hex(reg.registrationData)),
      clientData: b64u(specClientData(REGISTER_TYP, reg.challenge)) });
    expect(completeRegistration(request, response).registration.keyHandle)
      .toBe(reg.expected.keyHandle);
  });
});
