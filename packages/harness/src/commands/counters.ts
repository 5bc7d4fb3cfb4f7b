import type { CommandModule } from 'yargs';

import { originOf } from '../client-data.js';
import { runCountersOnDevice, type DeviceCountersOutcome } from '../counters/index.js';
import { printDeviceOutcome } from '../counters/format.js';
import { combinedExitCode } from '../exit.js';
import { integerFlag, urlFlag } from '../flags.js';
import { channelTimeouts } from '../frame-timeout.js';
import { keybenchVersions, openHistory } from '../history/index.js';
import { resolveDevices } from '../open-device.js';
import { createOutput } from '../output.js';
import {
  DEVICES_OPTION,
  FRAME_TIMEOUT_OPTION,
  JSON_OPTION,
  TOUCH_TIMEOUT_OPTION,
} from './shared-options.js';

interface CountersArgs {
  device: string;
  rounds: number;
  credentials: number;
  db?: string;
  appid: string;
  timeout: number;
  'frame-timeout': number;
  json: boolean;
}

/** `keybench counters`: counter regression testing with history. */
export const countersCommand: CommandModule<object, CountersArgs> = {
  command: 'counters',
  describe: 'Check that signature counters only go up: per run, across runs, near 2^32',
  builder: (yargs) =>
    yargs
      .option('device', DEVICES_OPTION)
      .option('rounds', {
        type: 'number',
        requiresArg: true,
        default: 5,
        describe: 'signature rounds (each credential signs once per round)',
      })
      .option('credentials', {
        type: 'number',
        requiresArg: true,
        default: 2,
        describe: 'credentials to keep on each key',
      })
      .option('db', {
        type: 'string',
        requiresArg: true,
        describe: 'history file (default: $XDG_DATA_HOME/keybench/history.db)',
      })
      .option('appid', {
        alias: 'app-id',
        type: 'string',
        requiresArg: true,
        default: 'https://keybench.example/counters',
        describe: 'U2F appId of the credentials',
      })
      .option('timeout', TOUCH_TIMEOUT_OPTION)
      .option('frame-timeout', FRAME_TIMEOUT_OPTION)
      .option('json', JSON_OPTION),
  handler: async (args) => {
    integerFlag('rounds', args.rounds, 1, 100_000);
    integerFlag('credentials', args.credentials, 1, 100);
    urlFlag('appid', args.appid);
    const out = createOutput({ json: args.json });
    const origin = originOf(args.appid);
    const specs = await resolveDevices(args.device);

    const store = openHistory(args.db);
    try {
      const runId = store.startRun({
        command: 'counters',
        versions: keybenchVersions(),
        argv: process.argv.slice(2),
      });

      // Each key runs on its own queue; one failing key does not stop the others.
      const outcomes: DeviceCountersOutcome[] = await Promise.all(
        specs.map((spec) =>
          runCountersOnDevice(spec, store, runId, {
            rounds: args.rounds,
            credentials: args.credentials,
            appId: args.appid,
            origin,
            timeoutMs: args.timeout,
            channel: channelTimeouts(args['frame-timeout']),
            onTouchNeeded: (step) => out.diag(`Touch the key ${spec.text} to ${step}…`),
            log: (line) => out.diag(line),
          }),
        ),
      );

      const exitCode = combinedExitCode(outcomes.map((o) => o.exitCode));
      const regressions = outcomes.flatMap((o) => o.findings.filter((f) => f.severity === 'fail'));
      store.finishRun(runId, {
        status: exitCode === 0 ? 'passed' : exitCode === 1 ? 'failed' : 'error',
        exitCode,
        summary: {
          devices: outcomes.map((o) => ({
            device: o.device,
            deviceId: o.deviceId,
            exitCode: o.exitCode,
            error: o.error,
          })),
          regressions: regressions.length,
        },
      });

      if (out.json) {
        out.emitJson({ runId, db: store.file, exitCode, devices: outcomes });
      } else {
        for (const outcome of outcomes) printDeviceOutcome(out, outcome);
        out.line(
          `run #${runId} stored in ${store.file}: ${regressions.length} regression(s) on ` +
            `${outcomes.length} key(s)`,
        );
      }
      process.exitCode = exitCode;
    } finally {
      store.close();
    }
  },
};
