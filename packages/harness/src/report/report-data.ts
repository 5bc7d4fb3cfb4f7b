import { CounterJudge } from '../counters/judge.js';
import type {
  CheckRecord,
  ConformanceResultRecord,
  CounterRecord,
  DeviceRecord,
  FindingRecord,
  HistoryStore,
  RunRecord,
} from '../history/index.js';

/** One credential's signatures in the order they were made, across runs. */
export interface CredentialSeries {
  credentialId: number;
  name: string;
  points: { ordinal: number; value: number; runId: number; at: string; regression: boolean }[];
}

export interface DeviceReport {
  device: DeviceRecord;
  runs: RunRecord[];
  series: CredentialSeries[];
  /** Ordinal of the first signature of each run, for run markers. */
  runStarts: { runId: number; ordinal: number }[];
  stepHistogram: Record<string, number>;
  findings: FindingRecord[];
}

export interface ConformanceRun {
  run: RunRecord;
  results: ConformanceResultRecord[];
}

/** Everything a report shows, read from the history. */
export interface ReportData {
  file: string;
  generatedAt: string;
  devices: DeviceReport[];
  runs: RunRecord[];
  conformance: ConformanceRun[];
  checks: CheckRecord[];
}

/** The credentialId of the series holding `check` counters (no stored credential has it). */
export const CHECK_SERIES = -1;

const shortHandle = (keyHandle: Uint8Array) =>
  Buffer.from(keyHandle.subarray(0, 4)).toString('hex');

/** Step sizes of each run, judged as `keybench counters` judges them (global or per credential). */
function stepHistogram(
  signs: CounterRecord[],
  observations: CounterRecord[],
): Record<string, number> {
  const histogram: Record<string, number> = {};
  const runIds = [...new Set(signs.map((s) => s.runId))];
  for (const runId of runIds) {
    const judge = new CounterJudge(
      runId,
      (id) => `#${id}`,
      () => undefined,
    );
    for (const o of observations.filter((x) => x.runId === runId)) {
      if (o.event === 'sign' && o.value !== null) {
        judge.observe({ event: 'sign', credentialId: o.credentialId, value: o.value });
      } else if (o.event !== 'sign' && o.statusWord !== null) {
        judge.observe({ event: o.event, credentialId: o.credentialId, statusWord: o.statusWord });
      }
    }
    for (const [step, count] of Object.entries(judge.finish().summary.stepHistogram)) {
      histogram[step] = (histogram[step] ?? 0) + count;
    }
  }
  return histogram;
}

function deviceReport(store: HistoryStore, device: DeviceRecord): DeviceReport {
  const observations = store.counterObservations({ deviceId: device.id });
  const signs = observations.filter((o) => o.event === 'sign' && o.value !== null);
  const credentials = store.credentials(device.id);

  const runStarts: DeviceReport['runStarts'] = [];
  const series = new Map<number, CredentialSeries>();
  for (const credential of credentials) {
    series.set(credential.id, {
      credentialId: credential.id,
      name: `credential #${credential.id} (kh ${shortHandle(credential.keyHandle)}…)`,
      points: [],
    });
  }
  // `check` registers a new credential every time and stores only its one counter: those
  // values share one series of their own, never judged as a regression (a per-credential
  // key starts each new credential low).
  const checks = store
    .checks({ deviceId: device.id })
    .filter((c): c is CheckRecord & { counter: number } => c.counter !== null);
  const checkSeries: CredentialSeries = {
    credentialId: CHECK_SERIES,
    name: 'keybench check (a new credential each run)',
    points: [],
  };
  const timeline = [
    ...signs.map((sign) => ({ at: sign.at, runId: sign.runId, sign })),
    ...checks.map((check) => ({ at: check.at, runId: check.runId, check })),
  ].sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0));

  timeline.forEach((entry, ordinal) => {
    if (runStarts.at(-1)?.runId !== entry.runId) runStarts.push({ runId: entry.runId, ordinal });
    if ('check' in entry) {
      const { counter, runId, at } = entry.check;
      checkSeries.points.push({ ordinal, value: counter, runId, at, regression: false });
      return;
    }
    const sign = entry.sign;
    const line = series.get(sign.credentialId)!;
    const previous = line.points.at(-1);
    // A point is a regression when it does not rise above the credential's previous value,
    // in the same run or an earlier one: what `counters` reports as regression or history-regression.
    line.points.push({
      ordinal,
      value: sign.value!,
      runId: sign.runId,
      at: sign.at,
      regression: previous !== undefined && sign.value! <= previous.value,
    });
  });

  return {
    device,
    runs: store.runs({ deviceId: device.id }),
    series: [...series.values(), checkSeries].filter((s) => s.points.length > 0),
    runStarts,
    stepHistogram: stepHistogram(signs, observations),
    findings: store.findings({ deviceId: device.id }),
  };
}

/**
 * Reads what a report shows: per device its identity, counter series, run boundaries, step
 * sizes and findings; conformance results per run; checks. With `deviceId`, only that device
 * and the runs that used it.
 */
export function collectReport(store: HistoryStore, deviceId?: number): ReportData {
  const devices = store.devices().filter((d) => deviceId === undefined || d.id === deviceId);
  const runs = store.runs(deviceId === undefined ? {} : { deviceId });
  const conformance = runs
    .map((run) => ({
      run,
      results: store
        .conformanceResults({ runId: run.id })
        .filter((r) => deviceId === undefined || r.deviceId === null || r.deviceId === deviceId),
    }))
    .filter((c) => c.results.length > 0);
  const checks = runs.flatMap((run) =>
    store
      .checks({ runId: run.id })
      .filter((c) => deviceId === undefined || c.deviceId === null || c.deviceId === deviceId),
  );
  return {
    file: store.file,
    generatedAt: new Date().toISOString(),
    devices: devices.map((device) => deviceReport(store, device)),
    runs,
    conformance,
    checks,
  };
}
