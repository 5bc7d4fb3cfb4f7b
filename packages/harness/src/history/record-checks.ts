import type { ExchangeResult } from '../exchange.js';
import { openHistory } from './open-history.js';
import type { HistoryStore } from './store.js';
import { keybenchVersions } from './versions.js';

/** What `keybench check` found for one key (its Outcome, structurally). */
export type CheckOutcome =
  | { device: string; ok: true; result: ExchangeResult }
  | { device: string; ok: false; exitCode: number; step?: string; code?: string; message: string };

/** Starts a `check` run in `store`; returns its id. */
export function startCheckRun(store: HistoryStore, argv: readonly string[]): number {
  return store.startRun({ command: 'check', versions: keybenchVersions(), argv });
}

/**
 * Stores one key's check, committed at once: a verified key as a device (attestation
 * fingerprint) linked to the run, and one check row.
 */
export function recordCheckOutcome(store: HistoryStore, runId: number, outcome: CheckOutcome) {
  if (!outcome.ok) {
    store.recordCheck(runId, {
      device: outcome.device,
      ok: false,
      message: outcome.message,
      ...(outcome.step === undefined ? {} : { step: outcome.step }),
      ...(outcome.code === undefined ? {} : { code: outcome.code }),
    });
    return;
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

/** Ends a `check` run: passed, failed (a key did not verify) or error (a key was unusable). */
export function finishCheckRun(
  store: HistoryStore,
  runId: number,
  outcomes: readonly CheckOutcome[],
): void {
  const failed = outcomes.some((o) => !o.ok);
  const exitCode = Math.max(0, ...outcomes.map((o) => (o.ok ? 0 : o.exitCode)));
  store.finishRun(runId, {
    status: !failed ? 'passed' : exitCode === 1 ? 'failed' : 'error',
    exitCode,
  });
}

/**
 * Stores one whole `check` run in the history at `file` (default file when undefined).
 * Returns the run id. Throws HistoryFileError for a file that is not a keybench history.
 */
export function recordCheckRun(
  file: string | undefined,
  outcomes: readonly CheckOutcome[],
  argv: readonly string[],
): number {
  const store = openHistory(file);
  try {
    const runId = startCheckRun(store, argv);
    for (const outcome of outcomes) recordCheckOutcome(store, runId, outcome);
    finishCheckRun(store, runId, outcomes);
    return runId;
  } finally {
    store.close();
  }
}
