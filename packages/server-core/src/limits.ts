/**
 * Upper bounds on what a client may send, checked before any decoding or parsing so that a
 * 10 MB field costs no more than a short one. Real messages are far below them: Chrome's
 * clientData is ~300 bytes, attestation certificates 0.5-1.5 KB (server.md 2.1).
 */
export const LIMITS = Object.freeze({
  /** A response given as JSON text, in characters. */
  RESPONSE_JSON_CHARS: 65_536,
  /** One string member of a response (registrationData, clientData, ...), in characters. */
  RESPONSE_FIELD_CHARS: 32_768,
  /** Decoded clientData, in bytes. */
  CLIENT_DATA_BYTES: 16_384,
  /** Nesting of arrays and objects in clientData (browsers send 2: cid_pubkey). */
  CLIENT_DATA_DEPTH: 16,
  /** The attestation certificate inside registrationData, in bytes. */
  CERTIFICATE_BYTES: 8_192,
  /** Nesting of lists and MDS `entries` in a metadata document given to a TrustStore. */
  METADATA_DEPTH: 8,
} as const);

/** Challenge lengths in bytes a request may carry: at least 128 bits of randomness. */
export const CHALLENGE_BOUNDS = Object.freeze({ MIN: 16, MAX: 64 } as const);
