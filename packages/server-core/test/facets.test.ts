import { describe, expect, it } from 'vitest';

import { canonicalOrigin, checkAppIdFacet, parseTrustedFacets, U2fError,
  verifyAppIdOrigin } from '../src/index.js';
import vectors from './vectors/facets.json' with { type: 'json' };

describe('canonicalOrigin', () => {
  const cases: [string, string | undefined][] = [
    ['https://example.com', 'https://example.com'],
    ['https://Example.COM:443/', 'https://example.com'],
    ['http://example.com:80/path?q=1#f', 'http://example.com'],
    ['https://example.com:8443', 'https://example.com:8443'],
    ['HTTPS://example.com', 'https://example.com'],
    ['https://bücher.example', 'https://xn--bcher-kva.example'],
    ['android:apk-key-hash:abc', 'android:apk-key-hash:abc'],
    ['https://', undefined],
  ];
  for (const [input, output] of cases) {
    it(`${input} → ${String(output)}`, () => expect(canonicalOrigin(input)).toBe(output));
  }
});

describe('trusted facet lists (AppID and Facet spec)', () => {
  const appId = 'https://www.example.com/appid.json';
  const list = {
    trustedFacets: [
      { version: { major: 2, minor: 0 }, ids: ['https://v2.example.com'] },
      { version: { major: 1, minor: 0 }, ids: [
        'https://register.example.com',
        'https://fido.example.com:443/',
        'https://login.example.com:8443',
        'http://insecure.example.com',
        'https://example.org',
        'https://other.appspot.com',
        'android:apk-key-hash:585215fd5153209a7e246f53286035838a0be227',
        'ios:bundle-id:com.example.app',
      ] },
    ],
  };

  it('keeps the matching version, drops http and foreign sites, passes app ids through', () => {
    expect(parseTrustedFacets(JSON.stringify(list), appId)).toEqual([
      'https://register.example.com',
      'https://fido.example.com',
      'https://login.example.com:8443',
      'android:apk-key-hash:585215fd5153209a7e246f53286035838a0be227',
      'ios:bundle-id:com.example.app',
    ]);
  });

  it('returns nothing when no entry has version 1.0', () => {
    expect(parseTrustedFacets({ trustedFacets: [list.trustedFacets[0]] }, appId)).toEqual([]);
  });

  it('rejects a malformed list with BAD_TRUSTED_FACETS', () => {
    for (const bad of ['{', '[]', { trustedFacets: 1 }]) {
      expect(() => parseTrustedFacets(bad, appId)).toThrow(U2fError);
    }
  });

  it('accepts the appId origin itself without fetching', async () => {
    expect(await checkAppIdFacet(appId, 'https://www.example.com')).toBe(true);
    expect(await checkAppIdFacet('http://example.com', 'http://example.com')).toBe(true);
    expect(await checkAppIdFacet('http://example.com', 'http://other.com')).toBe(false);
  });

  it('fetches the list through the injected function and checks the Content-Type', async () => {
    const fetched: string[] = [];
    const fetcher = async (url: string) => {
      fetched.push(url);
      return { body: JSON.stringify(list), contentType: 'application/fido.trusted-apps+json' };
    };
    expect(await checkAppIdFacet(appId, 'https://register.example.com', fetcher)).toBe(true);
    expect(await checkAppIdFacet(appId, 'https://example.org', fetcher)).toBe(false);
    expect(fetched).toEqual([appId, appId]);
    await expect(checkAppIdFacet(appId, 'https://register.example.com', async () => ({
      body: JSON.stringify(list), contentType: 'text/html' }))).rejects.toThrow(U2fError);
  });

  it('fails closed without a fetcher', async () => {
    expect(await checkAppIdFacet(appId, 'https://register.example.com')).toBe(false);
  });
});

describe('verifyAppIdOrigin (python-fido2 test_rpid vectors)', () => {
  for (const [app, origin] of vectors.verifyAppIdTrue as [string, string][]) {
    it(`${origin} may use ${app}`, () => expect(verifyAppIdOrigin(app, origin)).toBe(true));
  }
  for (const [app, origin] of vectors.verifyAppIdFalse as [string, string][]) {
    it(`${origin} may not use ${app}`, () => expect(verifyAppIdOrigin(app, origin)).toBe(false));
  }
});
