import { describe, expect, it } from 'vitest';

import {
  beginAuthentication, completeAuthentication, MemoryChallengeStore,
  type AuthenticationOptions, type DeviceRegistration, type SignResponse,
} from '../src/index.js';
import { buildSignResponse, type Signer } from './builders.js';
import { b64u, codeOf, hex, signDer, spec } from './helpers.js';

const auth = spec.authentication;
const APP = 'https://keybench.example';
const user: Signer = (m) => signDer(auth.privateKey, m);
const userHighS: Signer = (m) => signDer(auth.privateKey, m, true);
const KEY_HANDLE = b64u(new Uint8Array(48).fill(5));
const OTHER_HANDLE = b64u(new Uint8Array(48).fill(6));

function registration(over: Partial<DeviceRegistration> = {}): DeviceRegistration {
  return { version: 'U2F_V2', keyHandle: KEY_HANDLE, publicKey: b64u(hex(auth.publicKey)),
    appId: APP, transports: ['usb'], ...over };
}

const CHALLENGE = b64u(new Uint8Array(32).fill(0x42));
const request = beginAuthentication({ appId: APP, registrations: [registration()],
  challenge: CHALLENGE });

function respond(over: Partial<Parameters<typeof buildSignResponse>[0]> = {}): SignResponse {
  return buildSignResponse({ appId: APP, challenge: CHALLENGE, keyHandle: KEY_HANDLE,
    counter: 7, user, ...over });
}

function run(response: SignResponse, regs = [registration()], options:
  AuthenticationOptions = {}) {
  return completeAuthentication(request, response, regs, options);
}

describe('beginAuthentication', () => {
  it('uses one challenge for all keys, each with its registration appId', () => {
    const r = beginAuthentication({ appId: APP, registrations: [registration(),
      registration({ keyHandle: OTHER_HANDLE, appId: 'https://old.example', transports: null })] });
    expect(r.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(r.registeredKeys).toEqual([
      { version: 'U2F_V2', keyHandle: KEY_HANDLE, appId: APP, transports: ['usb'] },
      { version: 'U2F_V2', keyHandle: OTHER_HANDLE, appId: 'https://old.example' },
    ]);
  });

  it('needs at least one registration (RangeError)', () => {
    expect(() => beginAuthentication({ appId: APP, registrations: [] })).toThrow(RangeError);
  });
});

describe('completeAuthentication', () => {
  it('accepts a valid response and returns an updated copy', () => {
    const regs = [registration({ counter: 3 })];
    const result = run(respond(), regs);
    expect(result.counter).toBe(7);
    expect(result.userPresence).toBe(1);
    expect(result.registration.counter).toBe(7);
    expect(result.counterVerdict).toEqual({ ok: true, previous: 3, current: 7 });
    expect(regs[0]?.counter).toBe(3);
  });

  it('passes a first use at counter 0 (nothing stored)', () => {
    expect(run(respond({ counter: 0 })).counterVerdict).toEqual({ ok: true, current: 0 });
  });

  it('rejects a counter that did not increase, carrying both values', () => {
    for (const counter of [7, 6]) {
      try {
        run(respond({ counter }), [registration({ counter: 7 })]);
        expect.unreachable();
      } catch (error) {
        expect(error).toMatchObject({ code: 'COUNTER_NOT_INCREASED', previous: 7,
          current: counter });
      }
    }
  });

  it('allows an equal counter under allow-equal, not a lower one', () => {
    const regs = [registration({ counter: 7 })];
    expect(codeOf(() => run(respond({ counter: 7 }), regs, { counterPolicy: 'allow-equal' })))
      .toBe('OK');
    expect(codeOf(() => run(respond({ counter: 6 }), regs, { counterPolicy: 'allow-equal' })))
      .toBe('COUNTER_NOT_INCREASED');
  });

  it('only warns under warn, keeping the stored high-water mark', () => {
    const result = run(respond({ counter: 2 }), [registration({ counter: 7 })],
      { counterPolicy: 'warn' });
    expect(result.counterVerdict.ok).toBe(false);
    expect(result.counterVerdict.warning).toMatch(/2 is lower than the stored 7/);
    expect(result.registration.counter).toBe(7);
  });

  it('reports a bad signature before any counter verdict', () => {
    const response = respond({ counter: 1, signedAppId: 'https://other.example' });
    expect(codeOf(() => run(response, [registration({ counter: 9 })]))).toBe('BAD_SIGNATURE');
  });

  it('requires user presence by default, and can be told not to', () => {
    const response = respond({ flags: 0x00 });
    expect(codeOf(() => run(response))).toBe('USER_NOT_PRESENT');
    expect(run(response, undefined, { requireUserPresence: false }).userPresence).toBe(0);
  });

  it('reports other flag bits without rejecting them', () => {
    expect(run(respond({ flags: 0x05 })).userPresence).toBe(0x05);
  });

  it('accepts a high-S signature', () => {
    expect(codeOf(() => run(respond({ user: userHighS })))).toBe('OK');
  });

  it('rejects an unknown key handle', () => {
    expect(codeOf(() => run(respond({ keyHandle: OTHER_HANDLE })))).toBe('UNKNOWN_KEY_HANDLE');
    expect(codeOf(() => run(respond(), [registration({ keyHandle: OTHER_HANDLE })])))
      .toBe('UNKNOWN_KEY_HANDLE');
  });

  it('matches key handles as bytes (a padded spelling matches)', () => {
    const padded = b64u(new Uint8Array(47).fill(5)) + '=';
    const regs = [registration({ keyHandle: b64u(new Uint8Array(47).fill(5)) })];
    const req = beginAuthentication({ appId: APP, registrations: regs, challenge: CHALLENGE });
    const response = respond({ keyHandle: padded });
    expect(codeOf(() => completeAuthentication(req, response, regs))).toBe('OK');
  });

  it('rejects the registration typ, another challenge and a foreign origin', () => {
    expect(codeOf(() => run(respond({ typ: 'navigator.id.finishEnrollment' }))))
      .toBe('CLIENT_DATA_TYPE');
    expect(codeOf(() => run(respond({ challenge: b64u(new Uint8Array(32)) }))))
      .toBe('CHALLENGE_MISMATCH');
    expect(codeOf(() => run(respond({ origin: 'https://keybench.example.evil' }))))
      .toBe('ORIGIN_NOT_ALLOWED');
    expect(codeOf(() => run(respond({ origin: 'https://keybench.example:8443' }))))
      .toBe('ORIGIN_NOT_ALLOWED');
    expect(codeOf(() => run(respond({ origin: 'http://keybench.example' }))))
      .toBe('ORIGIN_NOT_ALLOWED');
  });

  it('canonicalises origins: default port, case', () => {
    expect(codeOf(() => run(respond({ origin: 'https://KEYBENCH.example:443' })))).toBe('OK');
    expect(codeOf(() => run(respond(), undefined, { facets: ['https://keybench.example/'] })))
      .toBe('OK');
  });

  it("uses a registration's own appId over the request's", () => {
    const old = 'https://old.keybench.example';
    const regs = [registration({ appId: old })];
    const req = { appId: APP, challenge: CHALLENGE, registeredKeys: [{ version: 'U2F_V2',
      keyHandle: KEY_HANDLE }] };
    const response = respond({ signedAppId: old, origin: APP });
    expect(codeOf(() => completeAuthentication(req, response, regs))).toBe('OK');
  });

  it('takes default facets from the request appId, not an older key appId', () => {
    const old = 'https://old.keybench.example';
    const regs = [registration({ appId: old })];
    const req = beginAuthentication({ appId: APP, registrations: regs, challenge: CHALLENGE });
    expect(req.registeredKeys[0]?.appId).toBe(old);
    const response = respond({ signedAppId: old, origin: APP });
    expect(codeOf(() => completeAuthentication(req, response, regs))).toBe('OK');
  });

  it('accepts v1.0 per-key sign requests and JSON text', () => {
    const legacy = [
      { version: 'U2F_V2', challenge: b64u(new Uint8Array(32).fill(1)), keyHandle: OTHER_HANDLE,
        appId: APP },
      { version: 'U2F_V2', challenge: CHALLENGE, keyHandle: KEY_HANDLE, appId: APP },
    ];
    const response = respond();
    expect(codeOf(() => completeAuthentication(JSON.stringify(legacy), JSON.stringify(response),
      [registration()]))).toBe('OK');
  });

  it('rejects trailing bytes after the signature and a short signatureData', () => {
    const good = respond();
    const bytes = Buffer.from(good.signatureData, 'base64url');
    const trailing = b64u(Buffer.concat([bytes, Buffer.from([0])]));
    expect(codeOf(() => run({ ...good, signatureData: trailing }))).toBe('BAD_SIGNATURE_DATA');
    expect(codeOf(() => run({ ...good, signatureData: b64u(bytes.subarray(0, 4)) })))
      .toBe('BAD_SIGNATURE_DATA');
  });

  it('rejects a stored public key that is not a P-256 point', () => {
    const bad = hex(auth.publicKey);
    bad[64] = (bad[64] as number) ^ 1;
    expect(codeOf(() => run(respond(), [registration({ publicKey: b64u(bad) })])))
      .toBe('BAD_PUBLIC_KEY');
    expect(codeOf(() => run(respond(), [registration({ publicKey: 'AAAA' })])))
      .toBe('BAD_PUBLIC_KEY');
  });

  for (const errorCode of [5, '5', 'TIMEOUT']) {
    it(`reports client errorCode ${JSON.stringify(errorCode)} as CLIENT_ERROR naming TIMEOUT`,
      () => {
        expect(() => run({ errorCode, errorMessage: 'too slow' } as never)).toThrow(
          expect.objectContaining({ code: 'CLIENT_ERROR', message: expect.stringMatching(
            /TIMEOUT.*too slow/) }));
      });
  }

  it('makes the challenge single-use with a challenge store', () => {
    const store = new MemoryChallengeStore({ ttlMs: 60_000 });
    const req = beginAuthentication({ appId: APP, registrations: [registration()],
      challengeStore: store });
    const response = respond({ challenge: req.challenge });
    expect(codeOf(() => completeAuthentication(req, response, [registration()],
      { challengeStore: store }))).toBe('OK');
    expect(codeOf(() => completeAuthentication(req, response, [registration()],
      { challengeStore: store }))).toBe('CHALLENGE_UNKNOWN');
  });

  it('misuse of options throws RangeError', () => {
    expect(() => run(respond(), undefined, { counterPolicy: 'lenient' as never }))
      .toThrow(RangeError);
  });
});
