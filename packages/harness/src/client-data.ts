import { createHash } from 'node:crypto';

/** clientData `typ` values of the U2F JS API. */
export const CLIENT_DATA_TYP = Object.freeze({
  REGISTER: 'navigator.id.finishEnrollment',
  SIGN: 'navigator.id.getAssertion',
} as const);

export type ClientDataTyp = (typeof CLIENT_DATA_TYP)[keyof typeof CLIENT_DATA_TYP];

/**
 * The clientData a browser would build for a U2F request: `typ`, `challenge`, `origin`, and
 * `cid_pubkey` "unused" as Chrome sends it when there is no TLS channel id.
 */
export function buildClientData(typ: ClientDataTyp, challenge: string, origin: string): string {
  return JSON.stringify({ typ, challenge, origin, cid_pubkey: 'unused' });
}

/** SHA-256 of bytes or of a string's UTF-8. */
export function sha256(input: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(input).digest());
}

/** base64url without padding, as the U2F JS API sends it. */
export function websafe(input: Uint8Array | string): string {
  return Buffer.from(input).toString('base64url');
}

/** The origin (scheme://host[:port]) of an appId URL; throws TypeError when it is not a URL. */
export function originOf(appId: string): string {
  let url: URL;
  try {
    url = new URL(appId);
  } catch {
    throw new TypeError(`app id "${appId}" is not a URL (expected e.g. https://example.com)`);
  }
  return url.origin;
}
