import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  beginAuthentication, beginRegistration, completeAuthentication, completeRegistration,
  LIMITS, MemoryChallengeStore, parseTrustedFacets, TrustStore, U2fError, YUBICO_METADATA,
  YUBICO_U2F_ROOT_CA_PEM,
  type DeviceRegistration, type SignResponse,
} from '../src/index.js';
import { buildSignResponse, type Signer } from './builders.js';
import { b64u, codeOf, hex, signDer, spec, u2fErrorOf } from './helpers.js';

const auth = spec.authentication;
const APP = 'https://keybench.example';
const user: Signer = (m) => signDer(auth.privateKey, m);
const KEY_HANDLE = b64u(new Uint8Array(40).fill(4));
const CHALLENGE = b64u(new Uint8Array(32).fill(0x17));

function registration(over: Partial<DeviceRegistration> = {}): DeviceRegistration {
  return { version: 'U2F_V2', keyHandle: KEY_HANDLE, publicKey: b64u(hex(auth.publicKey)),
    appId: APP, transports: null, ...over };
}
const request = beginAuthentication({ appId: APP, registrations: [registration()],
  challenge: CHALLENGE });
const respond = (over: Partial<Parameters<typeof buildSignResponse>[0]> = {}): SignResponse =>
  buildSignResponse({ appId: APP, challenge: CHALLENGE, keyHandle: KEY_HANDLE, counter: 5,
    user, ...over });

describe('oversized responses fail with TOO_LARGE before any decoding', () => {
  const ten = 'A'.repeat(10_000_000);

  it('as JSON text', () => {
    const error = u2fErrorOf(() => completeAuthentication(request, `{"x":"${ten}"}`,
      [registration()]));
    expect(error).toMatchObject({ code: 'TOO_LARGE', field: 'response',
      expected: `<= ${LIMITS.RESPONSE_JSON_CHARS} characters` });
  });

  for (const field of ['keyHandle', 'signatureData', 'clientData'] as const) {
    it(`in response.${field}`, () => {
      const error = u2fErrorOf(() => completeAuthentication(request,
        { ...respond(), [field]: ten }, [registration()]));
      expect(error).toMatchObject({ code: 'TOO_LARGE', field: `response.${field}`,
        actual: '10000000 characters' });
    });
  }

  it('a huge errorCode is still a client error', () => {
    expect(codeOf(() => completeAuthentication(request, '{"errorCode":1e999999}',
      [registration()]))).toBe('CLIENT_ERROR');
  });
});

describe('prototype keys in JSON messages', () => {
  it('a response whose members hide under __proto__ lacks them', () => {
    const hidden = `{"__proto__":${JSON.stringify(respond())}}`;
    expect(u2fErrorOf(() => completeAuthentication(request, hidden, [registration()])))
      .toMatchObject({ code: 'BAD_RESPONSE', field: 'response.keyHandle' });
    expect(({} as Record<string, unknown>)['keyHandle']).toBeUndefined();
  });

  it('__proto__ and constructor members beside real ones change nothing', () => {
    const text = JSON.stringify(respond()).replace('{',
      '{"__proto__":{"counter":0},"constructor":{"prototype":{"x":1}},');
    expect(completeAuthentication(request, text, [registration()]).counter).toBe(5);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });

  it('a request whose members hide under __proto__ lacks them', () => {
    const hidden = `{"__proto__":${JSON.stringify(request)}}`;
    expect(codeOf(() => completeAuthentication(hidden, respond(), [registration()])))
      .toBe('BAD_REQUEST');
    const reg = beginRegistration({ appId: APP });
    expect(codeOf(() => completeRegistration(`{"__proto__":${JSON.stringify(reg)}}`,
      { registrationData: 'AA', clientData: 'AA' }))).toBe('BAD_REQUEST');
  });
});

describe('challenges of the wrong length', () => {
  it('a clientData challenge one byte short is a mismatch', () => {
    const short = b64u(new Uint8Array(31).fill(0x17));
    expect(codeOf(() => completeAuthentication(request, respond({ challenge: short }),
      [registration()]))).toBe('CHALLENGE_MISMATCH');
  });

  it('a stored request with an empty challenge is refused, though clientData matches it', () => {
    const empty = { ...request, challenge: '' };
    const error = u2fErrorOf(() => completeAuthentication(empty, respond({ challenge: '' }),
      [registration()]));
    expect(error).toMatchObject({ code: 'BAD_REQUEST', field: 'request.challenge',
      actual: '0 bytes' });
  });

  it('beginRegistration and beginAuthentication take 16..64 byte challenges only', () => {
    expect(() => beginRegistration({ appId: APP, challenge: new Uint8Array(15) }))
      .toThrow(RangeError);
    expect(() => beginRegistration({ appId: APP, challenge: b64u(new Uint8Array(65)) }))
      .toThrow(RangeError);
    expect(() => beginAuthentication({ appId: APP, registrations: [registration()],
      challenge: 'not base64!' })).toThrow(TypeError);
    expect(beginRegistration({ appId: APP, challenge: new Uint8Array(16) })
      .registerRequests[0]?.challenge).toBe(b64u(new Uint8Array(16)));
  });
});

describe('MemoryChallengeStore under churn', () => {
  it('drops expired challenges on issue, a re-issued one included, and stays bounded', () => {
    let now = 0;
    const store = new MemoryChallengeStore({ ttlMs: 10, maxEntries: 3, now: () => now });
    const a = b64u(new Uint8Array(32).fill(1));
    store.issue(a);
    now = 5;
    store.issue(b64u(new Uint8Array(32).fill(2)));
    now = 8;
    store.issue(a);
    now = 16;
    store.issue(b64u(new Uint8Array(32).fill(3)));
    expect(store.size).toBe(2);
    expect(store.consume(a)).toBe(true);
    for (let i = 0; i < 10; i++) store.issue(b64u(new Uint8Array(32).fill(10 + i)));
    expect(store.size).toBe(3);
  });
});

describe('key handles and flags in authentication', () => {
  it('refuses key handles of 0 and 256 bytes as unknown, naming the length', () => {
    for (const length of [0, 256]) {
      const error = u2fErrorOf(() => completeAuthentication(request,
        { ...respond(), keyHandle: b64u(new Uint8Array(length)) }, [registration()]));
      expect(error).toMatchObject({ code: 'UNKNOWN_KEY_HANDLE', actual: `${length} bytes` });
    }
  });

  it('an empty key handle never matches an empty stored one', () => {
    const empty = registration({ keyHandle: '' });
    const emptyRequest = { appId: APP, challenge: CHALLENGE, registeredKeys: [{
      version: 'U2F_V2', keyHandle: '' }] };
    expect(codeOf(() => completeAuthentication(emptyRequest, respond({ keyHandle: '' }),
      [empty]))).toBe('UNKNOWN_KEY_HANDLE');
  });

  it('reports flags 0xFF as they came (presence bit set) and refuses 0xFE', () => {
    expect(completeAuthentication(request, respond({ flags: 0xff }), [registration()])
      .userPresence).toBe(0xff);
    expect(codeOf(() => completeAuthentication(request, respond({ flags: 0xfe }),
      [registration()]))).toBe('USER_NOT_PRESENT');
    expect(completeAuthentication(request, respond({ flags: 0xfe }), [registration()],
      { requireUserPresence: false }).userPresence).toBe(0xfe);
  });
});

describe('counter policy and stored state', () => {
  it.each([['"5" (text)', '5'], ['NaN', Number.NaN], ['-1', -1], ['2^32', 2 ** 32],
    ['1.5', 1.5], ['an object', {}]])('refuses a stored counter of %s (BAD_REGISTRATION)',
    (_what, counter) => {
      const error = u2fErrorOf(() => completeAuthentication(request, respond(),
        [registration({ counter: counter as number })]));
      expect(error).toMatchObject({ code: 'BAD_REGISTRATION', field: 'registration.counter' });
    });

  it('treats a stored null counter as a first use', () => {
    const stored = registration({ counter: null as unknown as number });
    expect(completeAuthentication(request, respond({ counter: 0 }), [stored]).counterVerdict)
      .toEqual({ ok: true, current: 0 });
  });

  it('changes nothing it was given, whatever the failure', () => {
    const stored = registration({ counter: 9 });
    const snapshot = structuredClone(stored);
    const requestSnapshot = structuredClone(request);
    for (const response of [respond({ counter: 9 }), respond({ counter: 3 }),
      respond({ counter: 10, flags: 0 }), respond({ counter: 10, signedAppId: 'https://x.y' })]) {
      expect(() => completeAuthentication(request, response, [stored])).toThrow(U2fError);
    }
    expect(stored).toEqual(snapshot);
    expect(request).toEqual(requestSnapshot);
  });

  it('reports a bad signature before a counter regression and before user presence', () => {
    const response = respond({ counter: 1, flags: 0, signedAppId: 'https://x.y' });
    expect(codeOf(() => completeAuthentication(request, response,
      [registration({ counter: 9 })]))).toBe('BAD_SIGNATURE');
  });

  it('COUNTER_NOT_INCREASED carries both values in fields and message', () => {
    const error = u2fErrorOf(() => completeAuthentication(request, respond({ counter: 4 }),
      [registration({ counter: 4 })]));
    expect(error).toMatchObject({ code: 'COUNTER_NOT_INCREASED', previous: 4, current: 4,
      expected: '> 4', actual: '4' });
    expect(error.message).toMatch(/4 is equal to the stored 4/);
  });

  it('takes the registrations from options too (issue 3 shape)', () => {
    const result = completeAuthentication(request, respond(), { registrations:
      [registration({ counter: 2 })], counterPolicy: 'strict' });
    expect(result.registration.counter).toBe(5);
    expect(() => completeAuthentication(request, respond(), {})).toThrow(TypeError);
  });
});

describe('malformed metadata and trust-store JSON fail with BAD_METADATA at load', () => {
  const base = { identifier: 'test-vendor', version: 1,
    trustedCertificates: [YUBICO_U2F_ROOT_CA_PEM] };
  it.each([
    ['devices: [null]', { ...base, devices: [null] }, 'metadata.devices[0]'],
    ['selectors: "usb"', { ...base, devices: [{ selectors: 'usb' }] },
      'metadata.devices[0].selectors'],
    ['selectors: [null]', { ...base, devices: [{ selectors: [null] }] },
      'metadata.devices[0].selectors[0]'],
    ['a selector without type', { ...base, devices: [{ selectors: [{ parameters: {} }] }] },
      'metadata.devices[0].selectors[0].type'],
    ['a selector whose parameters are a list', { ...base, devices: [{ selectors: [
      { type: 'x509Extension', parameters: [] }] }] },
    'metadata.devices[0].selectors[0].parameters'],
    ['transports: -1', { ...base, devices: [{ transports: -1 }] },
      'metadata.devices[0].transports'],
    ['displayName: 5', { ...base, devices: [{ displayName: 5 }] },
      'metadata.devices[0].displayName'],
    ['vendorInfo: "Yubico"', { ...base, vendorInfo: 'Yubico' }, 'metadata.vendorInfo'],
    ['vendorInfo.name: []', { ...base, vendorInfo: { name: [] } }, 'metadata.vendorInfo.name'],
    ['version: Infinity', { ...base, version: Infinity }, 'metadata.version'],
    ['entries: [5]', { entries: [5] }, 'metadata.entries[0]'],
    ['"null" text', 'null', 'metadata'],
  ])('%s', (_what, doc, field) => {
    expect(u2fErrorOf(() => TrustStore.fromJson(doc))).toMatchObject({ code: 'BAD_METADATA',
      field });
  });

  it('loads JSON files and directories, naming the file of a malformed one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'server-core-metadata-'));
    try {
      writeFileSync(join(dir, 'yubico.json'), JSON.stringify(YUBICO_METADATA));
      writeFileSync(join(dir, 'notes.txt'), 'not metadata');
      expect(TrustStore.fromFiles(dir).list().map((e) => e.vendorInfo.name)).toEqual(['Yubico']);
      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{"identifier":"x","version":1,"devices":[null]}');
      const error = u2fErrorOf(() => TrustStore.fromFiles(broken));
      expect(error).toMatchObject({ code: 'BAD_METADATA', field: 'metadata.devices[0]' });
      expect(error.message).toContain(broken);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses lists nested 10,000 deep without exhausting the stack', () => {
    const deep = JSON.parse(`${'['.repeat(10_000)}${']'.repeat(10_000)}`) as unknown;
    expect(codeOf(() => TrustStore.fromJson(deep))).toBe('BAD_METADATA');
    let statement: Record<string, unknown> = {};
    const top = statement;
    for (let i = 0; i < 10_000; i++) {
      const inner = {};
      statement['entries'] = [{ metadataStatement: inner }];
      statement = inner;
    }
    expect(codeOf(() => TrustStore.fromJson(top))).toBe('BAD_METADATA');
  });

  it('keeps __proto__ members of a device as data, polluting nothing', () => {
    const store = TrustStore.fromJson(JSON.parse(JSON.stringify(base).replace('{',
      '{"devices":[{"__proto__":{"selectors":[]},"displayName":"d"}],')) as unknown);
    expect(store.list()[0]?.devices[0]?.displayName).toBe('d');
    expect(({} as Record<string, unknown>)['selectors']).toBeUndefined();
  });

  it('only U2fError escapes for any JSON value', () => {
    fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.json(), fc.record({
      identifier: fc.jsonValue(), version: fc.jsonValue(), vendorInfo: fc.jsonValue(),
      devices: fc.jsonValue(), trustedCertificates: fc.constant([]) })), (doc) => {
      try {
        TrustStore.fromJson(doc);
      } catch (error) {
        expect(error).toBeInstanceOf(U2fError);
      }
    }), { numRuns: 300 });
  });
});

describe('malformed trusted-facet lists fail with BAD_TRUSTED_FACETS', () => {
  const v10 = { major: 1, minor: 0 };
  it.each([
    ['a list entry that is null', { trustedFacets: [null] }],
    ['an id that is a number', { trustedFacets: [{ version: v10, ids: [APP, 5] }] }],
    ['ids that are text', { trustedFacets: [{ version: v10, ids: APP }] }],
    ['a top level that is a list', [{ version: v10, ids: [APP] }]],
    ['__proto__ hiding the list', JSON.parse('{"__proto__":{"trustedFacets":[]}}') as unknown],
  ])('%s', (_what, list) => {
    const error = u2fErrorOf(() => parseTrustedFacets(list, APP));
    expect(error.code).toBe('BAD_TRUSTED_FACETS');
    expect(error.message).not.toMatch(/undefined/);
  });

  it('only U2fError escapes for any JSON value', () => {
    fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.json()), (list) => {
      try {
        parseTrustedFacets(list, APP);
      } catch (error) {
        expect(error).toBeInstanceOf(U2fError);
      }
    }), { numRuns: 300 });
  });
});
