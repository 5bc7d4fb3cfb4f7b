import { escapeHtml as e } from './escape.js';
import type { ConformanceRun, DeviceReport, ReportData } from './report-data.js';
import { barChart, lineChart } from './svg-charts.js';

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
  margin: 24px auto; max-width: 920px; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 18px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 15px; margin: 20px 0 6px; } .meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; }
th { font-weight: 600; color: #444; } tr + tr td { border-top: 1px solid #f0f0f0; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px;
  word-break: break-all; }
.fail { color: #c00; font-weight: 600; } .warn { color: #a60; } .pass { color: #080; } .info { color: #555; }
.chart { display: block; max-width: 100%; height: auto; margin: 4px 0 8px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.versions .version { display: inline-block; white-space: nowrap; margin-right: 8px; }
.versions .mono { word-break: normal; }
details { margin: 6px 0; } summary { cursor: pointer; } .empty { color: #777; font-style: italic; }
`;

const statusClass = (status: string) =>
  status === 'pass' || status === 'passed'
    ? 'pass'
    : status === 'skip' || status === 'skipped'
      ? 'info'
      : 'fail';

function identityTable(report: DeviceReport): string {
  const d = report.device;
  const rows: [string, string | null][] = [
    ['identity', d.identity],
    ['certificate SHA-256', d.fingerprint],
    ['product', d.product],
    ['serial', d.serial],
    ['attestation subject', d.subject],
    ['attestation issuer', d.issuer],
    ['U2F version', d.version],
    ['last reached as', d.description],
    ['first seen', d.firstSeen],
    ['last seen', d.lastSeen],
  ];
  const body = rows
    .filter(([, value]) => value !== null && value !== '')
    .map(([key, value]) => `<tr><th>${e(key)}</th><td class="mono">${e(value)}</td></tr>`)
    .join('');
  return `<table class="identity">${body}</table>`;
}

function counterChart(report: DeviceReport): string {
  if (report.series.length === 0) {
    return (
      '<p class="empty">No counter values stored for this device (they come from ' +
      '<code>counters</code> runs and from <code>check --db</code>).</p>'
    );
  }
  return lineChart({
    id: `counter-${report.device.id}`,
    title: `Counter value over time, device #${report.device.id}`,
    xLabel: 'signature (in the order made, across runs)',
    yLabel: 'counter',
    series: report.series.map((s) => ({
      name: s.name,
      points: s.points.map((p) => ({
        x: p.ordinal,
        y: p.value,
        regression: p.regression,
        title: `${s.name}: ${p.value} in run #${p.runId} at ${p.at}${p.regression ? ' (REGRESSION)' : ''}`,
      })),
    })),
    markers: report.runStarts.map((r) => ({ x: r.ordinal, label: `run #${r.runId}` })),
  });
}

function stepChart(report: DeviceReport): string {
  const entries = Object.entries(report.stepHistogram).sort(([a], [b]) => Number(a) - Number(b));
  if (entries.length === 0)
    return '<p class="empty">No steps measured (fewer than two signatures in a run).</p>';
  return barChart({
    id: `steps-${report.device.id}`,
    title: `Step size between signatures, device #${report.device.id}`,
    xLabel: 'step (counter increase between consecutive signatures)',
    yLabel: 'times seen',
    bars: entries.map(([step, count]) => ({
      label: step,
      value: count,
      title: `step ${step}: ${count}×`,
    })),
  });
}

function findingsList(report: DeviceReport): string {
  if (report.findings.length === 0)
    return '<p class="pass">No findings: the counter never went back.</p>';
  const rows = report.findings
    .map(
      (f) =>
        `<tr data-finding="${e(f.kind)}" data-severity="${e(f.severity)}"><td>#${f.runId}</td>` +
        `<td class="${e(f.severity)}">${e(f.severity)}</td><td>${e(f.kind)}</td>` +
        `<td>${e(f.message)}</td></tr>`,
    )
    .join('');
  const header = '<tr><th>run</th><th>severity</th><th>kind</th><th>finding</th></tr>';
  return `<table class="findings">${header}${rows}</table>`;
}

function deviceSection(report: DeviceReport): string {
  const regressions = report.findings.filter((f) => f.severity === 'fail').length;
  return (
    `<section class="device" data-device-id="${report.device.id}">` +
    `<h2>Device #${report.device.id} ` +
    `${regressions > 0 ? `<span class="fail">${regressions} regression(s)</span>` : ''}</h2>` +
    identityTable(report) +
    `<h3>Counter value over time</h3>${counterChart(report)}` +
    `<h3>Step-size histogram</h3>${stepChart(report)}` +
    `<h3>Findings</h3>${findingsList(report)}` +
    '</section>'
  );
}

/** How a heading names a device: `device #2 (udp:127.0.0.1:8111)`, or what the run stored. */
function deviceName(data: ReportData, id: number): string {
  const device = data.devices.find((d) => d.device.id === id)?.device;
  const what = device?.description ?? device?.product ?? device?.fingerprint.slice(0, 12);
  return `device #${id}${what ? ` (${what})` : ''}`;
}

function conformanceRun(data: ReportData, { run, results }: ConformanceRun): string {
  const failures = results.filter((r) => statusClass(r.status) === 'fail');
  const others = results.filter((r) => statusClass(r.status) !== 'fail');
  const row = (r: (typeof results)[number]) =>
    `<tr data-test="${e(r.testId)}" data-status="${e(r.status)}"><td class="mono">${e(r.testId)}</td>` +
    `<td class="${statusClass(r.status)}">${e(r.status)}</td>` +
    `<td>${r.ms === null ? '' : `${r.ms.toFixed(1)} ms`}</td>` +
    `<td>${e(r.message ?? '')}</td></tr>`;
  const header = '<tr><th>test</th><th>status</th><th>time</th><th>message</th></tr>';
  const count = (status: string) => results.filter((r) => r.status === status).length;
  const ids = [...new Set(results.map((r) => r.deviceId).filter((id) => id !== null))];
  const devices =
    ids.length > 0
      ? ids.map((id) => deviceName(data, id)).join(', ')
      : run.deviceIds.length > 0
        ? run.deviceIds.map((id) => deviceName(data, id)).join(', ')
        : 'an unidentified device';
  const title =
    `Run #${run.id} ${e(run.command)}${run.profile ? ` (${e(run.profile)})` : ''} on ` +
    `${e(devices)}, ${e(run.startedAt)}: <span class="counts">${count('pass')} passed, ` +
    `${failures.length} failed, ${count('skip')} skipped of ${results.length}</span>`;
  return (
    `<div class="conformance-run" data-run-id="${run.id}"><h3>${title}</h3>` +
    (failures.length > 0
      ? `<details class="failures" open><summary class="fail">${failures.length} failed</summary>` +
        `<table>${header}${failures.map(row).join('')}</table></details>`
      : '') +
    (others.length > 0
      ? `<details class="passes"><summary>${others.length} passed or skipped</summary>` +
        `<table>${header}${others.map(row).join('')}</table></details>`
      : '') +
    '</div>'
  );
}

/** A table's header row. */
const headerRow = (...names: string[]) =>
  `<tr>${names.map((name) => `<th>${name}</th>`).join('')}</tr>`;

const runStatusClass = (status: string) =>
  status === 'passed' ? 'pass' : status === 'running' ? 'info' : 'fail';

function runsTable(data: ReportData): string {
  if (data.runs.length === 0) return '<p class="empty">No runs stored.</p>';
  const rows = data.runs
    .map(
      (r) =>
        `<tr><td>#${r.id}</td><td>${e(r.command)}${r.profile ? ` (${e(r.profile)})` : ''}</td>` +
        `<td>${e(r.startedAt)}</td><td>${e(r.endedAt ?? 'unfinished')}</td>` +
        `<td class="${runStatusClass(r.status)}">${e(r.status)}</td>` +
        `<td>${r.deviceIds.map((id) => `#${id}`).join(' ')}</td>` +
        `<td class="versions">${Object.entries(r.versions)
          .map(([k, v]) => `<span class="version">${e(k)} <span class="mono">${e(v)}</span></span>`)
          .join(' ')}</td></tr>`,
    )
    .join('');
  const header = headerRow('run', 'command', 'started', 'ended', 'status', 'devices', 'versions');
  return `<table class="runs">${header}${rows}</table>`;
}

function checksTable(data: ReportData): string {
  if (data.checks.length === 0) return '<p class="empty">No checks stored.</p>';
  const rows = data.checks
    .map(
      (c) =>
        `<tr><td>#${c.runId}</td><td class="mono">${e(c.device)}</td>` +
        `<td class="${c.ok ? 'pass' : 'fail'}">${c.ok ? 'verified' : e(c.code ?? 'failed')}</td>` +
        `<td>${c.counter ?? ''}</td><td>${e(c.message ?? '')}</td></tr>`,
    )
    .join('');
  const header = headerRow('run', 'device', 'result', 'counter', 'message');
  return `<table class="checks">${header}${rows}</table>`;
}

/**
 * The report as one self-contained HTML page: no scripts, no external resources (the
 * Content-Security-Policy forbids any), charts as inline SVG.
 */
export function renderReport(data: ReportData): string {
  const conformance =
    data.conformance.length === 0
      ? '<p class="empty">No conformance results stored.</p>'
      : data.conformance.map((run) => conformanceRun(data, run)).join('');
  const checks = checksTable(data);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>KeyBench report</title>',
    `<style>${STYLE}</style></head><body>`,
    '<h1>KeyBench report</h1>',
    `<p class="meta">From <span class="mono">${e(data.file)}</span>, generated ${e(data.generatedAt)}: ` +
      `${data.devices.length} device(s), ${data.runs.length} run(s).</p>`,
    data.devices.length === 0
      ? '<p class="empty">No devices stored.</p>'
      : data.devices.map(deviceSection).join(''),
    `<section class="conformance"><h2>Conformance results</h2>${conformance}</section>`,
    `<section class="checks"><h2>Checks</h2>${checks}</section>`,
    `<section class="runs"><h2>Runs</h2>${runsTable(data)}</section>`,
    '</body></html>',
    '',
  ].join('\n');
}
