import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  completeAuthentication, completeRegistration, defaultFacets, LIMITS, parseClientData,
  parseRegistrationData, type DeviceRegistration,
} from '../src/index.js';
import { scanJsonObject } from '../src/json-scan.js';
import { buildRegistration, buildSignResponse, type Signer } from './builders.js';
import { b64u, codeOf, hex, publicPoint, signDer, spec, u2fErrorOf, REGISTER_TYP,
  SIGN_TYP } from './helpers.js';

// Every clientData here is signed by the right keys: the verifier must refuse it on its
// content, not because a signature happens not to match.
const reg = spec.registration;
const auth = spec.authentication;
const certificate = new Uint8Array(parseRegistrationData(hex(reg.registrationData)).certificate);
const attest: Signer = (m) => signDer(reg.attestationPrivateKey, m);
const user: Signer = (m) => signDer(auth.privateKey, m);
const APP = 'https://keybench.example';
const CHALLENGE = reg.challenge;
const KEY_HANDLE = b64u(new Uint8Array(32).fill(3));

function register(clientDataText: string, appId = APP, facets?: string[]): string {
  const { request, response } = buildRegistration({ appId, challenge: CHALLENGE,
    keyHandle: new Uint8Array(16).fill(1), publicKey: publicPoint(reg.userPrivateKey),
    certificate, attest, clientDataText });
  return codeOf(() => completeRegistration(request, response,
    facets === undefined ? {} : { facets }));
}

const registration: DeviceRegistration = { version: 'U2F_V2', keyHandle: KEY_HANDLE,
  publicKey: b64u(hex(auth.publicKey)), appId: APP, transports: null };
const signRequest = { appId: APP, challenge: CHALLENGE,
  registeredKeys: [{ version: 'U2F_V2', keyHandle: KEY_HANDLE }] };

function authenticate(clientDataText: string): string {
  const response = buildSignResponse({ appId: APP, challenge: CHALLENGE, keyHandle: KEY_HANDLE,
    counter: 1, user, clientDataText });
  return codeOf(() => completeAuthentication(signRequest, response, [registration]));
}

const members = (typ: string, origin = APP): string =>
  `"typ":"${typ}","challenge":"${CHALLENGE}","origin":"${origin}"`;

describe('clientData with a member twice is ambiguous and refused, though signed', () => {
  const cases: [string, string][] = [
    ['typ twice, the right one last (JSON.parse would take it)',
      `{"typ":"navigator.id.getAssertion",${members(REGISTER_TYP)}}`],
    ['typ twice, the right one first', `{${members(REGISTER_TYP)},"typ":"x"}`],
    ['typ twice, once escaped as t\\u0079p', `{${members(REGISTER_TYP)},"t\\u0079p":"x"}`],
    ['challenge twice', `{"challenge":"AAAA",${members(REGISTER_TYP)}}`],
    ['origin twice', `{${members(REGISTER_TYP)},"origin":"https://evil.example"}`],
    ['an extra member twice', `{${members(REGISTER_TYP)},"x":1,"x":2}`],
  ];
  for (const [what, text] of cases) {
    it(what, () => {
      expect(register(text)).toBe('CLIENT_DATA_INVALID');
      const error = u2fErrorOf(() => parseClientData(Buffer.from(text)));
      expect(error.message).toMatch(/twice/);
      expect(error.expected).toBe('each member once');
    });
  }

  it('in authentication too', () => {
    expect(authenticate(`{"typ":"x",${members(SIGN_TYP)}}`)).toBe('CLIENT_DATA_INVALID');
    expect(authenticate(`{${members(SIGN_TYP)}}`)).toBe('OK');
  });

  it('but a name repeated inside a nested member (cid_pubkey) is not ours to judge', () => {
    expect(register(`{${members(REGISTER_TYP)},"cid_pubkey":{"x":"a","x":"b"}}`)).toBe('OK');
  });

  it('no random object with a repeated top-level name is ever accepted', () => {
    fc.assert(fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({
      maxDepth: 2 }), { maxKeys: 4 }), fc.nat(), (extra, pick) => {
      const names = ['typ', 'challenge', 'origin', ...Object.keys(extra)];
      const dup = names[pick % names.length] as string;
      const text = `{${members(REGISTER_TYP)},${Object.entries(extra).map(([k, v]) =>
        `${JSON.stringify(k)}:${JSON.stringify(v)}`).concat(`${JSON.stringify(dup)}:0`)
        .join(',')}}`;
      expect(codeOf(() => parseClientData(Buffer.from(text)))).toBe('CLIENT_DATA_INVALID');
    }), { numRuns: 100 });
  });
});

describe('clientData bytes and sizes', () => {
  const body = `{${members(REGISTER_TYP)}}`;
  const withBytes = (...bytes: number[]): Uint8Array =>
    new Uint8Array([...Buffer.from(body.slice(0, -1)), ...Buffer.from(',"x":"'), ...bytes,
      ...Buffer.from('"}')]);

  it.each([
    ['a UTF-8 BOM', new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from(body)]), /BOM/],
    ['a byte that is never UTF-8 (0xff)', withBytes(0xff), /UTF-8/],
    ['an overlong "/" (c0 af)', withBytes(0xc0, 0xaf), /UTF-8/],
    ['an encoded surrogate (ed a0 80)', withBytes(0xed, 0xa0, 0x80), /UTF-8/],
    ['a truncated sequence (e2 82)', withBytes(0xe2, 0x82), /UTF-8/],
  ])('refuses %s with CLIENT_DATA_INVALID', (_what, bytes, message) => {
    const error = u2fErrorOf(() => parseClientData(bytes));
    expect(error.code).toBe('CLIENT_DATA_INVALID');
    expect(error.message).toMatch(message);
  });

  it('a lone surrogate escape in origin parses but matches no facet', () => {
    expect(register(`{${members(REGISTER_TYP, '\\ud800')}}`)).toBe('ORIGIN_NOT_ALLOWED');
    expect(register(`{${members(REGISTER_TYP, 'https://\\ud800.example')}}`))
      .toBe('ORIGIN_NOT_ALLOWED');
  });

  it('huge numbers in extra members are just extra members', () => {
    expect(register(`{${members(REGISTER_TYP)},"n":1e999999,"m":-0,"k":123456789012345678901}`))
      .toBe('OK');
  });

  it('refuses nesting deeper than the limit, accepts browser-like nesting', () => {
    const deep = (n: number): string => `{${members(REGISTER_TYP)},"x":${'['.repeat(n - 1)}` +
      `${']'.repeat(n - 1)}}`;
    expect(register(deep(LIMITS.CLIENT_DATA_DEPTH))).toBe('OK');
    expect(register(deep(LIMITS.CLIENT_DATA_DEPTH + 1))).toBe('CLIENT_DATA_INVALID');
    expect(codeOf(() => parseClientData(Buffer.from(`{"x":${'['.repeat(5000)}${']'
      .repeat(5000)}}`)))).toBe('CLIENT_DATA_INVALID');
  });

  it('refuses a clientData over the size limit with TOO_LARGE before parsing it', () => {
    const big = `{${members(REGISTER_TYP)},"pad":"${'a'.repeat(LIMITS.CLIENT_DATA_BYTES)}"}`;
    const error = u2fErrorOf(() => parseClientData(Buffer.from(big)));
    expect(error.code).toBe('TOO_LARGE');
    expect(error.field).toBe('clientData');
    expect(error.actual).toBe(`${big.length} bytes`);
  });

  it('accepts __proto__ and constructor as extra members without touching prototypes', () => {
    const text = `{${members(REGISTER_TYP)},"__proto__":{"polluted":1},"constructor":` +
      '{"prototype":{"polluted":1}}}';
    expect(register(text)).toBe('OK');
    expect(parseClientData(Buffer.from(text)).json['__proto__']).toEqual({ polluted: 1 });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('does not read typ, challenge or origin from the prototype', () => {
    const text = `{"__proto__":{${members(REGISTER_TYP)}}}`;
    expect(u2fErrorOf(() => parseClientData(Buffer.from(text))).field).toBe('clientData.typ');
  });
});

describe('origins are bare web origins, canonicalised only where that is unambiguous', () => {
  const accepted: [string, string][] = [
    ['HTTPS://KEYBENCH.EXAMPLE', 'upper-case scheme and host'],
    ['https://keybench.example:443', 'the default port written out'],
  ];
  for (const [origin, what] of accepted) {
    it(`accepts ${what}: ${origin}`, () => {
      expect(register(`{${members(REGISTER_TYP, origin)}}`)).toBe('OK');
    });
  }

  const refused: [string, string][] = [
    ['https://user@keybench.example', 'userinfo'],
    ['https://user:pw@keybench.example', 'userinfo with a password'],
    ['https://keybench.example.', 'a trailing dot (another origin to a browser)'],
    ['https:keybench.example', 'no // (the URL parser would add it)'],
    ['https:\\\\\\\\keybench.example', 'backslashes'],
    ['https://keybench.exam\\nple', 'a newline inside the host (the URL parser drops it)'],
    ['https://keybench.example/', 'a trailing slash'],
    ['https://keybench.example/path', 'a path'],
    ['https://keybench.example?x', 'a query'],
    ['https://keybench.example#x', 'a fragment'],
    ['https://%6beybench.example', 'a %-escaped host'],
    [' https://keybench.example', 'leading whitespace'],
    ['https://keybench.example:8443', 'another port'],
    ['http://keybench.example', 'another scheme'],
    ['null', 'the opaque origin null'],
  ];
  for (const [origin, what] of refused) {
    it(`refuses ${what}: ${JSON.stringify(origin)}`, () => {
      expect(register(`{${members(REGISTER_TYP, origin)}}`)).toBe('ORIGIN_NOT_ALLOWED');
    });
  }

  it('never accepts null, even when a facet list names it', () => {
    expect(register(`{${members(REGISTER_TYP, 'null')}}`, APP, ['null'])).toBe(
      'ORIGIN_NOT_ALLOWED');
  });

  it('takes a trailing-dot host only when the facet is written with it', () => {
    const origin = 'https://keybench.example.';
    expect(register(`{${members(REGISTER_TYP, origin)}}`, APP, [origin])).toBe('OK');
  });

  it('treats IPv6 hosts and punycode like any host; a Unicode host equals its punycode', () => {
    expect(register(`{${members(REGISTER_TYP, 'https://[::1]:8443')}}`, APP,
      ['https://[0:0:0:0:0:0:0:1]:8443'])).toBe('OK');
    expect(register(`{${members(REGISTER_TYP, 'https://[::1]:443')}}`, APP,
      ['https://[::1]'])).toBe('OK');
    expect(register(`{${members(REGISTER_TYP, 'https://bücher.example')}}`, APP,
      ['https://xn--bcher-kva.example'])).toBe('OK');
    expect(register(`{${members(REGISTER_TYP, 'https://xn--bcher-kva.example')}}`, APP,
      ['https://bücher.example'])).toBe('OK');
  });

  it('an appId that is not a URL has no default facets: everything fails until facets are given',
    () => {
      expect(defaultFacets('keybench')).toEqual([]);
      expect(defaultFacets('null')).toEqual([]);
      expect(register(`{${members(REGISTER_TYP, 'keybench')}}`, 'keybench'))
        .toBe('ORIGIN_NOT_ALLOWED');
      expect(register(`{${members(REGISTER_TYP, APP)}}`, 'keybench', [APP])).toBe('OK');
    });
});

describe('scanJsonObject', () => {
  it('finds duplicates only at the top level and ends on any text, even unterminated', () => {
    expect(scanJsonObject('{"a":{"b":1,"b":2},"c":[{"a":1}]}', 8)).toEqual({ depth: 3 });
    expect(scanJsonObject('{"a":"\\"a\\"","\\"a\\"":1,"a":2}', 8)).toMatchObject({
      duplicate: 'a' });
    expect(scanJsonObject('{"a', 8)).toEqual({ depth: 1 });
  });
});
