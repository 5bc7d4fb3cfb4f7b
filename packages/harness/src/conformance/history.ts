import type { DeviceSpec } from '../device-spec.js';
import { keybenchVersions, openHistory, type HistoryStore } from '../history/index.js';
import { usbIdentity } from '../usb-identity.js';
import type { KeyIdentity } from './identify.js';
import type { CaseResult, RunReport } from './result.js';

/** One key's conformance run in the history, written as it happens. */
export interface ConformanceRecording {
  readonly runId: number;
  /** Links the run to the key (attestation fingerprint, plus USB product and serial). */
  identified(identity: KeyIdentity): Promise<void>;
  /** Stores one case result at once, so a run killed half-way keeps it. */
  result(result: CaseResult): void;
  /** Ends the run with its status, exit code and summary. */
  finish(report: RunReport, exitCode: number): void;
}

/**
 * Conformance runs stored in the history database at `file`: one run per key, started before
 * its first case, each result committed as it comes, finished at the end. A run whose process
 * dies stays `running` and reads as interrupted in `keybench history`. Throws HistoryFileError
 * (when opened) for a file that is not a keybench history; the file is left unchanged.
 */
export class ConformanceHistory {
  readonly file: string;
  private readonly store: HistoryStore;
  private readonly argv: readonly string[];

  constructor(file: string, argv: readonly string[]) {
    this.store = openHistory(file);
    this.file = this.store.file;
    this.argv = argv;
  }

  /** Starts the run for one key; returns how to record its results. */
  start(spec: DeviceSpec, profile: string): ConformanceRecording {
    const store = this.store;
    const runId = store.startRun({
      command: 'conformance',
      profile,
      versions: keybenchVersions(),
      argv: this.argv,
    });
    let deviceId: number | undefined;

    return {
      runId,
      async identified(identity) {
        const device = store.recordDevice(
          { ...identity, ...(await usbIdentity(spec)), description: spec.text },
          runId,
          spec.text,
        );
        deviceId = device.id;
      },
      result(result) {
        store.recordConformanceResult(runId, {
          testId: result.id,
          status: result.status,
          ms: Math.round(result.ms * 1000) / 1000,
          ...(deviceId === undefined ? {} : { deviceId }),
          ...(result.reason === undefined ? {} : { message: result.reason }),
        });
      },
      finish(report, exitCode) {
        const status =
          report.status === 'passed' ? 'passed' : report.status === 'failed' ? 'failed' : 'error';
        store.finishRun(runId, {
          status,
          exitCode,
          summary: { device: report.device, ...report.summary, error: report.error },
        });
      },
    };
  }

  close(): void {
    this.store.close();
  }
}
