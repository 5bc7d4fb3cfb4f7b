import type { CommandModule } from 'yargs';

import { originOf } from '../client-data.js';
import type { DeviceSpec } from '../device-spec.js';
import { DeviceError, EXIT, UsageError } from '../errors.js';
import { ExchangeFailure, runExchange, type ExchangeResult } from '../exchange.js';
import { combinedExitCode } from '../exit.js';
import { urlFlag } from '../flags.js';
import { channelTimeouts } from '../frame-timeout.js';
import {
  finishCheckRun,
  openHistory,
  recordCheckOutcome,
  startCheckRun,
  type CheckOutcome,
  type HistoryStore,
} from '../history/index.js';
import { openDevice, resolveDevices } from '../open-device.js';
import { createOutput, formatMs, keyValues, type Output } from '../output.js';
import {
  DEVICES_OPTION,
  FRAME_TIMEOUT_OPTION,
  JSON_OPTION,
  TOUCH_TIMEOUT_OPTION,
} from './shared-options.js';

interface CheckArgs {
  device: string;
  'app-id': string;
  origin?: string;
  timeout: number;
  'frame-timeout': number;
  json: boolean;
  db?: string;
}

function describeAttestation(result: ExchangeResult): string {
  const verdict = result.attestation.verdict;
  const trust = verdict.trusted
    ? 'trusted'
    : `not trusted: ${verdict.reasons.join(', ') || 'unknown'}`;
  return `${result.attestation.subject} (${trust})`;
}

function printResult(out: Output, result: ExchangeResult): void {
  const present = (result.userPresence & 1) === 1 ? 'user present' : 'user presence bit clear';
  out.line(
    keyValues([
      ['device', result.device],
      ['version', result.version],
      ['app id', result.appId],
      ['attestation', describeAttestation(result)],
      ['key handle', `${result.keyHandleLength} bytes`],
      ['counter', `${result.counter} (${present})`],
      ...result.steps.map((s) => [`  ${s.step}`, formatMs(s.ms)] as const),
    ]).join('\n'),
  );
  out.line(out.style('green', '✔ registration and authentication verified'));
}

function printFailure(out: Output, outcome: Extract<CheckOutcome, { ok: false }>): void {
  const code = outcome.code ? `${outcome.code}: ` : '';
  out.diag(out.style('red', `✘ ${outcome.device}: ${code}${outcome.message}`));
}

async function checkOne(spec: DeviceSpec, args: CheckArgs, out: Output, origin: string) {
  const opened = await openDevice(spec, { channel: channelTimeouts(args['frame-timeout']) });
  try {
    return await runExchange(opened, {
      appId: args['app-id'],
      origin,
      timeoutMs: args.timeout,
      onTouchNeeded: (step) => out.diag(`Touch the key ${opened.description} to ${step}…`),
    });
  } finally {
    await opened.close();
  }
}

/** A wrong answer is a failed check (1); an unreachable or broken key, or anything else, 2. */
function failureOutcome(device: string, error: unknown): CheckOutcome {
  if (error instanceof ExchangeFailure) {
    const { step, code, message } = error;
    return { device, ok: false, exitCode: EXIT.CHECK_FAILED, step, code, message };
  }
  if (error instanceof DeviceError || error instanceof UsageError) {
    return { device, ok: false, exitCode: EXIT.USAGE_OR_DEVICE, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { device, ok: false, exitCode: EXIT.USAGE_OR_DEVICE, message };
}

/** One key's check; never throws. With a store, the outcome is committed as soon as it is in. */
async function outcomeOf(
  spec: DeviceSpec,
  args: CheckArgs,
  out: Output,
  origin: string,
  history: { store: HistoryStore; runId: number } | undefined,
): Promise<CheckOutcome> {
  let outcome: CheckOutcome;
  try {
    outcome = { device: spec.text, ok: true, result: await checkOne(spec, args, out, origin) };
  } catch (error) {
    outcome = failureOutcome(spec.text, error);
  }

  if (history) recordCheckOutcome(history.store, history.runId, outcome);
  return outcome;
}

/** `keybench check`: one verified registration and authentication per key. */
export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check',
  describe: 'Register and authenticate with a key, verifying both with server-core',
  builder: (yargs) =>
    yargs
      .option('device', DEVICES_OPTION)
      .option('app-id', {
        type: 'string',
        requiresArg: true,
        default: 'https://keybench.example',
        describe: 'U2F appId',
      })
      .option('origin', {
        type: 'string',
        requiresArg: true,
        describe: "clientData origin (default: the appId's origin)",
      })
      .option('timeout', TOUCH_TIMEOUT_OPTION)
      .option('frame-timeout', FRAME_TIMEOUT_OPTION)
      .option('json', JSON_OPTION)
      .option('db', {
        type: 'string',
        requiresArg: true,
        describe: 'also record the check in this history file',
      }),
  handler: async (args) => {
    urlFlag('app-id', args['app-id']);
    const out = createOutput({ json: args.json });
    const appOrigin = originOf(args['app-id']);
    const origin = args.origin ?? appOrigin;
    if (origin !== appOrigin) {
      // Allowed on purpose (it is how facets are tested), but never silently.
      out.diag(
        `note: --origin ${origin} differs from the appId's origin (${appOrigin}); it is the ` +
          'only facet allowed in this check',
      );
    }
    const specs = await resolveDevices(args.device);

    // The history is opened first, so a --db it cannot use stops the command before any key
    // is touched.
    const store = args.db === undefined ? undefined : openHistory(args.db);
    try {
      const history = store && { store, runId: startCheckRun(store, process.argv.slice(2)) };

      // Each key on its own queue; one failing or vanishing key does not stop the others.
      const outcomes = await Promise.all(
        specs.map((spec) => outcomeOf(spec, args, out, origin, history)),
      );
      if (history) finishCheckRun(store, history.runId, outcomes);

      if (out.json) {
        out.emitJson(specs.length === 1 ? outcomes[0] : outcomes);
      } else {
        for (const outcome of outcomes) {
          if (specs.length > 1) out.line(out.style('bold', `== ${outcome.device}`));
          if (outcome.ok) printResult(out, outcome.result);
          else printFailure(out, outcome);
        }
      }
      process.exitCode = combinedExitCode(outcomes.map((o) => (o.ok ? EXIT.OK : o.exitCode)));
    } finally {
      store?.close();
    }
  },
};
