import type { CaseResult, RunReport } from '../result.js';

type Style = 'green' | 'red' | 'yellow' | 'dim' | 'bold';
export type Styler = (style: Style, text: string) => string;

const plain: Styler = (_style, text) => text;

const ms = (value: number) =>
  value < 1000 ? `${value.toFixed(0)} ms` : `${(value / 1000).toFixed(2)} s`;

const LATENCY = /^(.+)\.(p\d+)$/;

/** Latency metrics (`ping8.p50`, …) as one line per command: `ping8  p50 0.06 ms  p95 …`. */
export function latencyLines(result: CaseResult): string[] {
  const byCommand = new Map<string, string[]>();
  for (const [name, value] of Object.entries(result.metrics ?? {})) {
    const match = LATENCY.exec(name);
    if (!match || typeof value !== 'number') continue;
    const figures = byCommand.get(match[1]!) ?? [];
    figures.push(`${match[2]} ${value < 10 ? value.toFixed(3) : value.toFixed(1)} ms`);
    byCommand.set(match[1]!, figures);
  }
  const width = Math.max(0, ...[...byCommand.keys()].map((command) => command.length));
  return [...byCommand].map(
    ([command, figures]) => `         ${command.padEnd(width)}  ${figures.join('  ')}`,
  );
}

/**
 * One line per case: mark, id, title, time (and the reason for a skip); latency figures
 * (TM-08) follow on their own lines.
 */
export function caseLine(result: CaseResult, style: Styler = plain): string {
  const time = style('dim', `(${ms(result.ms)})`);
  const latency = latencyLines(result).map((line) => `\n${style('dim', line)}`);
  if (result.status === 'pass')
    return `${style('green', '✔ pass')} ${result.id.padEnd(6)} ${result.title} ${time}${latency.join('')}`;
  if (result.status === 'skip') {
    return `${style('yellow', '- skip')} ${result.id.padEnd(6)} ${result.title} ${style('dim', `— ${result.reason ?? ''}`)}`;
  }
  return `${style('red', '✘ fail')} ${result.id.padEnd(6)} ${result.title} ${time}`;
}

/** A failure in full: source, expectation, what came, and the frames exchanged as hex. */
/** How a traced frame's direction is drawn: sent `>`, received `<`, dropped `x`. */
export function frameArrow(direction: string): string {
  return direction === 'out' ? '>' : direction === 'in' ? '<' : 'x';
}

export function failureDetails(result: CaseResult, style: Styler = plain): string[] {
  const lines = [
    style('bold', `${result.id} ${result.title}`),
    `  source:   ${result.source}`,
    `  expected: ${result.expected ?? ''}`,
    `  actual:   ${result.actual ?? ''}`,
  ];
  for (const note of result.notes ?? []) lines.push(`  note:     ${note}`);
  const frames = result.frames ?? [];
  if (frames.length > 0) lines.push(`  frames (${frames.length}; ms since the case started):`);
  for (const frame of frames) {
    const arrow = frameArrow(frame.direction);
    const note = frame.note ? `  ${style('dim', frame.note)}` : '';
    lines.push(`    ${frame.ms.toFixed(1).padStart(8)} ${arrow} ${frame.hex}${note}`);
  }
  return lines;
}

/** The closing block: failures in full, then counts, time and the profile. */
export function summaryLines(report: RunReport, style: Styler = plain): string[] {
  if (report.status === 'unusable') {
    return [
      style('red', `✘ ${report.device}: device unusable: ${report.error ?? 'unknown error'}`),
    ];
  }
  const lines: string[] = [];
  const failures = report.results.filter((result) => result.status === 'fail');
  if (failures.length > 0) {
    lines.push('', style('bold', `Failures (${failures.length}):`));
    for (const failure of failures) lines.push('', ...failureDetails(failure, style));
  }
  const { pass, fail, skip, total } = report.summary;
  const notRun = report.notRun ? `, ${report.notRun} not run (--bail stopped the run)` : '';
  const counts = `${pass} passed, ${fail} failed, ${skip} skipped of ${total}${notRun}`;
  lines.push(
    '',
    `${report.device} — profile ${report.profile}, presence: ${report.presence}`,
    (fail > 0 ? style('red', counts) : style('green', counts)) + ` in ${ms(report.durationMs)}`,
  );
  if (fail > 0 && report.device.startsWith('udp:') && report.profile !== 'spec') {
    lines.push(
      style(
        'yellow',
        `hint: a virtual key judged with --profile ${report.profile} must run with the same ` +
          `profile: keybench virtual-key --udp PORT --profile ${report.profile}`,
      ),
    );
  }
  return lines;
}

/** The whole report as console text (used for files and for several devices at once). */
export function consoleReport(report: RunReport, style: Styler = plain): string {
  const lines = report.results.map((result) => caseLine(result, style));
  return [...lines, ...summaryLines(report, style)].join('\n') + '\n';
}
