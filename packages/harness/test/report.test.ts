import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { serveUdp, VirtualKey, type VirtualKeyOptions } from '@keybench/virtual-key';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCountersOnDevice } from '../src/counters/index.js';
import { parseDeviceSpec } from '../src/device-spec.js';
import { keybenchVersions, openHistory, type HistoryStore } from '../src/history/index.js';
import { collectReport, renderReport } from '../src/report/index.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

let dir: string;
let store: HistoryStore;
let html: string;
let deviceIds: number[];
/** A device only `check --db` has seen. */
let checkedId: number;

async function withKey<T>(
  options: VirtualKeyOptions,
  work: (spec: string) => Promise<T>,
): Promise<T> {
  const key = await VirtualKey.create(options);
  const server = await serveUdp(key, { port: 0 });
  try {
    return await work(`udp:127.0.0.1:${server.port}`);
  } finally {
    await server.close();
    await key.close();
  }
}

async function countersRun(spec: string, credentials: number, rounds: number) {
  const runId = store.startRun({ command: 'counters', versions: { keybench: 'test' } });
  const outcome = await runCountersOnDevice(parseDeviceSpec(spec), store, runId, {
    rounds,
    credentials,
    appId: 'https://keybench.example/counters',
    origin: 'https://keybench.example',
    timeoutMs: 2_000,
  });
  store.finishRun(runId, {
    status: outcome.exitCode === 0 ? 'passed' : 'failed',
    exitCode: outcome.exitCode,
  });
  return outcome;
}

/**
 * A history with two keys: key A runs three times (the third after a restart with the
 * reset-on-restart fault: one regression per credential), key B once; and one conformance
 * run with a failure.
 */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keybench-report-'));
  store = openHistory(join(dir, 'history.db'));
  const stateFile = join(dir, 'a.json');

  const a1 = await withKey({ stateFile }, (spec) => countersRun(spec, 2, 3));
  await withKey({ stateFile }, (spec) => countersRun(spec, 2, 3));
  await withKey({ stateFile, faults: [{ name: 'counter-reset-on-restart' }] }, (spec) =>
    countersRun(spec, 2, 2),
  );
  const b = await withKey({}, (spec) => countersRun(spec, 1, 4));
  deviceIds = [a1.deviceId!, b.deviceId!];

  const conformance = store.startRun({ command: 'conformance', profile: 'spec' });
  store.recordDevice({ fingerprint: store.devices()[0]!.fingerprint }, conformance);
  store.recordConformanceResult(conformance, {
    testId: 'CT-01',
    status: 'pass',
    ms: 3.2,
    deviceId: deviceIds[0],
  });
  store.recordConformanceResult(conformance, {
    testId: 'CT-02',
    status: 'pass',
    ms: 2.1,
    deviceId: deviceIds[0],
  });
  store.recordConformanceResult(conformance, {
    testId: 'FR-12',
    status: 'skip',
    ms: 0,
    message: 'this connection has no report descriptor',
    deviceId: deviceIds[0],
  });
  store.recordConformanceResult(conformance, {
    testId: 'AU-04',
    status: 'fail',
    ms: 8.7,
    message: 'expected 6a80 without a touch, got 6985 <after 3 s>',
    deviceId: deviceIds[0],
  });
  store.finishRun(conformance, { status: 'failed', exitCode: 1 });

  const check = store.startRun({ command: 'check', versions: keybenchVersions() });
  checkedId = store.recordDevice({ fingerprint: 'cc'.repeat(32) }, check).id;
  store.recordCheck(check, { device: 'udp:127.0.0.1:9', ok: true, deviceId: checkedId, counter: 7 });
  store.finishRun(check, { status: 'passed', exitCode: 0 });

  html = renderReport(collectReport(store));
}, 60_000);

afterAll(() => {
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('HTML report', () => {
  it('is one self-contained file: no scripts, no external resources', () => {
    expect(html).not.toMatch(/<script|<link|src=|href=|@import|url\(/i);
    expect(html).toContain("default-src 'none'");
  });

  it('escapes stored text', () => {
    expect(html).toContain('got 6985 &lt;after 3 s&gt;');
  });

  it('counts passed, failed and skipped apart and names the device in run headings', () => {
    const heading = /<div class="conformance-run"[^>]*><h3>([^]*?)<\/h3>/.exec(html)?.[1] ?? '';
    expect(heading).toContain('2 passed, 1 failed, 1 skipped of 4');
    expect(heading).toContain(`on device #${deviceIds[0]}`);
    expect(html).not.toMatch(/\d+ of \d+ passed/);
  });

  it('plots the counter a recorded check saw', () => {
    const checked = collectReport(store, checkedId).devices[0]!;
    expect(checked.series.map((s) => s.points.map((p) => p.value))).toEqual([[7]]);
    expect(checked.series[0]!.name).toMatch(/check/);
    const section = html.slice(html.indexOf(`data-device-id="${checkedId}"`));
    expect(section.slice(0, section.indexOf('</section>'))).not.toContain('No counter');
  });

  it('marks the regressions of the reset key, one per credential', () => {
    const a = collectReport(store, deviceIds[0]).devices[0]!;

    expect(a.series).toHaveLength(2);
    expect(a.series.flatMap((s) => s.points).filter((p) => p.regression)).toHaveLength(2);
    expect(a.findings.filter((f) => f.severity === 'fail').map((f) => f.kind)).toEqual([
      'history-regression',
      'history-regression',
    ]);
    expect(a.runStarts).toHaveLength(3);
  });
});

describe('HTML report in Chromium', () => {
  let browser: Browser | undefined;
  let profile: string | undefined;

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  // Skipped only where the Debian chromium package is not installed (CI installs it).
  it.skipIf(!existsSync(CHROMIUM))(
    'shows every series and point, and takes a screenshot',
    async () => {
      const file = join(dir, 'report.html');
      writeFileSync(file, html);
      profile = mkdtempSync(join(tmpdir(), 'keybench-chromium-'));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        args: CHROMIUM_ARGS,
        headless: true,
        viewport: { width: 1000, height: 800 },
      });
      browser = context.browser() ?? undefined;
      try {
        const page = await context.newPage();
        const requests: string[] = [];
        page.on('request', (request) => requests.push(request.url()));
        await page.goto(pathToFileURL(file).href);

        const counterCharts = page.locator('svg[data-chart="line"]');
        expect(await counterCharts.count()).toBe(3);
        const checked = page.locator(`section[data-device-id="${checkedId}"] circle[data-point]`);
        expect(await checked.evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-y')))).toEqual(['7']);

        // Each version (name and value) stays on one line: no word is broken.
        const versions = page.locator('table.runs td.versions .version');
        expect(await versions.count()).toBeGreaterThanOrEqual(3);
        const lines = await versions.evaluateAll((nodes) => nodes.map((n) => n.getClientRects().length));
        expect(lines.every((n) => n === 1)).toBe(true);
        const heights = await versions.evaluateAll((nodes) =>
          nodes.map((n) => Math.round(n.getBoundingClientRect().height)),
        );
        expect(Math.max(...heights)).toBeLessThan(30);
        const a = page.locator(`section[data-device-id="${deviceIds[0]}"] svg[data-chart="line"]`);
        const expected = collectReport(store, deviceIds[0]).devices[0]!;
        expect(await a.locator('g[data-series]').count()).toBe(2);
        for (const series of expected.series) {
          const group = a.locator(`g[data-series="${series.name}"]`);
          expect(await group.locator('circle[data-point]').count()).toBe(series.points.length);
          const ys = await group
            .locator('circle[data-point]')
            .evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-y'))));
          expect(ys).toEqual(series.points.map((p) => p.value));
        }
        expect(await a.locator('circle[data-regression="true"]').count()).toBe(2);
        expect(await a.locator('g[data-marker]').count()).toBe(3);

        const b = page.locator(`section[data-device-id="${deviceIds[1]}"]`);
        expect(await b.locator('circle[data-point]').count()).toBe(4 + 2);
        expect(await b.locator('circle[data-regression]').count()).toBe(0);

        const bars = page.locator(`section[data-device-id="${deviceIds[0]}"] rect[data-bar]`);
        expect(
          await bars.evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-label'))),
        ).toEqual(['1']);

        // Failures are expanded; the passes are folded away.
        expect(await page.locator('details.failures').getAttribute('open')).toBe('');
        expect(await page.locator('details.failures tr[data-test="AU-04"]').isVisible()).toBe(true);
        expect(await page.locator('details.passes tr[data-test="CT-01"]').isVisible()).toBe(false);

        const shot = join(process.env.KEYBENCH_SCREENSHOT_DIR ?? dir, 'report.png');
        await page.screenshot({ path: shot, fullPage: true });
        expect(statSync(shot).size).toBeGreaterThan(10_000);
        expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
        expect(requests.filter((url) => !url.startsWith('file:'))).toEqual([]);
      } finally {
        await context.close();
      }
    },
  );
});
