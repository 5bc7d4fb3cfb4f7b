/**
 * A case found the device wrong: what the case expected and what came. Thrown by the
 * expectations of a case; the runner turns it into a failed result.
 */
export class ConformanceFailure extends Error {
  override readonly name = 'ConformanceFailure';
  readonly expected: string;
  readonly actual: string;
  constructor(expected: string, actual: string, message?: string) {
    super(message ?? `expected ${expected}, got ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** A case cannot run here (a capability is missing, a person is needed): skip with reason. */
export class SkipCase extends Error {
  override readonly name = 'SkipCase';
}
