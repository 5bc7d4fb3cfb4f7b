import type { FindingInput, LastCounter } from '../history/index.js';
import { COUNTER, hex32, PROBE_SW, type ProbeKind } from './limits.js';

/** One answer of the key, in the order it came. */
export type JudgedObservation =
  | { event: 'sign'; credentialId: number; value: number }
  | { event: ProbeKind; credentialId: number; statusWord: number };

/** How the counter is kept: one for the key, one per credential, or not yet known. */
export type CounterScope = 'global' | 'per-credential' | 'unknown';

export interface ProbeResult {
  kind: ProbeKind;
  credentialId: number;
  statusWord: number;
  expectedStatusWord: number;
  /** Counter before and after the probe (signatures bracketing it); absent if not bracketed. */
  before?: number;
  after?: number;
  /** `ok`, `incremented`, `unexpected-status`, or `not-judged` (no constant step to compare). */
  verdict: 'ok' | 'incremented' | 'unexpected-status' | 'not-judged';
}

export interface CredentialSummary {
  credentialId: number;
  signs: number;
  first?: number;
  last?: number;
  /** The last value stored for it by an earlier run. */
  history?: LastCounter;
}

export interface CounterSummary {
  scope: CounterScope;
  /** The usual step between signatures (the mode of the steps seen); undefined before two. */
  step?: number;
  /** Whether every step seen was the same. */
  constantStep: boolean;
  /** Step size → how many times it was seen. */
  stepHistogram: Record<string, number>;
  probes: ProbeResult[];
  maxValue?: number;
  /** Signatures left before 0xffffffff at the highest value seen. */
  headroom?: number;
  wrapped: boolean;
  exhausted: boolean;
  credentials: CredentialSummary[];
}

/** Where a credential is shown in findings: `credential #3 (kh 1a2b3c4d…)`. */
export type CredentialLabel = (credentialId: number) => string;

/**
 * Judges a key's counter as its answers arrive (conformance §1.7 CT-01..CT-03): every
 * signature must carry a counter above the credential's previous one in this run, and the
 * first one above the last stored by an earlier run. `observe` returns the findings each
 * answer causes at once, so they can be stored before the next request; `finish` adds the
 * findings that need the whole run (scope, step, probes, the 2^32 limit).
 */
export class CounterJudge {
  private readonly observations: JudgedObservation[] = [];
  private readonly credentials = new Map<number, CredentialSummary>();
  private readonly reported = new Set<string>();
  private wrapped = false;
  private exhausted = false;

  constructor(
    private readonly runId: number,
    private readonly label: CredentialLabel,
    /** The last counter an earlier run stored for a credential. */
    private readonly history: (credentialId: number) => LastCounter | undefined,
  ) {}

  /** Records one answer; returns the findings it causes now. */
  observe(observation: JudgedObservation): FindingInput[] {
    this.observations.push(observation);
    if (observation.event !== 'sign') return [];

    const { credentialId, value } = observation;
    let credential = this.credentials.get(credentialId);
    if (!credential) {
      const history = this.history(credentialId);
      credential = { credentialId, signs: 0, ...(history ? { history } : {}) };
      this.credentials.set(credentialId, credential);
    }
    const previous = credential.last;
    credential.signs += 1;
    credential.first ??= value;
    credential.last = value;

    if (previous === undefined) return this.againstHistory(credentialId, value, credential.history);
    return this.againstPrevious(credentialId, previous, value);
  }

  /** The highest counter signed so far, if any. */
  get maxValue(): number | undefined {
    let max: number | undefined;
    for (const o of this.observations) if (o.event === 'sign') max = Math.max(max ?? 0, o.value);
    return max;
  }

  /** The key refused to sign with its counter at the top: the conforming end of a u32. */
  markExhausted(): void {
    this.exhausted = true;
  }

  private againstHistory(credentialId: number, value: number, last?: LastCounter): FindingInput[] {
    if (!last || value > last.value) return [];
    const who = this.label(credentialId);
    const lower = value < last.value;
    return [
      {
        kind: lower ? 'history-regression' : 'history-repeat',
        severity: 'fail',
        credentialId,
        value,
        previousValue: last.value,
        previousRunId: last.runId,
        message:
          `${who}: counter ${value} in run ${this.runId} is ${lower ? 'lower than' : 'equal to'} ` +
          `${last.value}, the last value stored for it in run ${last.runId}`,
      },
    ];
  }

  private againstPrevious(credentialId: number, previous: number, value: number): FindingInput[] {
    if (value > previous) return [];
    const who = this.label(credentialId);
    const base = { severity: 'fail' as const, credentialId, value, previousValue: previous };

    if (value === previous) {
      // A stuck counter repeats on every signature; one finding per credential says it.
      if (this.once(`repeat:${credentialId}`)) return [];
      return [
        {
          ...base,
          kind: 'repeat',
          message: `${who}: counter stayed at ${value} in run ${this.runId} (must increase)`,
        },
      ];
    }
    if (previous >= COUNTER.WRAP_FROM && value < COUNTER.WRAP_TO) {
      this.wrapped = true;
      return [
        {
          ...base,
          kind: 'wrap',
          message:
            `${who}: counter wrapped from ${hex32(previous)} to ${hex32(value)} in run ` +
            `${this.runId} (a key must stop signing at 0xffffffff, not wrap)`,
        },
      ];
    }
    return [
      {
        ...base,
        kind: 'regression',
        message: `${who}: counter went back from ${previous} to ${value} in run ${this.runId}`,
      },
    ];
  }

  /** True when `key` was already reported (and marks it). */
  private once(key: string): boolean {
    if (this.reported.has(key)) return true;
    this.reported.add(key);
    return false;
  }

  /** The whole-run verdicts: scope, step, probes and the 2^32 limit, with their findings. */
  finish(): { summary: CounterSummary; findings: FindingInput[] } {
    const findings: FindingInput[] = [];
    const scope = this.scope();
    const { deltas, probeDeltas } = this.deltas(scope);

    const stepHistogram: Record<string, number> = {};
    for (const delta of [...deltas, ...probeDeltas.map((p) => p.delta)]) {
      if (delta > 0) stepHistogram[delta] = (stepHistogram[delta] ?? 0) + 1;
    }
    const plain = deltas.filter((d) => d > 0);
    const fromProbes = probeDeltas.map((p) => p.delta).filter((d) => d > 0);
    const step =
      plain.length > 0 ? mode(plain) : fromProbes.length > 0 ? Math.min(...fromProbes) : undefined;
    const constantStep = new Set(plain).size <= 1;

    const probes = this.judgeProbes(probeDeltas, step, constantStep, findings);
    const large = plain.find((d) => d >= COUNTER.LARGE_STEP);
    if (large !== undefined) {
      findings.push({
        kind: 'large-step',
        severity: 'warn',
        value: large,
        message: `counter stepped by ${large} between signatures (CT-03 expects 0 < step < 256; is the counter read in the wrong byte order?)`,
      });
    }

    const values = this.observations.flatMap((o) => (o.event === 'sign' ? [o.value] : []));
    const maxValue = values.length ? Math.max(...values) : undefined;
    const headroom = maxValue === undefined ? undefined : COUNTER.MAX - maxValue;
    this.judgeLimit(maxValue, headroom, findings);

    const summary: CounterSummary = {
      scope,
      ...(step === undefined ? {} : { step }),
      constantStep,
      stepHistogram,
      probes,
      ...(maxValue === undefined ? {} : { maxValue, headroom }),
      wrapped: this.wrapped,
      exhausted: this.exhausted,
      credentials: [...this.credentials.values()],
    };
    return { summary, findings };
  }

  /**
   * Global when signatures of different credentials share one rising sequence; per
   * credential when a credential's counter falls below another's more often than the
   * credentials' own sequences fall (a regression in a global counter falls in both).
   */
  private scope(): CounterScope {
    const signs = this.observations.filter((o) => o.event === 'sign');
    if (new Set(signs.map((s) => s.credentialId)).size < 2) return 'unknown';

    let crossings = 0;
    let crossFalls = 0;
    let ownFalls = 0;
    const lastOf = new Map<number, number>();
    for (let i = 0; i < signs.length; i++) {
      const sign = signs[i]!;
      const before = signs[i - 1];
      if (before && before.credentialId !== sign.credentialId) {
        crossings++;
        if (sign.value <= before.value) crossFalls++;
      }
      const own = lastOf.get(sign.credentialId);
      if (own !== undefined && sign.value <= own) ownFalls++;
      lastOf.set(sign.credentialId, sign.value);
    }
    if (crossings === 0) return 'unknown';
    return crossFalls > ownFalls ? 'per-credential' : 'global';
  }

  /**
   * Steps between consecutive signatures: across the key for a global counter, else within
   * each credential. A step with a probe between its two signatures belongs to that probe.
   */
  private deltas(scope: CounterScope) {
    const deltas: number[] = [];
    const probeDeltas: { index: number; before: number; after: number; delta: number }[] = [];
    const last = new Map<number, { value: number; probes: number[] }>();
    const key = (credentialId: number) => (scope === 'global' ? 0 : credentialId);

    this.observations.forEach((o, index) => {
      const slot = key(o.credentialId);
      if (o.event !== 'sign') {
        last.get(slot)?.probes.push(index);
        return;
      }
      const previous = last.get(slot);
      if (previous) {
        const delta = o.value - previous.value;
        if (previous.probes.length === 0) deltas.push(delta);
        for (const probe of previous.probes) {
          probeDeltas.push({ index: probe, before: previous.value, after: o.value, delta });
        }
      }
      last.set(slot, { value: o.value, probes: [] });
    });
    return { deltas, probeDeltas };
  }

  private judgeProbes(
    probeDeltas: { index: number; before: number; after: number; delta: number }[],
    step: number | undefined,
    constantStep: boolean,
    findings: FindingInput[],
  ): ProbeResult[] {
    const results: ProbeResult[] = [];
    this.observations.forEach((o, index) => {
      if (o.event === 'sign') return;
      const expectedStatusWord = PROBE_SW[o.event];
      const bracket = probeDeltas.find((p) => p.index === index);
      const who = this.label(o.credentialId);
      const sw = hex16(o.statusWord);
      let verdict: ProbeResult['verdict'] = 'ok';

      if (o.statusWord !== expectedStatusWord) {
        verdict = 'unexpected-status';
        findings.push({
          kind: `${o.event}-status`,
          severity: 'warn',
          credentialId: o.credentialId,
          message: `${who}: ${o.event} request answered ${sw}, expected ${hex16(expectedStatusWord)}`,
        });
      }
      if (!bracket || step === undefined || !constantStep) {
        if (verdict === 'ok') verdict = 'not-judged';
      } else if (bracket.delta > step) {
        verdict = 'incremented';
        findings.push({
          kind: `increment-on-${o.event}`,
          severity: 'fail',
          credentialId: o.credentialId,
          previousValue: bracket.before,
          value: bracket.after,
          message:
            `${who}: counter went ${bracket.before} → ${bracket.after} across a ${o.event} ` +
            `request (${sw}) in run ${this.runId}; signatures step by ${step}, so the request ` +
            'that produced no signature moved the counter',
        });
      }
      results.push({
        kind: o.event,
        credentialId: o.credentialId,
        statusWord: o.statusWord,
        expectedStatusWord,
        ...(bracket ? { before: bracket.before, after: bracket.after } : {}),
        verdict,
      });
    });
    return results;
  }

  private judgeLimit(
    maxValue: number | undefined,
    headroom: number | undefined,
    findings: FindingInput[],
  ) {
    if (maxValue === undefined || headroom === undefined) return;
    if (this.exhausted) {
      findings.push({
        kind: 'exhausted',
        severity: 'info',
        value: maxValue,
        message: `the key refused to sign with its counter at ${hex32(maxValue)} (conforming: it does not wrap)`,
      });
    } else if (headroom < COUNTER.NEAR_LIMIT_MARGIN) {
      findings.push({
        kind: 'near-limit',
        severity: 'warn',
        value: maxValue,
        message: `counter reached ${hex32(maxValue)}: ${headroom} signature(s) left before 0xffffffff`,
      });
    } else if (maxValue > COUNTER.SIGNED_LIMIT) {
      findings.push({
        kind: 'above-2^31',
        severity: 'warn',
        value: maxValue,
        message: `counter reached ${hex32(maxValue)}, above 0x80000000 (CT-03); relying parties storing it signed will see it negative`,
      });
    }
  }
}

const hex16 = (value: number) => `0x${value.toString(16).padStart(4, '0')}`;

/** The most frequent value; the smallest among equals. */
function mode(values: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = values[0]!;
  for (const [value, count] of counts) {
    const bestCount = counts.get(best)!;
    if (count > bestCount || (count === bestCount && value < best)) best = value;
  }
  return best;
}
