import { describe, expect, it } from 'vitest';

import { appParam, verifyAppIdAssertion, type AppIdAssertion,
  type DeviceRegistration } from '../src/index.js';
import { b64u, codeOf, concat, hex, sha256, signDer, spec, u2fErrorOf } from './helpers.js';

// The spec example's user key, registered over U2F under the gstatic appId, now asked through
// WebAuthn with extensions.appid (server.md 5, "Migration to WebAuthn").
const auth = spec.authentication;
const APP_ID = auth.appId;
const ORIGIN = 'https://example.com';
const CHALLENGE = b64u(new Uint8Array(32).fill(0x5a));
const registration: DeviceRegistration = { version: 'U2F_V2', keyHandle: auth.keyHandle,
  publicKey: b64u(hex(auth.publicKey)), appId: APP_ID, transports: null, counter: 3 };

function assertion(o: { rpIdHash?: Uint8Array; flags?: number; counter?: number;
  clientDataJSON?: string; extra?: Uint8Array } = {}): AppIdAssertion {
  const clientDataJSON = o.clientDataJSON ?? JSON.stringify({ type: 'webauthn.get',
    challenge: CHALLENGE, origin: ORIGIN, crossOrigin: false });
  const counter = new Uint8Array(4);
  new DataView(counter.buffer).setUint32(0, o.counter ?? 4);
  const authenticatorData = concat(o.rpIdHash ?? appParam(APP_ID),
    new Uint8Array([o.flags ?? 0x01]), counter, o.extra ?? new Uint8Array());
  const signature = signDer(auth.privateKey, concat(authenticatorData, sha256(clientDataJSON)));
  return { appId: APP_ID, registration, challenge: CHALLENGE, authenticatorData,
    clientDataJSON: b64u(clientDataJSON), signature: b64u(signature) };
}

const facets = [ORIGIN];

describe('verifyAppIdAssertion (WebAuthn appid extension bridge)', () => {
  it('verifies a U2F key asked through WebAuthn: authenticatorData = appParam‖flags‖counter',
    () => {
      const result = verifyAppIdAssertion(assertion(), { facets });
      expect(result).toMatchObject({ counter: 4, userPresence: 1,
        counterVerdict: { ok: true, previous: 3, current: 4 } });
      expect(result.registration.counter).toBe(4);
      expect(registration.counter).toBe(3);
    });

  it('refuses an rpIdHash of the origin instead of the appId', () => {
    const error = u2fErrorOf(() => verifyAppIdAssertion(assertion({
      rpIdHash: sha256('example.com') }), { facets }));
    expect(error).toMatchObject({ code: 'BAD_SIGNATURE_DATA',
      field: 'authenticatorData.rpIdHash' });
  });

  it.each([
    ['type webauthn.create', JSON.stringify({ type: 'webauthn.create', challenge: CHALLENGE,
      origin: ORIGIN }), 'CLIENT_DATA_TYPE'],
    ['a U2F clientData (typ, no type)', JSON.stringify({ typ: 'navigator.id.getAssertion',
      challenge: CHALLENGE, origin: ORIGIN }), 'CLIENT_DATA_INVALID'],
    ['type twice', `{"type":"x","type":"webauthn.get","challenge":"${CHALLENGE}",` +
      `"origin":"${ORIGIN}"}`, 'CLIENT_DATA_INVALID'],
    ['another challenge', JSON.stringify({ type: 'webauthn.get', challenge: b64u(
      new Uint8Array(32)), origin: ORIGIN }), 'CHALLENGE_MISMATCH'],
    ['another origin', JSON.stringify({ type: 'webauthn.get', challenge: CHALLENGE,
      origin: 'https://evil.example' }), 'ORIGIN_NOT_ALLOWED'],
  ])('refuses a clientDataJSON with %s, though signed', (_what, clientDataJSON, code) => {
    expect(codeOf(() => verifyAppIdAssertion(assertion({ clientDataJSON }), { facets })))
      .toBe(code);
  });

  it('refuses authenticatorData with extension bytes, no presence, or a stale counter', () => {
    expect(codeOf(() => verifyAppIdAssertion(assertion({ extra: new Uint8Array([0xa0]) }),
      { facets }))).toBe('BAD_SIGNATURE_DATA');
    expect(codeOf(() => verifyAppIdAssertion(assertion({ flags: 0 }), { facets })))
      .toBe('USER_NOT_PRESENT');
    expect(u2fErrorOf(() => verifyAppIdAssertion(assertion({ counter: 3 }), { facets })))
      .toMatchObject({ code: 'COUNTER_NOT_INCREASED', previous: 3, current: 3 });
  });

  it('reports a bad signature before presence and counter', () => {
    const bad = assertion({ flags: 0, counter: 1 });
    bad.authenticatorData = new Uint8Array(bad.authenticatorData as Uint8Array);
    (bad.authenticatorData as Uint8Array)[33] = 0xff;
    expect(codeOf(() => verifyAppIdAssertion(bad, { facets }))).toBe('BAD_SIGNATURE');
  });

  it('defaults facets to the appId origin, which here is not the site', () => {
    expect(codeOf(() => verifyAppIdAssertion(assertion()))).toBe('ORIGIN_NOT_ALLOWED');
  });
});
