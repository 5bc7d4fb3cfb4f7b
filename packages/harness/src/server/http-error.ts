/** Error codes the example server itself gives (server-core's U2fError codes pass through). */
export const SERVER_ERROR = Object.freeze({
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  BAD_BODY: 'BAD_BODY',
  BAD_URL: 'BAD_URL',
  BAD_REQUEST: 'BAD_REQUEST',
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  HEADERS_TOO_LARGE: 'HEADERS_TOO_LARGE',
  BAD_USERNAME: 'BAD_USERNAME',
  MISSING_DATA: 'MISSING_DATA',
  BAD_JSON: 'BAD_JSON',
  NO_PENDING_REQUEST: 'NO_PENDING_REQUEST',
  CHALLENGE_UNKNOWN: 'CHALLENGE_UNKNOWN',
  NO_REGISTERED_KEYS: 'NO_REGISTERED_KEYS',
  KEY_HANDLE_TAKEN: 'KEY_HANDLE_TAKEN',
  INTERNAL: 'INTERNAL',
} as const);

/**
 * A request the server refuses: an HTTP status (4xx for anything the client sent) and a
 * stable code, answered as `{"error": code, "message": message}`.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly status: number;
  readonly code: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}
