import { U2fError } from './errors.js';

/**
 * What to do when a key's counter does not go up:
 * - `strict` (default): the counter must be greater than the stored one;
 * - `allow-equal`: equal passes (global counters, clones), lower fails;
 * - `warn`: never fails; the verdict carries a warning instead.
 */
export type CounterPolicy = 'strict' | 'allow-equal' | 'warn';

export const COUNTER_POLICIES: readonly CounterPolicy[] = Object.freeze([
  'strict', 'allow-equal', 'warn',
]);

/** The outcome of the counter check. */
export interface CounterVerdict {
  ok: boolean;
  previous?: number;
  current: number;
  warning?: string;
}

/**
 * Compares the reported counter with the stored one. No stored counter (first use) passes,
 * whatever the value, 0 included.
 *
 * @throws U2fError COUNTER_NOT_INCREASED (fields `previous`, `current`) when the policy fails.
 */
export function checkCounter(previous: number | undefined, current: number,
  policy: CounterPolicy): CounterVerdict {
  if (previous === undefined) return { ok: true, current };
  if (current > previous) return { ok: true, previous, current };
  if (current === previous && policy === 'allow-equal') return { ok: true, previous, current };

  const relation = current === previous ? 'equal to' : 'lower than';
  const message = `signatureData.counter: ${current} is ${relation} the stored ${previous}, ` +
    `expected greater than ${previous}`;
  if (policy === 'warn') return { ok: false, previous, current, warning: message };
  throw new U2fError('COUNTER_NOT_INCREASED', message, {
    field: 'signatureData.counter', expected: `> ${previous}`, actual: String(current),
    previous, current });
}
