import { websafeDecode } from './base64url.js';
import { decodeUtf8, describe } from './bytes.js';
import { U2fError } from './errors.js';
import { scanJsonObject } from './json-scan.js';
import { LIMITS } from './limits.js';

/** clientData `typ` values (FIDO U2F JavaScript API, "Client data"). */
export const CLIENT_DATA_TYPE = Object.freeze({
  REGISTER: 'navigator.id.finishEnrollment',
  SIGN: 'navigator.id.getAssertion',
} as const);

export type ClientDataType = (typeof CLIENT_DATA_TYPE)[keyof typeof CLIENT_DATA_TYPE];

/** A decoded clientData: the exact bytes received plus the members we check. */
export interface ClientData {
  /** The bytes exactly as decoded; challengeParam is SHA-256 of these, never a re-encoding. */
  bytes: Uint8Array;
  typ: string;
  /** The challenge as sent (base64url text). */
  challenge: string;
  /** The challenge decoded. */
  challengeBytes: Uint8Array;
  origin: string;
  /** Channel ID binding in whatever form the client sent (JWK object, "unused", ""). */
  cidPubkey?: unknown;
  /** The whole parsed object, extra members included. */
  json: Record<string, unknown>;
}

/**
 * Decodes a clientData (base64url text, or the raw bytes) and checks its shape: a JSON
 * object as {@link decodeClientJson} requires, with string members `typ`, `challenge`
 * (base64url) and `origin`. Extra members and any `cid_pubkey` form are accepted. `typ` is
 * not compared here.
 *
 * @throws U2fError BAD_BASE64, TOO_LARGE or CLIENT_DATA_INVALID.
 */
export function parseClientData(input: string | Uint8Array): ClientData {
  const bytes = typeof input === 'string' ? websafeDecode(input, 'clientData') : input;
  if (!(bytes instanceof Uint8Array)) {
    throw new U2fError('CLIENT_DATA_INVALID', `clientData: expected base64url text or bytes, ` +
      `got ${describe(input)}`, { field: 'clientData', expected: 'string', actual: typeof input });
  }

  const record = decodeClientJson(bytes, 'clientData');
  const typ = stringMember(record, 'typ', 'clientData');
  const challenge = stringMember(record, 'challenge', 'clientData');
  const origin = stringMember(record, 'origin', 'clientData');
  const challengeBytes = websafeDecode(challenge, 'clientData.challenge');

  const out: ClientData = { bytes, typ, challenge, challengeBytes, origin, json: record };
  if (Object.hasOwn(record, 'cid_pubkey')) out.cidPubkey = record['cid_pubkey'];
  return out;
}

/**
 * Throws U2fError CLIENT_DATA_TYPE unless `clientData.typ` is the expected one.
 */
export function checkClientDataType(clientData: ClientData, expected: ClientDataType): void {
  if (clientData.typ !== expected) {
    throw new U2fError('CLIENT_DATA_TYPE', `clientData.typ: expected "${expected}", got ` +
      describe(clientData.typ), { field: 'clientData.typ', expected, actual: clientData.typ });
  }
}

function invalid(field: string, expected: string, actual: string): U2fError {
  return new U2fError('CLIENT_DATA_INVALID', `${field}: expected ${expected}, got ${actual}`, {
    field,
    expected,
    actual,
  });
}

/**
 * The JSON object a client sent as bytes (U2F clientData, WebAuthn clientDataJSON): at most
 * LIMITS.CLIENT_DATA_BYTES, valid UTF-8 without a byte-order mark, nested at most
 * LIMITS.CLIENT_DATA_DEPTH deep, no top-level member twice. `field` names it in errors.
 *
 * A repeated member is rejected rather than resolved: JSON.parse keeps the last `typ`, other
 * parsers the first, and a signed message must mean one thing to every reader.
 *
 * @throws U2fError TOO_LARGE or CLIENT_DATA_INVALID.
 */
export function decodeClientJson(bytes: Uint8Array, field: string): Record<string, unknown> {
  if (bytes.length > LIMITS.CLIENT_DATA_BYTES) {
    throw new U2fError('TOO_LARGE', `${field}: ${bytes.length} bytes, expected at most ` +
      `${LIMITS.CLIENT_DATA_BYTES}`, { field,
      expected: `<= ${LIMITS.CLIENT_DATA_BYTES} bytes`, actual: `${bytes.length} bytes` });
  }

  const text = decodeUtf8(bytes);
  if (text === undefined) {
    throw invalid(field, 'valid UTF-8', 'invalid UTF-8 bytes');
  }
  if (text.charCodeAt(0) === 0xfeff) {
    throw invalid(field, 'JSON without a byte-order mark', 'a leading BOM (ef bb bf)');
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid(field, 'a JSON object', `unparseable JSON (${bytes.length} bytes)`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw invalid(field, 'a JSON object', describe(json));
  }

  const scan = scanJsonObject(text, LIMITS.CLIENT_DATA_DEPTH);
  if (scan.duplicate !== undefined) {
    throw invalid(`${field}.${scan.duplicate.slice(0, 40)}`, 'each member once',
      `member ${describe(scan.duplicate)} twice`);
  }
  if (scan.depth > LIMITS.CLIENT_DATA_DEPTH) {
    throw invalid(field, `nesting at most ${LIMITS.CLIENT_DATA_DEPTH} deep`,
      `nesting deeper than ${LIMITS.CLIENT_DATA_DEPTH}`);
  }

  return json as Record<string, unknown>;
}

/** A string member of a client's JSON object, else U2fError CLIENT_DATA_INVALID. */
export function stringMember(record: Record<string, unknown>, name: string, field: string):
  string {
  const value = Object.hasOwn(record, name) ? record[name] : undefined;
  if (typeof value !== 'string') {
    throw invalid(`${field}.${name}`, 'a string', value === undefined ? 'missing' :
      describe(value));
  }
  return value;
}
