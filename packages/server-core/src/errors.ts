/**
 * Stable error codes for malformed or rejected data. A caller branches on `code`; the
 * message is for people and names the field, what was expected and what came.
 */
export const U2F_ERROR = Object.freeze({
  BAD_BASE64: 'BAD_BASE64',
  BAD_JSON: 'BAD_JSON',
  BAD_REQUEST: 'BAD_REQUEST',
  BAD_RESPONSE: 'BAD_RESPONSE',
  CLIENT_ERROR: 'CLIENT_ERROR',
  CLIENT_DATA_INVALID: 'CLIENT_DATA_INVALID',
  CLIENT_DATA_TYPE: 'CLIENT_DATA_TYPE',
  CHALLENGE_MISMATCH: 'CHALLENGE_MISMATCH',
  CHALLENGE_UNKNOWN: 'CHALLENGE_UNKNOWN',
  ORIGIN_NOT_ALLOWED: 'ORIGIN_NOT_ALLOWED',
  BAD_REGISTRATION_DATA: 'BAD_REGISTRATION_DATA',
  BAD_CERTIFICATE: 'BAD_CERTIFICATE',
  BAD_PUBLIC_KEY: 'BAD_PUBLIC_KEY',
  BAD_SIGNATURE_DATA: 'BAD_SIGNATURE_DATA',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  COUNTER_NOT_INCREASED: 'COUNTER_NOT_INCREASED',
  USER_NOT_PRESENT: 'USER_NOT_PRESENT',
  UNKNOWN_KEY_HANDLE: 'UNKNOWN_KEY_HANDLE',
  ATTESTATION_UNTRUSTED: 'ATTESTATION_UNTRUSTED',
  BAD_TRUSTED_FACETS: 'BAD_TRUSTED_FACETS',
  BAD_METADATA: 'BAD_METADATA',
  BAD_REGISTRATION: 'BAD_REGISTRATION',
  TOO_LARGE: 'TOO_LARGE',
} as const);

export type U2fErrorCode = (typeof U2F_ERROR)[keyof typeof U2F_ERROR];

/** Extra, machine-readable context carried by a U2fError. */
export interface U2fErrorDetails {
  /** The message field or byte field that failed, e.g. `clientData.origin`. */
  field?: string;
  expected?: string;
  actual?: string;
  /** COUNTER_NOT_INCREASED: the stored counter. */
  previous?: number;
  /** COUNTER_NOT_INCREASED: the counter the key reported. */
  current?: number;
  /** CLIENT_ERROR: the numeric JS API error code. */
  clientErrorCode?: number;
}

/** Malformed or rejected data from a client, a key or stored state. */
export class U2fError extends Error {
  readonly code: U2fErrorCode;
  readonly field?: string;
  readonly expected?: string;
  readonly actual?: string;
  readonly previous?: number;
  readonly current?: number;
  readonly clientErrorCode?: number;

  constructor(code: U2fErrorCode, message: string, details: U2fErrorDetails = {}) {
    super(`u2f: ${message}`);
    this.name = 'U2fError';
    this.code = code;
    if (details.field !== undefined) this.field = details.field;
    if (details.expected !== undefined) this.expected = details.expected;
    if (details.actual !== undefined) this.actual = details.actual;
    if (details.previous !== undefined) this.previous = details.previous;
    if (details.current !== undefined) this.current = details.current;
    if (details.clientErrorCode !== undefined) this.clientErrorCode = details.clientErrorCode;
  }
}
