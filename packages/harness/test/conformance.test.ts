import { describe, expect, it } from 'vitest';

import { CATALOGUE, EXCLUDED } from '../src/conformance/catalogue.js';
import { PROFILE_NAMES } from '../src/conformance/profiles.js';
import { junitReport } from '../src/conformance/reporters/junit.js';
import { consoleReport } from '../src/conformance/reporters/console.js';
import { runConformance, selectCases } from '../src/conformance/runner.js';

describe('conformance catalogue', () => {
  it('has unique ids in the catalogue scheme, each with layer, title and source', () => {
    const ids = CATALOGUE.map((test) => test.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const test of CATALOGUE) {
      expect(test.id).toMatch(/^(FR|CH|CMD|AP|RG|AU|CT|UP|ER|TM)-\d{2}$/);
      expect(test.title.length).toBeGreaterThan(10);
      expect(test.source.length).toBeGreaterThan(3);
    }
    for (const excluded of EXCLUDED) expect(ids).not.toContain(excluded.id);
  });

  it('includes the cases no public suite covers (§3)', () => {
    const uncovered = CATALOGUE.filter((test) => test.source.includes('uncovered')).map(
      (t) => t.id,
    );
    for (const id of ['FR-14', 'FR-15', 'CH-12', 'CT-04', 'AU-11', 'AU-12', 'TM-08']) {
      expect(uncovered).toContain(id);
    }
  });

  it('selects the profile-specific LOCK cases per profile', () => {
    expect(selectCases({ profile: 'google' }).map((t) => t.id)).toContain('CMD-06');
    expect(selectCases({ profile: 'google' }).map((t) => t.id)).not.toContain('CMD-07');
    expect(selectCases({ profile: 'fido' }).map((t) => t.id)).toContain('CMD-07');
    expect(
      selectCases({ grep: 'ping' }).every(
        (t) =>
          JSON.stringify(t).toLowerCase().includes('ping') ||
          t.title.toLowerCase().includes('ping'),
      ),
    ).toBe(true);
  });
});

describe('conformance against the in-process virtual key', () => {
  // The LOCK cases hold the key for 3 s each and are run by the e2e suite instead.
  const slow = new Set(['CMD-05', 'TM-05']);

  // The other profiles differ from spec only in the §1.11 cases.
  const profileCases = new Set([
    'CH-04',
    'CH-07',
    'CMD-06',
    'CMD-07',
    'AP-01',
    'AP-02',
    'AP-03',
    'AP-04',
    'AU-06',
    'AU-07',
    'TM-03',
  ]);

  for (const profile of PROFILE_NAMES) {
    it(`passes every case it runs under profile ${profile}`, async () => {
      const ids = selectCases({ profile })
        .map((t) => t.id)
        .filter((id) => !slow.has(id) && (profile === 'spec' || profileCases.has(id)));
      const report = await runConformance('virtual', { profile, ids });

      const failures = report.results.filter((r) => r.status === 'fail');
      expect(failures, consoleReport(report)).toEqual([]);
      expect(report.status).toBe('passed');
      // Only cases that need a report descriptor or a VERSION form the profile leaves out skip.
      const skipped = report.results.filter((r) => r.status === 'skip').map((r) => r.id);
      expect(skipped.every((id) => id === 'FR-12' || id.startsWith('AP-0'))).toBe(true);
    }, 60_000);
  }

  it('reports a failure with expectation, what came and the frames as hex', async () => {
    const report = await runConformance('virtual', {
      ids: ['AP-01', 'AP-05'],
      virtual: { faults: [{ name: 'stale-reply' }] },
    });
    const result = report.results[1];
    expect(result?.status).toBe('fail');
    expect(result?.expected).toContain('6700');
    expect(result?.actual).toMatch(/9000|6985|6a80|6d00/);
    expect(
      result?.frames?.some((f) => f.direction === 'out' && /^[0-9a-f]{128}$/.test(f.hex)),
    ).toBe(true);
    expect(consoleReport(report)).toContain('expected:');
  });

  it('writes JUnit XML with one testcase per case, failures and skips', async () => {
    const report = await runConformance('virtual', {
      ids: ['FR-12', 'AP-05', 'AP-06'],
      virtual: { faults: [{ name: 'stale-reply' }] },
    });
    const xml = junitReport([report]);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')).toBe(true);
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml.match(/<testsuite /g)).toHaveLength(1);
    expect(xml).toMatch(/<testsuite [^>]*tests="3" failures="\d" errors="0" skipped="1"/);
    expect(xml).toContain('<skipped message=');
    expect(xml).toContain('<failure message=');
    // Well formed: every opened element is closed, in order.
    const stack: string[] = [];
    for (const tag of xml.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
      if (tag[3] === '/') continue;
      if (tag[1] === '/') expect(stack.pop()).toBe(tag[2]);
      else stack.push(tag[2]!);
    }
    expect(stack).toEqual([]);
  });

  it('gives status unusable, with every selected case failed, when the key cannot be opened', async () => {
    const report = await runConformance('virtual', {
      ids: ['FR-08'],
      virtual: { faults: [{ name: 'drop-frames' }] },
    });
    expect(report.status).toBe('unusable');
    expect(report.results.map((r) => r.status)).toEqual(['fail']);
  });
});
