import { describe } from './bytes.js';
import { U2fError, type U2fErrorCode } from './errors.js';
import { LIMITS } from './limits.js';

/** The protocol version string of U2F v1.1/v1.2 raw messages. */
export const U2F_V2 = 'U2F_V2';

/** A key the client may use (JS API v1.1 RegisteredKey). */
export interface RegisteredKey {
  version: string;
  keyHandle: string;
  appId?: string;
  transports?: string[];
}

/** What the relying party persists for one registered key. */
export interface DeviceRegistration {
  version: string;
  keyHandle: string;
  publicKey: string;
  appId: string;
  transports: string[] | null;
  /** The last verified counter; absent until the first authentication. */
  counter?: number;
}

/** JS API v1.1 registration request. */
export interface RegisterRequestMessage {
  appId: string;
  registerRequests: { version: 'U2F_V2'; challenge: string }[];
  registeredKeys: RegisteredKey[];
}

/** JS API v1.1 sign request: one challenge for every key. */
export interface SignRequestMessage {
  appId: string;
  challenge: string;
  registeredKeys: RegisteredKey[];
}

/** JS API v1.0 per-key sign request. */
export interface LegacySignRequest {
  version: string;
  challenge: string;
  keyHandle: string;
  appId: string;
}

/** JS API v1.0 registration request. */
export interface LegacyRegisterRequest {
  version: string;
  challenge: string;
  appId: string;
}

/** A registration response (v1.0 responses have no `version`). */
export interface RegisterResponse {
  registrationData: string;
  clientData: string;
  version?: string;
  errorCode?: number | string;
  errorMessage?: string;
}

/** An authentication response. */
export interface SignResponse {
  keyHandle: string;
  signatureData: string;
  clientData: string;
  errorCode?: number | string;
  errorMessage?: string;
}

/** JS API error codes (FIDO U2F JavaScript API, "ErrorCode"). */
export const CLIENT_ERROR_CODE = Object.freeze({
  OK: 0,
  OTHER_ERROR: 1,
  BAD_REQUEST: 2,
  CONFIGURATION_UNSUPPORTED: 3,
  DEVICE_INELIGIBLE: 4,
  TIMEOUT: 5,
} as const);

const CLIENT_ERROR_NAME: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(CLIENT_ERROR_CODE).map(([name, code]) => [code, name])),
);

/**
 * Parses JSON text or takes an object; anything else, or JSON that is not an object, is a
 * U2fError with `code`.
 */
export function asRecord(value: unknown, what: string, code: U2fErrorCode):
  Record<string, unknown> {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new U2fError('BAD_JSON', `${what}: expected JSON text, got unparseable text`, {
        field: what, expected: 'JSON', actual: describe(value) });
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new U2fError(code, `${what}: expected an object, got ${describe(parsed)}`, {
      field: what, expected: 'object', actual: describe(parsed) });
  }
  return parsed as Record<string, unknown>;
}

/**
 * A client's response as a record: JSON text of at most LIMITS.RESPONSE_JSON_CHARS, or an
 * object. Bounded before parsing, so a huge text costs nothing.
 *
 * @throws U2fError TOO_LARGE, BAD_JSON or BAD_RESPONSE.
 */
export function readResponse(value: unknown): Record<string, unknown> {
  if (typeof value === 'string' && value.length > LIMITS.RESPONSE_JSON_CHARS) {
    throw tooLarge('response', LIMITS.RESPONSE_JSON_CHARS, value.length);
  }
  return asRecord(value, 'response', 'BAD_RESPONSE');
}

/**
 * A required string member of a response of at most LIMITS.RESPONSE_FIELD_CHARS.
 *
 * @throws U2fError BAD_RESPONSE or TOO_LARGE.
 */
export function responseString(response: Record<string, unknown>, name: string): string {
  const value = requireString(response, name, 'response', 'BAD_RESPONSE');
  if (value.length > LIMITS.RESPONSE_FIELD_CHARS) {
    throw tooLarge(`response.${name}`, LIMITS.RESPONSE_FIELD_CHARS, value.length);
  }
  return value;
}

function tooLarge(field: string, limit: number, length: number): U2fError {
  return new U2fError('TOO_LARGE', `${field}: ${length} characters, expected at most ${limit}`,
    { field, expected: `<= ${limit} characters`, actual: `${length} characters` });
}

/** Parses JSON text if given text; returns anything else as it is. */
export function parseJsonText(value: unknown, what: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new U2fError('BAD_JSON', `${what}: expected JSON text, got unparseable text`, {
      field: what, expected: 'JSON', actual: describe(value) });
  }
}

/** A required string member, else U2fError with `code`. */
export function requireString(record: Record<string, unknown>, name: string, what: string,
  code: U2fErrorCode): string {
  const value = Object.hasOwn(record, name) ? record[name] : undefined;
  if (typeof value !== 'string') {
    throw new U2fError(code, `${what}.${name}: expected a string, got ` +
      (value === undefined ? 'nothing' : describe(value)), {
      field: `${what}.${name}`, expected: 'string',
      actual: value === undefined ? 'missing' : describe(value) });
  }
  return value;
}

/** An optional string member; present but not a string is a U2fError with `code`. */
export function optionalString(record: Record<string, unknown>, name: string, what: string,
  code: U2fErrorCode): string | undefined {
  if (!Object.hasOwn(record, name) || record[name] === undefined) return undefined;
  return requireString(record, name, what, code);
}

/**
 * Throws U2fError CLIENT_ERROR when a response carries a non-zero `errorCode` (a number, a
 * numeric string such as Firefox 57's "0", or a name such as "DEVICE_INELIGIBLE").
 */
export function checkClientError(response: Record<string, unknown>, what: string): void {
  if (!Object.hasOwn(response, 'errorCode')) return;
  const raw = response['errorCode'];
  if (raw === undefined || raw === null) return;

  let code: number | undefined;
  let name: string | undefined;
  if (typeof raw === 'number' && Number.isInteger(raw)) {
    code = raw;
  } else if (typeof raw === 'string' && /^\s*\d+\s*$/.test(raw)) {
    code = Number(raw);
  } else if (typeof raw === 'string' && Object.hasOwn(CLIENT_ERROR_CODE, raw)) {
    name = raw;
    code = CLIENT_ERROR_CODE[raw as keyof typeof CLIENT_ERROR_CODE];
  }
  if (code === 0) return;

  name ??= code === undefined ? undefined : CLIENT_ERROR_NAME[code];
  const label = name ?? 'unknown error code';
  const shown = typeof raw === 'string' ? JSON.stringify(raw.slice(0, 40)) : String(raw);
  const message = typeof response['errorMessage'] === 'string'
    ? `: ${JSON.stringify((response['errorMessage'] as string).slice(0, 200))}` : '';
  const details: { field: string; expected: string; actual: string; clientErrorCode?: number } = {
    field: `${what}.errorCode`, expected: '0 (OK) or absent', actual: shown };
  if (code !== undefined) details.clientErrorCode = code;
  throw new U2fError('CLIENT_ERROR', `${what}: client reported ${label} (errorCode ` +
    `${shown})${message}`, details);
}

/** Validates an array of RegisteredKey-like entries from a request. */
export function readRegisteredKeys(value: unknown, what: string): RegisteredKey[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new U2fError('BAD_REQUEST', `${what}: expected an array, got ${describe(value)}`, {
      field: what, expected: 'array', actual: describe(value) });
  }
  return value.map((entry, i) => {
    const record = asRecord(entry, `${what}[${i}]`, 'BAD_REQUEST');
    const key: RegisteredKey = {
      version: optionalString(record, 'version', `${what}[${i}]`, 'BAD_REQUEST') ?? U2F_V2,
      keyHandle: requireString(record, 'keyHandle', `${what}[${i}]`, 'BAD_REQUEST'),
    };
    const appId = optionalString(record, 'appId', `${what}[${i}]`, 'BAD_REQUEST');
    if (appId !== undefined) key.appId = appId;
    return key;
  });
}
