import type { Output } from '../output.js';
import { keyValues, table } from '../output.js';
import type { DeviceCountersOutcome } from './run-counters.js';

const hex16 = (value: number) => `0x${value.toString(16).padStart(4, '0')}`;

function describeStep(outcome: DeviceCountersOutcome): string {
  const summary = outcome.summary;
  if (!summary || summary.step === undefined) return 'not measured (fewer than two signatures)';
  const sizes = Object.keys(summary.stepHistogram).map(Number);
  if (summary.constantStep && sizes.length <= 1) return `${summary.step} per signature`;
  const list = Object.entries(summary.stepHistogram)
    .map(([size, count]) => `${size}×${count}`)
    .join(', ');
  return `varies, mostly ${summary.step} (${list})`;
}

function describeLimit(outcome: DeviceCountersOutcome): string {
  const summary = outcome.summary;
  if (!summary || summary.maxValue === undefined) return 'not measured';
  const state = summary.wrapped
    ? 'WRAPPED past 0xffffffff'
    : summary.exhausted
      ? 'refused to sign at the top (conforming)'
      : 'no wrap';
  return `highest ${summary.maxValue}, ${summary.headroom} signatures left before 2^32; ${state}`;
}

/** The human summary of one key: identity, credentials table, scope, step, probes, findings. */
export function printDeviceOutcome(out: Output, outcome: DeviceCountersOutcome): void {
  const title =
    outcome.deviceId === undefined
      ? outcome.device
      : `${outcome.device}  (device #${outcome.deviceId})`;
  out.line(out.style('bold', `== ${title}`));
  if (outcome.identity) {
    out.line(
      keyValues([
        ['identity', outcome.identity],
        ['attestation', outcome.subject ?? '?'],
      ]).join('\n'),
    );
  }

  if (outcome.credentials.length > 0) {
    const failed = new Set(
      outcome.findings.filter((f) => f.severity === 'fail').map((f) => f.credentialId),
    );
    const rows = outcome.credentials.map((c) => [
      `#${c.id}`,
      `${c.keyHandle}…`,
      c.reused ? 'yes' : 'new',
      String(c.signs),
      c.first === undefined ? '-' : String(c.first),
      c.last === undefined ? '-' : String(c.last),
      c.historyValue === undefined ? '-' : `${c.historyValue} (run ${c.historyRunId})`,
      failed.has(c.id) ? out.style('red', 'REGRESSION') : out.style('green', 'ok'),
    ]);
    out.line(
      table(
        ['credential', 'key handle', 'reused', 'signs', 'first', 'last', 'earlier run', 'verdict'],
        rows,
      ).join('\n'),
    );
  }

  if (outcome.summary) {
    const probes = outcome.summary.probes
      .map(
        (p) =>
          `${p.kind} ${hex16(p.statusWord)} ${p.verdict === 'ok' ? 'no increment' : p.verdict}`,
      )
      .join('; ');
    out.line(
      keyValues([
        [
          'counter',
          outcome.summary.scope === 'unknown'
            ? 'scope unknown (one credential)'
            : outcome.summary.scope,
        ],
        ['step', describeStep(outcome)],
        ['probes', probes || 'none'],
        ['2^32', describeLimit(outcome)],
      ]).join('\n'),
    );
  }

  for (const finding of outcome.findings) {
    const mark =
      finding.severity === 'fail'
        ? out.style('red', '✘')
        : finding.severity === 'warn'
          ? out.style('yellow', '!')
          : 'i';
    out.line(`${mark} ${finding.kind}: ${finding.message}`);
  }
  if (outcome.error) out.line(out.style('red', `✘ ${outcome.device}: ${outcome.error}`));
  else if (!outcome.findings.some((f) => f.severity === 'fail')) {
    out.line(out.style('green', '✔ counter never went back'));
  }
}
