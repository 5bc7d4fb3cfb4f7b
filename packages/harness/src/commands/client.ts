import type { CommandModule } from 'yargs';

import { runClient, type ClientStep } from '../client/client.js';
import { parseDeviceSpec } from '../device-spec.js';
import { DeviceError, EXIT, UsageError } from '../errors.js';
import { ExchangeFailure } from '../exchange.js';
import { expandSpecs, openDevice } from '../open-device.js';
import { urlFlag } from '../flags.js';
import { channelTimeouts } from '../frame-timeout.js';
import { createOutput, formatMs, keyValues, type Output } from '../output.js';
import { FRAME_TIMEOUT_OPTION, JSON_OPTION, TOUCH_TIMEOUT_OPTION } from './shared-options.js';

interface ClientArgs {
  server: string;
  device: string;
  username: string;
  origin?: string;
  timeout: number;
  'frame-timeout': number;
  json: boolean;
}

function stepLine(out: Output, step: ClientStep): string {
  const status = step.status === undefined ? '   ' : String(step.status);
  const ms = formatMs(step.ms).padStart(9);
  return `${out.style('green', '✔')} ${step.step.padEnd(12)} ${status}  ${ms}  ${step.detail}`;
}

/**
 * `keybench client`: enroll, bind, sign and verify against a server speaking
 * python-u2flib-server's example flow, with a real, simulated or virtual key. Exit 1 when
 * the server (or the key) rejects a step, 2 when the server or the key cannot be reached.
 */
export const clientCommand: CommandModule<object, ClientArgs> = {
  command: 'client',
  describe: 'Register and authenticate a key against a U2F server (enroll, bind, sign, verify)',
  builder: (yargs) =>
    yargs
      .option('server', {
        type: 'string',
        requiresArg: true,
        demandOption: true,
        describe: 'base URL of the server, e.g. http://localhost:8081',
      })
      .option('device', {
        alias: 'd',
        type: 'string',
        requiresArg: true,
        default: 'virtual',
        describe:
          'virtual, udp:HOST:PORT[@LOCALPORT] (HOST an IP address or localhost), hid or hid:PATH',
      })
      .option('username', {
        type: 'string',
        requiresArg: true,
        default: 'user',
        describe: 'sent as "username"',
      })
      .option('origin', {
        type: 'string',
        requiresArg: true,
        describe: "clientData origin (default: the origin of the server's appId)",
      })
      .option('timeout', TOUCH_TIMEOUT_OPTION)
      .option('frame-timeout', FRAME_TIMEOUT_OPTION)
      .option('json', JSON_OPTION),
  handler: async (args) => {
    const out = createOutput({ json: args.json });
    urlFlag('server', args.server);
    const spec = parseDeviceSpec(args.device);
    if (spec.kind === 'all') {
      throw new UsageError('client: --device all names several keys; name one');
    }
    const [expanded] = await expandSpecs([spec]);

    const opened = await openDevice(expanded!, {
      channel: channelTimeouts(args['frame-timeout']),
    });
    const steps: ClientStep[] = [];
    try {
      if (!out.json) {
        out.line(`server ${args.server}, user ${args.username}, device ${opened.description}`);
      }
      const result = await runClient({
        server: args.server,
        device: opened.device,
        username: args.username,
        touchTimeoutMs: args.timeout,
        ...(args.origin === undefined ? {} : { origin: args.origin }),
        onStep: (step) => {
          steps.push(step);
          if (!out.json) out.line(stepLine(out, step));
        },
        onTouchNeeded: (step) => out.diag(`Touch the key ${opened.description} to ${step}…`),
      });

      if (out.json) {
        out.emitJson({ ok: true, device: opened.description, ...result });
        return;
      }
      out.line(
        keyValues([
          ['app id', result.appId],
          ['origin', result.origin],
          ['key handle', result.verified.keyHandle],
          ['touch', String(result.verified.touch)],
          ['counter', String(result.verified.counter)],
        ]).join('\n'),
      );
      out.line(out.style('green', '✔ enroll, bind, sign and verify accepted by the server'));
    } catch (error) {
      if (!(error instanceof ExchangeFailure) && !(error instanceof DeviceError)) throw error;
      const exitCode = error instanceof ExchangeFailure ? EXIT.CHECK_FAILED : EXIT.USAGE_OR_DEVICE;
      const step = error instanceof ExchangeFailure ? error.step : undefined;
      const code = error instanceof ExchangeFailure ? error.code : undefined;
      if (out.json) {
        out.emitJson({
          ok: false,
          device: opened.description,
          server: args.server,
          step,
          code,
          message: error.message,
          steps,
        });
      } else {
        out.diag(out.style('red', `✘ ${code ? `${code}: ` : ''}${error.message}`));
      }
      process.exitCode = exitCode;
    } finally {
      await opened.close();
    }
  },
};
