import { describe } from './bytes.js';
import { BoundedCache } from './engine.js';
import { U2fError } from './errors.js';

const originCache = new BoundedCache<string, string | undefined>(1024);

const DEFAULT_PORTS: Readonly<Record<string, string>> = Object.freeze({
  'http:': '80',
  'https:': '443',
});

/**
 * A facet or origin reduced to `scheme://host[:port]`: scheme and host lower-cased, IDN hosts
 * in punycode, default ports dropped, any path, query or fragment removed. Values that are
 * not http(s) URLs (`android:apk-key-hash:…`, `ios:bundle-id:…`) come back unchanged.
 * Returns undefined for an http(s) value that is not a valid URL.
 */
export function canonicalOrigin(value: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (!/^https?:/i.test(value)) return value;
  if (value.length > 2048) return parseOrigin(value);
  const cached = originCache.get(value);
  if (cached !== undefined || originCache.has(value)) return cached;
  const origin = parseOrigin(value);
  originCache.set(value, origin);
  return origin;
}

function parseOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.host === '') return undefined;
  const port = url.port !== '' && url.port !== DEFAULT_PORTS[url.protocol] ? `:${url.port}` : '';
  return `${url.protocol}//${url.hostname}${port}`;
}

/**
 * The canonical form of every allowed facet. Facets are mandatory: an empty list allows
 * nothing.
 *
 * @throws TypeError if `facets` is not an array of strings (caller misuse).
 */
export function canonicalFacets(facets: readonly string[]): Set<string> {
  if (!Array.isArray(facets) || facets.some((f) => typeof f !== 'string')) {
    throw new TypeError('facets: expected an array of strings');
  }
  const out = new Set<string>();
  for (const facet of facets) {
    const canonical = canonicalOrigin(facet);
    if (canonical !== undefined) out.add(canonical);
  }
  return out;
}

/**
 * The facets allowed when the caller gives none: the appId's own origin. An appId that is
 * not an http(s) URL has no origin, so it allows nothing (npm u2f #12): pass facets.
 */
export function defaultFacets(appId: string): string[] {
  if (typeof appId !== 'string' || !/^https?:\/\//i.test(appId)) return [];
  const origin = canonicalOrigin(appId);
  return origin === undefined ? [] : [origin];
}

/**
 * A web origin as a browser serialises it: `scheme://authority`, nothing after it. Userinfo
 * (`https://user@host`), `%`-escapes, backslashes, whitespace and control characters are
 * refused before the URL parser could quietly drop or rewrite them.
 */
const WEB_ORIGIN = /^https?:\/\/[^/?#@\\%\s\p{Cc}]+$/iu;

/** The origin of an opaque context (sandboxed frame, file: page): never a facet. */
const OPAQUE_ORIGIN = 'null';

/**
 * Throws U2fError ORIGIN_NOT_ALLOWED unless the clientData origin, canonicalised, is one of
 * the allowed facets. An http(s) origin must be a bare `scheme://host[:port]` (see
 * {@link WEB_ORIGIN}); case, default ports and Unicode hosts are canonicalised; `null`
 * never passes; a trailing-dot host (`example.com.`, another origin to a browser) matches
 * only a facet written with the dot.
 */
export function checkOrigin(origin: string, allowed: Set<string>): void {
  const web = /^https?:/i.test(origin);
  const canonical = origin === OPAQUE_ORIGIN || (web && !WEB_ORIGIN.test(origin))
    ? undefined : canonicalOrigin(origin);
  if (canonical === undefined || !allowed.has(canonical)) {
    const expected = allowed.size === 0 ? 'no origin (empty facet list)' : [...allowed].join(', ');
    throw new U2fError('ORIGIN_NOT_ALLOWED', `clientData.origin: expected one of ${expected}, ` +
      `got ${describe(origin)}`, { field: 'clientData.origin', expected, actual: origin });
  }
}
