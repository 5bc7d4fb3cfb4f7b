import { describe, expect, it } from 'vitest';

import { CounterJudge, type JudgedObservation } from '../src/counters/index.js';
import type { FindingInput, LastCounter } from '../src/history/index.js';

const label = (id: number) => `credential #${id}`;

function judge(
  observations: JudgedObservation[],
  history: Record<number, LastCounter> = {},
): { immediate: FindingInput[]; final: ReturnType<CounterJudge['finish']> } {
  const j = new CounterJudge(7, label, (id) => history[id]);
  const immediate = observations.flatMap((o) => j.observe(o));
  return { immediate, final: j.finish() };
}

const signs = (...pairs: [number, number][]): JudgedObservation[] =>
  pairs.map(([credentialId, value]) => ({ event: 'sign', credentialId, value }));

describe('counter judge', () => {
  it('accepts a strictly increasing global counter stepping by 1', () => {
    const { immediate, final } = judge(signs([1, 1], [2, 2], [1, 3], [2, 4], [1, 5]));

    expect(immediate).toEqual([]);
    expect(final.findings).toEqual([]);
    expect(final.summary).toMatchObject({
      scope: 'global',
      step: 1,
      constantStep: true,
      stepHistogram: { 1: 4 },
    });
  });

  it('tells per-credential counters from a global one', () => {
    const { final } = judge(signs([1, 1], [2, 1], [1, 2], [2, 2], [1, 3], [2, 3]));

    expect(final.summary.scope).toBe('per-credential');
    expect(final.summary.step).toBe(1);
    expect(final.findings).toEqual([]);
  });

  it('keeps a global counter global when one value regresses', () => {
    const { immediate, final } = judge(
      signs([1, 1], [2, 2], [1, 3], [2, 4], [1, 2], [2, 3], [1, 4]),
    );

    expect(final.summary.scope).toBe('global');
    expect(immediate).toMatchObject([
      { kind: 'regression', credentialId: 1, previousValue: 3, value: 2, severity: 'fail' },
      { kind: 'regression', credentialId: 2, previousValue: 4, value: 3, severity: 'fail' },
    ]);
    expect(immediate[0]!.message).toBe('credential #1: counter went back from 3 to 2 in run 7');
  });

  it('reports a stuck counter once per credential', () => {
    const { immediate } = judge(signs([1, 5], [1, 5], [1, 5], [1, 5]));

    expect(immediate).toHaveLength(1);
    expect(immediate[0]).toMatchObject({ kind: 'repeat', value: 5, previousValue: 5 });
  });

  it('reports a wrap past 0xffffffff and the 2^32 limit', () => {
    const { immediate, final } = judge(signs([1, 0xfffffffe], [1, 0xffffffff], [1, 0], [1, 1]));

    expect(immediate).toMatchObject([{ kind: 'wrap', previousValue: 0xffffffff, value: 0 }]);
    expect(immediate[0]!.message).toContain('wrapped from 0xffffffff to 0x00000000');
    expect(final.summary).toMatchObject({ wrapped: true, maxValue: 0xffffffff, headroom: 0 });
    expect(final.findings.map((f) => f.kind)).toEqual(['near-limit']);
  });

  it('names the earlier run when a first value is not above the stored one', () => {
    const history = {
      1: { value: 40, runId: 3, observationId: 1, at: '' },
      2: { value: 41, runId: 3, observationId: 2, at: '' },
    };
    const { immediate } = judge(signs([1, 1], [2, 41], [1, 2], [2, 42]), history);

    expect(immediate).toMatchObject([
      {
        kind: 'history-regression',
        credentialId: 1,
        value: 1,
        previousValue: 40,
        previousRunId: 3,
      },
      { kind: 'history-repeat', credentialId: 2, value: 41, previousValue: 41, previousRunId: 3 },
    ]);
    expect(immediate[0]!.message).toBe(
      'credential #1: counter 1 in run 7 is lower than 40, the last value stored for it in run 3',
    );
  });

  it('sees a check-only request that moved the counter', () => {
    const observations: JudgedObservation[] = [
      ...signs([1, 1], [1, 2], [1, 3]),
      { event: 'check-only', credentialId: 1, statusWord: 0x6985 },
      ...signs([1, 5]),
      { event: 'foreign-handle', credentialId: 1, statusWord: 0x6a80 },
      ...signs([1, 6]),
    ];
    const { final } = judge(observations);

    expect(final.summary.probes).toMatchObject([
      { kind: 'check-only', before: 3, after: 5, verdict: 'incremented' },
      { kind: 'foreign-handle', before: 5, after: 6, verdict: 'ok' },
    ]);
    expect(final.findings).toMatchObject([
      { kind: 'increment-on-check-only', severity: 'fail', previousValue: 3, value: 5 },
    ]);
  });

  it('warns when a probe gets an unexpected status word', () => {
    const observations: JudgedObservation[] = [
      ...signs([1, 1]),
      { event: 'foreign-handle', credentialId: 1, statusWord: 0x6700 },
      ...signs([1, 2]),
    ];
    const { final } = judge(observations);

    expect(final.summary.probes[0]!.verdict).toBe('unexpected-status');
    expect(final.findings).toMatchObject([{ kind: 'foreign-handle-status', severity: 'warn' }]);
  });

  it('warns about steps of 256 or more and counters above 2^31', () => {
    const { final } = judge(signs([1, 0x80000001], [1, 0x80000101], [1, 0x80000201]));

    expect(final.findings.map((f) => f.kind)).toEqual(['large-step', 'above-2^31']);
    expect(final.summary.step).toBe(256);
  });

  it('reports a key that refuses to sign at the top as conforming', () => {
    const j = new CounterJudge(1, label, () => undefined);
    j.observe({ event: 'sign', credentialId: 1, value: 0xffffffff });
    j.markExhausted();

    expect(j.finish().findings).toMatchObject([{ kind: 'exhausted', severity: 'info' }]);
  });
});
