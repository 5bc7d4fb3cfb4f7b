/** What a run was: one invocation of a keybench command. */
export interface RunInput {
  /** The command, e.g. `counters`, `conformance`, `check`. */
  command: string;
  /** The conformance profile or similar variant, when the command has one. */
  profile?: string;
  /** Versions of the things that ran (keybench packages, node, firmware…); see `keybenchVersions`. */
  versions?: Record<string, string>;
  argv?: readonly string[];
}

export type RunStatus = 'running' | 'passed' | 'failed' | 'error';

export interface RunRecord {
  id: number;
  command: string;
  profile: string | null;
  versions: Record<string, string>;
  argv: string[];
  pid: number | null;
  startedAt: string;
  endedAt: string | null;
  status: RunStatus;
  exitCode: number | null;
  summary: unknown;
  /** Devices the run touched (ids). */
  deviceIds: number[];
}

/**
 * What identifies a key: the SHA-256 fingerprint (hex) of its attestation certificate, plus
 * the USB product string and serial number where the transport knows them (a batch of keys
 * of one model shares one certificate).
 */
export interface DeviceInput {
  fingerprint: string;
  product?: string;
  serial?: string;
  subject?: string;
  issuer?: string;
  /** U2F VERSION answer. */
  version?: string;
  /** How it was reached this time (`udp:127.0.0.1:8111`, `hid:/dev/hidraw3`). */
  description?: string;
}

export interface DeviceRecord {
  id: number;
  identity: string;
  fingerprint: string;
  product: string | null;
  serial: string | null;
  subject: string | null;
  issuer: string | null;
  version: string | null;
  description: string | null;
  firstSeen: string;
  lastSeen: string;
}

export interface CredentialInput {
  appId: string;
  keyHandle: Uint8Array;
  /** Uncompressed P-256 point (65 bytes). */
  publicKey: Uint8Array;
}

export interface CredentialRecord {
  id: number;
  deviceId: number;
  appId: string;
  keyHandle: Uint8Array;
  publicKey: Uint8Array;
  createdRunId: number | null;
  createdAt: string;
}

/**
 * What was sent to get a counter: a signature with presence enforced (`sign`), check-only
 * (P1 0x07), a request refused for lack of presence (0x6985), a foreign key handle (0x6A80).
 */
export type CounterEvent = 'sign' | 'check-only' | 'no-presence' | 'foreign-handle';

export interface CounterInput {
  deviceId: number;
  credentialId: number;
  event: CounterEvent;
  /** The counter the key reported; absent when the answer carried none (e.g. 0x6985). */
  value?: number;
  p1?: number;
  statusWord?: number;
  userPresence?: number;
}

export interface CounterRecord {
  id: number;
  runId: number;
  deviceId: number;
  credentialId: number;
  at: string;
  event: CounterEvent;
  p1: number | null;
  statusWord: number | null;
  value: number | null;
  userPresence: number | null;
}

export type FindingSeverity = 'fail' | 'warn' | 'info';

/** A judgement about a run: a regression (fail), a doubtful behaviour (warn), a fact (info). */
export interface FindingInput {
  kind: string;
  severity: FindingSeverity;
  message: string;
  deviceId?: number;
  credentialId?: number;
  previousValue?: number;
  value?: number;
  /** The earlier run the value is compared with, for history regressions. */
  previousRunId?: number;
}

export interface FindingRecord {
  id: number;
  runId: number;
  deviceId: number | null;
  credentialId: number | null;
  kind: string;
  severity: FindingSeverity;
  message: string;
  previousValue: number | null;
  value: number | null;
  previousRunId: number | null;
  at: string;
}

export interface ConformanceResultInput {
  testId: string;
  /** e.g. pass, fail, skip, error. */
  status: string;
  ms?: number;
  message?: string;
  deviceId?: number;
}

export interface ConformanceResultRecord {
  id: number;
  runId: number;
  deviceId: number | null;
  testId: string;
  status: string;
  ms: number | null;
  message: string | null;
  at: string;
}

export interface CheckInput {
  /** The device spec or description checked. */
  device: string;
  ok: boolean;
  deviceId?: number;
  step?: string;
  code?: string;
  message?: string;
  counter?: number;
  details?: unknown;
}

export interface CheckRecord {
  id: number;
  runId: number;
  deviceId: number | null;
  device: string;
  ok: boolean;
  step: string | null;
  code: string | null;
  message: string | null;
  counter: number | null;
  details: unknown;
  at: string;
}

/** The last counter stored for a credential, and the run that stored it. */
export interface LastCounter {
  value: number;
  runId: number;
  observationId: number;
  at: string;
}
