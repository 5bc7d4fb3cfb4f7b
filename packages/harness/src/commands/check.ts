import type { CommandModule } from 'yargs';

import { parseDeviceList } from '../device-spec.js';
import { DeviceError, EXIT, UsageError } from '../errors.js';
import { ExchangeFailure, runExchange, type ExchangeResult } from '../exchange.js';
import { originOf } from '../client-data.js';
import { recordCheckRun } from '../history/index.js';
import { expandSpecs, openDevice } from '../open-device.js';
import { createOutput, formatMs, keyValues, type Output } from '../output.js';

interface CheckArgs {
  device: string;
  'app-id': string;
  origin?: string;
  timeout: number;
  json: boolean;
  db?: string;
}

type Outcome =
  | { device: string; ok: true; result: ExchangeResult }
  | { device: string; ok: false; exitCode: number; step?: string; code?: string; message: string };

function describeAttestation(result: ExchangeResult): string {
  const verdict = result.attestation.verdict;
  const trust = verdict.trusted ? 'trusted' : `not trusted: ${verdict.reasons.join(', ') || 'unknown'}`;
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

async function checkOne(specText: string, args: CheckArgs, out: Output, origin: string) {
  const spec = parseDeviceList(specText)[0]!;
  const opened = await openDevice(spec);
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

function failureOutcome(device: string, error: unknown): Outcome {
  if (error instanceof ExchangeFailure) {
    return { device, ok: false, exitCode: EXIT.CHECK_FAILED, step: error.step, code: error.code, message: error.message };
  }
  if (error instanceof DeviceError || error instanceof UsageError) {
    return { device, ok: false, exitCode: EXIT.USAGE_OR_DEVICE, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { device, ok: false, exitCode: EXIT.USAGE_OR_DEVICE, message };
}

/** `keybench check`: one verified registration and authentication per key. */
export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check',
  describe: 'Register and authenticate with a key, verifying both with server-core',
  builder: (yargs) =>
    yargs
      .option('device', {
        alias: 'd',
        type: 'string',
        default: 'virtual',
        describe: 'virtual, udp:HOST:PORT[@LOCALPORT], hid, hid:PATH, all, or a comma list',
      })
      .option('app-id', { type: 'string', default: 'https://keybench.example', describe: 'U2F appId' })
      .option('origin', { type: 'string', describe: "clientData origin (default: the appId's origin)" })
      .option('timeout', { type: 'number', default: 30_000, describe: 'ms to wait for a touch' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
      .option('db', { type: 'string', describe: 'also record the check in this history file' }),
  handler: async (args) => {
    const out = createOutput({ json: args.json });
    const origin = args.origin ?? originOf(args['app-id']);
    const specs = await expandSpecs(parseDeviceList(args.device));
    if (specs.length === 0) throw new DeviceError(`device "${args.device}": no FIDO keys attached`);

    const outcomes: Outcome[] = await Promise.all(
      specs.map(async (spec): Promise<Outcome> => {
        try {
          return { device: spec.text, ok: true, result: await checkOne(spec.text, args, out, origin) };
        } catch (error) {
          return failureOutcome(spec.text, error);
        }
      }),
    );

    if (args.db !== undefined) recordCheckRun(args.db, outcomes, process.argv.slice(2));

    if (out.json) {
      out.emitJson(specs.length === 1 ? outcomes[0] : outcomes);
    } else {
      for (const outcome of outcomes) {
        if (specs.length > 1) out.line(out.style('bold', `== ${outcome.device}`));
        if (outcome.ok) printResult(out, outcome.result);
        else out.diag(out.style('red', `✘ ${outcome.device}: ${outcome.code ? `${outcome.code}: ` : ''}${outcome.message}`));
      }
    }
    process.exitCode = Math.max(0, ...outcomes.map((o) => (o.ok ? 0 : o.exitCode)));
  },
};
