import type { Profile, ProfileName } from './profiles.js';
import type { TestContext } from './context.js';

/** The layer of the stack a case exercises, in the order the catalogue lists them. */
export const LAYERS = Object.freeze([
  'framing',
  'channel',
  'hid-command',
  'apdu',
  'register',
  'authenticate',
  'counter',
  'presence',
  'error',
  'timing',
] as const);
export type Layer = (typeof LAYERS)[number];

/**
 * What a case needs from a person at a real key: a touch, a promise not to touch, or unplug
 * and replug. Against the virtual key the harness supplies all three itself.
 */
export type PersonNeed = 'touch' | 'no-touch' | 'replug';

/** One conformance case: catalogue data and the procedure that checks it. */
export interface ConformanceCase {
  /** Stable id: the catalogue's where it has one (FR-03, AU-06), the same scheme otherwise. */
  readonly id: string;
  readonly layer: Layer;
  /** One line: what is sent and what must come back. */
  readonly title: string;
  /** Where the case comes from: suite test names, spec sections, or "uncovered (§3)". */
  readonly source: string;
  readonly person: readonly PersonNeed[];
  /** Profiles the case belongs to; all when omitted. */
  readonly profiles?: readonly ProfileName[];
  /** Runs the case; throws ConformanceFailure (fail) or SkipCase (skip). */
  run(ctx: TestContext): Promise<void>;
}

/** Whether a case runs under `profile`. */
export function appliesTo(test: ConformanceCase, profile: Profile): boolean {
  return test.profiles === undefined || test.profiles.includes(profile.name);
}

/** A catalogued case we leave out, and why (CTAP2-only, host-side, NFC-only, needs metadata). */
export interface ExcludedCase {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  readonly reason: string;
}
