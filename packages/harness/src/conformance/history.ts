import { keybenchVersions, openHistory } from '../history/index.js';
import type { RunReport } from './result.js';

/**
 * Stores one conformance run per report in the history database at `file`: the run (command
 * `conformance`, profile, versions, argv, summary) and one result row per case. Returns the
 * run ids. Throws HistoryFileError for a file that is not a keybench history.
 */
export function recordConformanceRuns(
  file: string,
  reports: readonly RunReport[],
  argv: readonly string[],
  exitCodeOf: (report: RunReport) => number,
): number[] {
  const store = openHistory(file);
  try {
    return reports.map((report) => {
      const runId = store.startRun({
        command: 'conformance',
        profile: report.profile,
        versions: keybenchVersions(),
        argv,
      });
      for (const result of report.results) {
        store.recordConformanceResult(runId, {
          testId: result.id,
          status: result.status,
          ms: Math.round(result.ms * 1000) / 1000,
          ...(result.reason === undefined ? {} : { message: result.reason }),
        });
      }
      store.finishRun(runId, {
        status: report.status === 'passed' ? 'passed' : report.status === 'failed' ? 'failed' : 'error',
        exitCode: exitCodeOf(report),
        summary: { device: report.device, ...report.summary, error: report.error },
      });
      return runId;
    });
  } finally {
    store.close();
  }
}
