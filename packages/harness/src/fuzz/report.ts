import { describeInput, inputJson, inputSize, type FuzzInput } from './input.js';
import type { FuzzFailure, FuzzReport } from './run.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function counts(table: Record<string, number>): string {
  return Object.entries(table)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
}

function sizeText(input: FuzzInput): string {
  const [frames, bytes] = inputSize(input);
  const unit = input.kind === 'apdu' ? 'APDU bytes' : 'nonzero bytes';
  return `${frames} report${frames === 1 ? '' : 's'}, ${bytes} ${unit}`;
}

/**
 * The command line that makes `failure` happen again: `base` (device, seed, mode, faults)
 * with the failing iteration alone, or, when that input alone did not fail on a fresh
 * device, the window of iterations before it that did (or the whole run, unconfirmed).
 */
export function reproduceCommand(base: readonly string[], failure: FuzzFailure): string {
  const window = failure.replay ?? { start: failure.iteration, iterations: 1 };
  return [
    ...base,
    '--start',
    String(window.start),
    '--iterations',
    String(window.iterations),
  ].join(' ');
}

/**
 * The human report: the summary line (iterations, inputs by kind, time) and, for a failure,
 * the seed, the iteration, the input, and the smallest input that reproduces it as hex
 * reports. `reproduce` is the command line that regenerates the failing iteration.
 */
export function fuzzSummaryLines(report: FuzzReport, reproduce?: string): string[] {
  const lines: string[] = [];
  const kinds = counts(report.byKind) || 'none';
  if (report.status === 'unusable') {
    return [`fuzz: device ${report.device} cannot be used: ${report.error ?? 'unknown error'}`];
  }

  const failure = report.failure;
  if (failure) {
    lines.push(
      `FAIL iteration ${failure.iteration} (seed ${report.seed}): ${failure.kind}: ${failure.message}`,
    );
    lines.push(
      `input (${failure.input.kind}: ${failure.input.label}; ${sizeText(failure.input)}):`,
    );
    for (const line of describeInput(failure.input)) lines.push(`  ${line}`);
    const shrunk = failure.shrunk;
    if (shrunk && !shrunk.reproduced) {
      lines.push(
        shrunk.stopped
          ? `not shrunk: ${shrunk.stopped}`
          : 'not shrunk: the input alone did not fail on a fresh device (the failure needs the inputs before it)',
      );
      const replay = failure.replay;
      if (replay) {
        const span = `iterations ${replay.start}–${failure.iteration}`;
        lines.push(
          replay.confirmed
            ? `replaying ${span} on a fresh device fails at iteration ${failure.iteration} again ` +
                `(the shortest such window found)`
            : `replaying ${span} on a fresh device did not fail again: the failure may depend ` +
                'on timing or on state from before the run',
        );
      }
    } else if (shrunk) {
      lines.push(
        `smallest input that reproduces it on a fresh device (${sizeText(shrunk.input)}; ` +
          `${shrunk.candidates} candidates tried${shrunk.stopped ? `; stopped: ${shrunk.stopped}` : ''}):`,
      );
      for (const line of describeInput(shrunk.input)) lines.push(`  ${line}`);
      if (shrunk.verdict && !shrunk.verdict.ok)
        lines.push(`  → ${shrunk.verdict.kind}: ${shrunk.verdict.message}`);
    }
    if (reproduce) lines.push(`reproduce: ${reproduce}`);
  }

  const verb = report.status === 'passed' ? 'passed' : 'failed';
  const limit = report.stoppedByTimeLimit ? ' (time limit reached)' : '';
  lines.push(
    `fuzz ${verb}: ${report.completed}/${report.planned} iterations${limit} in ${seconds(report.elapsedMs)}, ` +
      `seed ${report.seed}, mode ${report.mode}; inputs: ${kinds}; ${report.recoveries} checks passed after a re-INIT`,
  );
  lines.push(`inputs by label: ${counts(report.byLabel) || 'none'}`);
  return lines;
}

/** The report as JSON-ready data: inputs as full 64-byte reports in hex. */
export function fuzzReportJson(report: FuzzReport): object {
  const { failure, elapsedMs, ...rest } = report;
  return {
    ...rest,
    elapsedMs: Math.round(elapsedMs),
    ...(failure
      ? {
          failure: {
            iteration: failure.iteration,
            kind: failure.kind,
            message: failure.message,
            input: inputJson(failure.input),
            ...(failure.replay ? { replay: failure.replay } : {}),
            ...(failure.shrunk
              ? {
                  shrunk: {
                    reproduced: failure.shrunk.reproduced,
                    candidates: failure.shrunk.candidates,
                    ...(failure.shrunk.stopped ? { stopped: failure.shrunk.stopped } : {}),
                    input: inputJson(failure.shrunk.input),
                    ...(failure.shrunk.verdict && !failure.shrunk.verdict.ok
                      ? { message: failure.shrunk.verdict.message }
                      : {}),
                  },
                }
              : {}),
          },
        }
      : {}),
  };
}
