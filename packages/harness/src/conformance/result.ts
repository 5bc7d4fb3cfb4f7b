import type { Layer } from './case.js';
import type { ProfileName } from './profiles.js';

export type CaseStatus = 'pass' | 'fail' | 'skip';

/** One traced report: ms since the case started, direction, 64 bytes as hex, and a note. */
export interface FrameLine {
  readonly ms: number;
  readonly direction: 'out' | 'in' | 'drop';
  readonly hex: string;
  readonly note?: string;
}

/** What one case did. */
export interface CaseResult {
  readonly id: string;
  readonly layer: Layer;
  readonly title: string;
  readonly source: string;
  readonly status: CaseStatus;
  readonly ms: number;
  /** Skips: why. Failures: the message. */
  readonly reason?: string;
  /** Failures: what the case expected and what came. */
  readonly expected?: string;
  readonly actual?: string;
  /** Failures: the reports exchanged during the case (the last ones when there were many). */
  readonly frames?: readonly FrameLine[];
  readonly metrics?: Readonly<Record<string, number | string>>;
  readonly notes?: readonly string[];
}

/** `passed` (nothing failed), `failed` (a case failed), `unusable` (the key could not be used). */
export type RunStatus = 'passed' | 'failed' | 'unusable';

/** The report of one run on one device. */
export interface RunReport {
  readonly device: string;
  readonly profile: ProfileName;
  readonly presence: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly status: RunStatus;
  /** Set when the key was unusable: why. */
  readonly error?: string;
  /** Who the key is (its attestation certificate), when the run asked (`onIdentity`). */
  readonly attestation?: { fingerprint: string; subject: string; issuer: string };
  /** From the INIT reply: protocol version, device version, capabilities. */
  readonly deviceInfo?: { protocolVersion: number; deviceVersion: string; capabilities: number };
  readonly results: readonly CaseResult[];
  /** Selected cases that never ran because --bail stopped the run at a failure. */
  readonly notRun?: number;
  readonly summary: {
    readonly total: number;
    readonly pass: number;
    readonly fail: number;
    readonly skip: number;
  };
}

export function summarize(results: readonly CaseResult[]) {
  const count = (status: CaseStatus) => results.filter((r) => r.status === status).length;
  return { total: results.length, pass: count('pass'), fail: count('fail'), skip: count('skip') };
}
