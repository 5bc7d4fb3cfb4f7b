import { createRequire } from 'node:module';

import type * as Tldts from 'tldts';

import { describe } from './bytes.js';
import { U2fError } from './errors.js';
import { canonicalOrigin } from './facets.js';

/** The media type a trusted-facets list must be served with (AppID and Facet spec §3.1.2). */
export const TRUSTED_FACETS_CONTENT_TYPE = 'application/fido.trusted-apps+json';

/** The FIDO AppID and Facet spec version whose facet list is used. */
export const FACETS_VERSION = Object.freeze({ major: 1, minor: 0 } as const);

const PSL = Object.freeze({ allowPrivateDomains: true });

const require = createRequire(import.meta.url);
let psl: typeof Tldts | undefined;

/** tldts (the Public Suffix List), loaded on first use: only facet checks need it. */
function tldts(): typeof Tldts {
  psl ??= require('tldts') as typeof Tldts;
  return psl;
}

/**
 * What the caller's fetcher returns for the appId URL: the body, with the Content-Type when
 * known. The fetcher must fetch anonymously and follow a redirect only when it carries
 * `FIDO-AppID-Redirect-Authorized: true` (spec §3.1.2); server-core does no network I/O.
 */
export type TrustedFacetsFetcher = (appId: string) =>
  Promise<string | { body: string; contentType?: string }>;

/**
 * The registrable domain (eTLD+1, Public Suffix List with private entries) of a host, or
 * undefined for a public suffix, an IP address or a bad host.
 */
export function registrableDomain(host: string): string | undefined {
  return tldts().getDomain(host, PSL)?.toLowerCase() ?? undefined;
}

/**
 * Reads a trusted-facets list (`{"trustedFacets":[{"version":{major,minor},"ids":[…]}]}`)
 * and filters the ids of the matching version for `appId` (spec §3.1.2 step 4): `http://`
 * ids dropped; `https://` ids reduced to scheme://host[:port] and kept only if their
 * registrable domain equals the appId's; other schemes (android:apk-key-hash:, ios:bundle-id:)
 * kept as they are.
 *
 * @throws U2fError BAD_TRUSTED_FACETS for a malformed list.
 */
export function parseTrustedFacets(list: string | unknown, appId: string,
  version: { major: number; minor: number } = FACETS_VERSION): string[] {
  let doc = list;
  if (typeof list === 'string') {
    try {
      doc = JSON.parse(list);
    } catch {
      throw bad('trustedFacets', 'JSON text', 'unparseable text');
    }
  }
  const entries = objectAt(doc, 'trusted facets list')['trustedFacets'];
  if (!Array.isArray(entries)) throw bad('trustedFacets', 'an array', describe(entries));

  const entry = entries.map((e: unknown, i) => objectAt(e, `trustedFacets[${i}]`)).find((e) => {
    const v = e['version'];
    return v !== null && typeof v === 'object' &&
      (v as Record<string, unknown>)['major'] === version.major &&
      (v as Record<string, unknown>)['minor'] === version.minor;
  });
  if (entry === undefined) return [];

  const ids = entry['ids'];
  if (!Array.isArray(ids)) throw bad('trustedFacets[].ids', 'an array', describe(ids));
  ids.forEach((id: unknown, i) => {
    if (typeof id !== 'string') throw bad(`trustedFacets[].ids[${i}]`, 'a string', describe(id));
  });
  const appDomain = httpsHost(appId);
  const appSite = appDomain === undefined ? undefined : registrableDomain(appDomain);

  const out: string[] = [];
  for (const id of ids) {
    if (/^http:/i.test(id)) continue;
    if (!/^https:/i.test(id)) {
      out.push(id);
      continue;
    }
    const origin = canonicalOrigin(id);
    const host = httpsHost(id);
    if (origin === undefined || host === undefined || appSite === undefined) continue;
    if (registrableDomain(host) === appSite) out.push(origin);
  }
  return out;
}

/**
 * Decides whether `facetId` may use `appId` (spec §3.1.2): a non-https appId must equal the
 * facet; an https appId whose origin equals the facet passes; otherwise the trusted-facets
 * list is fetched through `fetch` and filtered. Without a fetcher that last step fails.
 *
 * @throws U2fError BAD_TRUSTED_FACETS for a wrong Content-Type or malformed list.
 */
export async function checkAppIdFacet(appId: string, facetId: string,
  fetch?: TrustedFacetsFetcher): Promise<boolean> {
  if (!/^https:/i.test(appId)) return appId === facetId;

  const facet = canonicalOrigin(facetId);
  if (facet !== undefined && canonicalOrigin(appId) === facet) return true;
  if (fetch === undefined) return false;

  const reply = await fetch(appId);
  const body = typeof reply === 'string' ? reply : reply.body;
  if (typeof reply !== 'string' && reply.contentType !== undefined) {
    const type = reply.contentType.split(';')[0]?.trim().toLowerCase();
    if (type !== TRUSTED_FACETS_CONTENT_TYPE) {
      throw bad('Content-Type', TRUSTED_FACETS_CONTENT_TYPE, describe(reply.contentType));
    }
  }
  const allowed = parseTrustedFacets(body, appId);
  return facet !== undefined && allowed.includes(facet);
}

/**
 * python-fido2's `verify_app_id` rule for an origin using an https appId without a facet
 * list: both https, and the origin's host equals the appId's host or is a subdomain of it,
 * unless the appId's host is itself a public suffix.
 */
export function verifyAppIdOrigin(appId: string, origin: string): boolean {
  const appHost = httpsHost(appId);
  const originHost = httpsHost(origin);
  if (appHost === undefined || originHost === undefined) return false;
  if (originHost === appHost) return true;
  if (tldts().getPublicSuffix(appHost, PSL) === appHost) return false;
  return originHost.endsWith(`.${appHost}`);
}

function httpsHost(value: string): string | undefined {
  if (!/^https:/i.test(value)) return undefined;
  try {
    const host = new URL(value).hostname.toLowerCase();
    return host === '' ? undefined : host;
  } catch {
    return undefined;
  }
}

function objectAt(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw bad(field, 'an object', describe(value));
  }
  return value as Record<string, unknown>;
}

function bad(field: string, expected: string, actual: string): U2fError {
  return new U2fError('BAD_TRUSTED_FACETS', `${field}: expected ${expected}, got ${actual}`, {
    field, expected, actual });
}
