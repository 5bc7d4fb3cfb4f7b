import { describe, expect, it } from 'vitest';

import { UsageError } from '../src/errors.js';
import type { Output } from '../src/output.js';
import { consoleReport, summaryLines } from '../src/conformance/reporters/console.js';
import { printCaseList, wrapText } from '../src/conformance/reporters/list.js';
import type { RunReport } from '../src/conformance/result.js';
import { requireSomeCase, runConformance } from '../src/conformance/runner.js';

/** An Output that keeps the lines it is given. */
function captured(): Output & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    json: false,
    interactive: false,
    line: (text = '') => lines.push(...text.split('\n')),
    diag: () => undefined,
    emitJson: () => undefined,
    style: (_style, text) => text,
  };
}

describe('conformance case selection', () => {
  it('a --grep that selects nothing is a usage error naming it', () => {
    expect(() => requireSomeCase({ grep: 'nosuchthing' })).toThrow(UsageError);
    expect(() => requireSomeCase({ grep: 'nosuchthing' })).toThrow(
      /no case matches --grep "nosuchthing"/,
    );
    expect(() => requireSomeCase({ grep: 'AU-01' })).not.toThrow();
  });

  it('a --grep that only the profile filters away says so', () => {
    // CMD-07 belongs to spec and fido, not google; AU-06 to every profile.
    expect(() => requireSomeCase({ profile: 'google', grep: 'CMD-07' })).toThrow(
      /no case matches --grep "CMD-07" under --profile google \(some do under --profile spec\)/,
    );
    expect(() => requireSomeCase({ profile: 'fido', grep: 'CMD-07' })).not.toThrow();
    expect(() => requireSomeCase({ profile: 'google', grep: 'AU-06' })).not.toThrow();
    expect(() => requireSomeCase({ profile: 'google', grep: 'zzz' })).toThrow(
      /no case matches --grep "zzz"/,
    );
  });
});

describe('conformance --list', () => {
  it('fits every line in the width it is given (100 off a terminal, 60 narrow)', () => {
    for (const width of [100, 60]) {
      const out = captured();
      printCaseList(out, { profile: 'spec' }, width);
      const long = out.lines.filter((line) => line.length > width);
      expect(long, `width ${width}`).toEqual([]);
      expect(out.lines.join('\n')).toContain('AU-14');
      expect(out.lines.join('\n')).toContain('source: KeyBench (uncovered by public suites)');
    }
  });

  it('wraps text at spaces and cuts a word longer than the width', () => {
    expect(wrapText('aa bb cc', 5)).toEqual(['aa bb', 'cc']);
    expect(wrapText('abcdefgh', 3)).toEqual(['abc', 'def', 'gh']);
  });
});

describe('conformance console report', () => {
  it('shows TM-08 latency per command (p50/p95/p99) and rounds JSON times to 0.001 ms', async () => {
    const report = await runConformance('virtual', { ids: ['TM-08'] });
    const text = consoleReport(report);
    for (const command of ['ping8', 'ping1024', 'init', 'version', 'authenticate']) {
      expect(text).toMatch(new RegExp(`^ +${command} +p50 [\\d.]+ ms  p95 [\\d.]+ ms  p99 [\\d.]+ ms$`, 'm'));
    }
    const times = [report.durationMs, ...report.results.map((r) => r.ms)];
    for (const ms of times) expect(Math.abs(ms * 1000 - Math.round(ms * 1000))).toBeLessThan(1e-6);
    expect(JSON.stringify(report)).not.toMatch(/\d\.\d{4,}/);
  });

  it('with --bail says how many cases did not run', async () => {
    const report = await runConformance('virtual', {
      ids: ['AP-01', 'AP-05', 'AP-06', 'AP-07'],
      bail: true,
      virtual: { faults: [{ name: 'stale-reply' }] },
    });
    expect(report.results.length).toBeLessThan(4);
    expect(report.notRun).toBe(4 - report.results.length);
    expect(summaryLines(report).join('\n')).toContain(`${report.notRun} not run (--bail`);
  });

  it('names the expected answer when a registration fails (CH-12 on a short-APDU-only key)', async () => {
    const report = await runConformance('virtual', {
      ids: ['CH-12'],
      virtual: { faults: [{ name: 'short-apdu-only' }] },
    });
    const result = report.results[0]!;
    expect(result.status).toBe('fail');
    expect(result.expected).not.toBe('a conforming answer');
    expect(result.expected).toMatch(/9000 with registration data/);
    expect(result.actual).toMatch(/6700/);
  });

  it('hints that a UDP virtual key needs the same --profile when a non-spec run fails', () => {
    const base: RunReport = {
      device: 'udp:127.0.0.1:8111',
      profile: 'google',
      presence: 'automatic (the key grants presence itself)',
      startedAt: new Date(0).toISOString(),
      durationMs: 10,
      status: 'failed',
      results: [],
      summary: { total: 2, pass: 1, fail: 1, skip: 0 },
    };
    const hint = /virtual-key --udp PORT --profile google/;
    expect(summaryLines(base).join('\n')).toMatch(hint);
    expect(summaryLines({ ...base, profile: 'spec' }).join('\n')).not.toMatch(/hint:/);
    expect(summaryLines({ ...base, device: 'virtual' }).join('\n')).not.toMatch(/hint:/);
    const passed = { ...base, status: 'passed' as const, summary: { ...base.summary, fail: 0 } };
    expect(summaryLines(passed).join('\n')).not.toMatch(/hint:/);
  });
});
