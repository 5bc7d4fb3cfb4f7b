import type { CommandModule } from 'yargs';

import { UsageError } from '../errors.js';
import { openHistory, type HistoryStore } from '../history/index.js';
import { createOutput, table } from '../output.js';

interface HistoryArgs {
  device?: string;
  db?: string;
  json: boolean;
}

/** The device named by `--device`, or a UsageError listing what is stored. */
export function resolveDevice(store: HistoryStore, text: string) {
  let device;
  try {
    device = store.findDevice(text);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!device) {
    const known = store.devices().map((d) => `#${d.id} ${d.fingerprint.slice(0, 12)}`);
    throw new UsageError(
      `device "${text}" is not in ${store.file}; known: ${known.join(', ') || 'none'} ` +
        '(give the number, as 2 or #2, or a fingerprint prefix)',
    );
  }
  return device;
}

/**
 * A run still marked `running` whose process is gone was killed half-way: what it stored is
 * kept, but it never finished. (A pid reused by another process reads as still running.)
 */
function statusOf(run: { status: string; pid: number | null }): string {
  if (run.status !== 'running' || run.pid === null) return run.status;
  try {
    process.kill(run.pid, 0);
    return 'running';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'running' : 'interrupted';
  }
}

const duration = (start: string, end: string | null) =>
  end === null ? 'unfinished' : `${((Date.parse(end) - Date.parse(start)) / 1000).toFixed(1)} s`;

/** `keybench history`: runs and regressions stored in the history file. */
export const historyCommand: CommandModule<object, HistoryArgs> = {
  command: 'history',
  describe: 'List stored runs and counter regressions',
  builder: (yargs) =>
    yargs
      .option('device', {
        type: 'string',
        requiresArg: true,
        describe: 'only this device (number, as 2 or #2, or fingerprint prefix)',
      })
      .option('db', {
        type: 'string',
        requiresArg: true,
        describe: 'history file (default: $XDG_DATA_HOME/keybench/history.db)',
      })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }),
  handler: (args) => {
    const out = createOutput({ json: args.json });
    const store = openHistory(args.db, { create: false });
    try {
      const device = args.device === undefined ? undefined : resolveDevice(store, args.device);
      const filter = device ? { deviceId: device.id } : {};
      const devices = device ? [device] : store.devices();
      const runs = store.runs(filter).map((run) => ({
        ...run,
        observations: store.counterObservations({ runId: run.id, ...filter }).length,
        conformanceResults: store.conformanceResults({ runId: run.id, ...filter }).length,
        checks: store.checks({ runId: run.id, ...filter }).length,
        regressions: store.findings({ runId: run.id, severity: 'fail', ...filter }).length,
      }));
      const regressions = store.findings({ severity: 'fail', ...filter });

      if (out.json) {
        out.emitJson({ db: store.file, devices, runs, regressions });
        return;
      }
      out.line(`history ${store.file}: ${runs.length} run(s), ${devices.length} device(s)`);
      if (devices.length > 0) {
        const rows = devices.map((d) => [
          `#${d.id}`,
          d.identity.slice(0, 26) + '…',
          d.subject ?? '',
          d.lastSeen,
        ]);
        out.line(table(['device', 'identity', 'attestation', 'last seen'], rows).join('\n'));
      }
      if (runs.length > 0) {
        out.line();
        const rows = runs.map((r) => [
          `#${r.id}`,
          r.command + (r.profile ? ` (${r.profile})` : ''),
          r.startedAt,
          duration(r.startedAt, r.endedAt),
          statusOf(r),
          r.deviceIds.map((id) => `#${id}`).join(' '),
          String(r.observations + r.conformanceResults + r.checks),
          r.regressions === 0 ? '0' : out.style('red', String(r.regressions)),
        ]);
        out.line(
          table(
            ['run', 'command', 'started', 'took', 'status', 'devices', 'records', 'regressions'],
            rows,
          ).join('\n'),
        );
      }
      out.line();
      if (regressions.length === 0) {
        out.line('No regressions stored.');
      } else {
        out.line(out.style('bold', `Regressions (${regressions.length}):`));
        for (const finding of regressions) {
          out.line(
            `  run #${finding.runId} device #${finding.deviceId ?? '?'} ${finding.kind}: ${finding.message}`,
          );
        }
      }
    } finally {
      store.close();
    }
  },
};
