/** Counter limits and thresholds (U2F RAW §5.4: the counter is a big-endian u32). */
export const COUNTER = Object.freeze({
  /** The largest value a u32 counter can carry. */
  MAX: 0xffffffff,
  /** CT-03 (SoloKeys test_u2f): a counter above 2^31 trips relying parties that store it signed. */
  SIGNED_LIMIT: 0x80000000,
  /** Within this many signatures of MAX the key is reported as near the limit. */
  NEAR_LIMIT_MARGIN: 0x10000,
  /** CT-03: a step of 256 or more suggests the bytes of the counter are read in the wrong order. */
  LARGE_STEP: 256,
  /** A drop from at least WRAP_FROM to below WRAP_TO is reported as a wrap, not a regression. */
  WRAP_FROM: 0xf0000000,
  WRAP_TO: 0x10000000,
} as const);

/** `0x0000002a` */
export const hex32 = (value: number) => `0x${value.toString(16).padStart(8, '0')}`;

/** Status words the probes expect (U2F RAW §5.1, §3.3). */
export const PROBE_SW = Object.freeze({
  /** Check-only (P1 0x07) with a valid key handle: "conditions not satisfied" is the success. */
  'check-only': 0x6985,
  /** AUTHENTICATE with a key handle the key did not issue. */
  'foreign-handle': 0x6a80,
  /** AUTHENTICATE with presence enforced and nobody touching the key. */
  'no-presence': 0x6985,
} as const);

export type ProbeKind = keyof typeof PROBE_SW;
