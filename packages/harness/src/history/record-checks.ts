import type { ExchangeResult } from '../exchange.js';
import { openHistory } from './open-history.js';
import { keybenchVersions } from './versions.js';

/** What `keybench check` found for one key (its Outcome, structurally). */
export type CheckOutcome =
  | { device: string; ok: true; result: ExchangeResult }
  | { device: string; ok: false; exitCode: number; step?: string; code?: string; message: string };

/**
 * Stores one `check` run in the history at `file` (default file when undefined): the run,
 * each verified key as a device (attestation fingerprint), and one check row per key.
 * Returns the run id. Throws HistoryFileError for a file that is not a keybench history.
 */
export function recordCheckRun(
  file: string | undefined,
  outcomes: readonly CheckOutcome[],
  argv: readonly string[],
): number {
  const store = openHistory(file);
  try {
    const runId = store.startRun({ command: 'check', versions: keybenchVersions(), argv });
    for (const outcome of outcomes) {
      if (!outcome.ok) {
        store.recordCheck(runId, {
          device: outcome.device,
          ok: false,
          message: outcome.message,
          ...(outcome.step === undefined ? {} : { step: outcome.step }),
          ...(outcome.code === undefined ? {} : { code: outcome.code }),
        });
        continue;
      }
      const { result } = outcome;
      const device = store.recordDevice(
        {
          fingerprint: result.attestation.fingerprint,
          subject: result.attestation.subject,
          issuer: result.attestation.issuer,
          version: result.version,
          description: result.device,
        },
        runId,
        outcome.device,
      );
      store.recordCheck(runId, {
        device: outcome.device,
        deviceId: device.id,
        ok: true,
        counter: result.counter,
        details: {
          appId: result.appId,
          keyHandleLength: result.keyHandleLength,
          trusted: result.attestation.verdict.trusted,
          steps: result.steps,
        },
      });
    }
    const failed = outcomes.some((o) => !o.ok);
    const exitCode = Math.max(0, ...outcomes.map((o) => (o.ok ? 0 : o.exitCode)));
    store.finishRun(runId, {
      status: !failed ? 'passed' : exitCode === 1 ? 'failed' : 'error',
      exitCode,
    });
    return runId;
  } finally {
    store.close();
  }
}
