import { randomBytes } from 'node:crypto';

import cliProgress from 'cli-progress';
import { parseFault, type FaultSpec } from '@keybench/virtual-key';
import type { CommandModule } from 'yargs';

import { parseDeviceList } from '../device-spec.js';
import { EXIT, UsageError } from '../errors.js';
import { FUZZ_MODES, type FuzzMode } from '../fuzz/generate.js';
import { fuzzReportJson, fuzzSummaryLines, reproduceCommand } from '../fuzz/report.js';
import { runFuzz, type FuzzReport } from '../fuzz/run.js';
import { openFuzzTarget } from '../fuzz/target.js';
import { expandSpecs } from '../open-device.js';
import { createOutput } from '../output.js';

interface FuzzArgs {
  device: string;
  seed?: string;
  iterations: string;
  start: string;
  mode: FuzzMode;
  'time-limit'?: string;
  timeout: string;
  settle?: string;
  fault: string[];
  shrink: boolean;
  'shrink-time': string;
  json: boolean;
}

/** A whole number in min..max from a flag's text. Throws UsageError naming the flag. */
export function integerFlag(flag: string, text: string, min: number, max: number): number {
  const value = /^\s*(0x[0-9a-f]+|\d+)\s*$/i.test(text) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${flag} must be an integer ${min}..${max}, got "${text}"`);
  }
  return value;
}

const EXIT_FOR: Record<FuzzReport['status'], number> = {
  passed: EXIT.OK,
  failed: EXIT.CHECK_FAILED,
  unusable: EXIT.USAGE_OR_DEVICE,
};

/** `keybench fuzz`: random and mutated frames and APDUs; the key must keep answering. */
export const fuzzCommand: CommandModule<object, FuzzArgs> = {
  command: 'fuzz',
  describe: 'Send random and mutated CTAPHID frames and U2F APDUs; the key must keep answering',
  builder: (yargs) =>
    yargs
      .option('device', {
        alias: 'd',
        type: 'string',
        default: 'virtual',
        describe: 'virtual, udp:HOST:PORT[@LOCALPORT], hid or hid:PATH',
      })
      .option('seed', {
        type: 'string',
        describe: 'u32 seed naming the run (default: random, always printed)',
      })
      .option('iterations', {
        alias: 'n',
        type: 'string',
        default: '1000',
        describe: 'inputs to send',
      })
      .option('start', {
        type: 'string',
        default: '1',
        describe: 'first iteration (inputs depend only on seed and iteration)',
      })
      .option('mode', {
        choices: FUZZ_MODES,
        default: 'both' as FuzzMode,
        describe: 'raw frames, APDUs in MSG, or both',
      })
      .option('time-limit', {
        type: 'string',
        describe: 'stop after S seconds (passing) even with iterations left',
      })
      .option('timeout', {
        type: 'string',
        default: '1000',
        describe: 'ms to wait for the device in any one exchange',
      })
      .option('settle', {
        type: 'string',
        describe:
          'ms of quiet that ends the replies to an input (default 2 in-process, 20 otherwise)',
      })
      .option('fault', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe: 'virtual only: inject a virtual-key fault, NAME[=VALUE], repeatable',
      })
      .option('shrink', {
        type: 'boolean',
        default: true,
        describe: 'shrink a failing input (--no-shrink to skip)',
      })
      .option('shrink-time', {
        type: 'string',
        default: '60',
        describe: 'seconds shrinking may take',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'one JSON report on stdout',
      }) as never,
  handler: async (args) => {
    const out = createOutput({ json: args.json });
    const seed =
      args.seed === undefined
        ? randomBytes(4).readUInt32BE(0)
        : integerFlag('seed', args.seed, 0, 0xffffffff);
    const iterations = integerFlag('iterations', args.iterations, 1, 100_000_000);
    const start = integerFlag('start', args.start, 1, 0xffffffff);
    const timeoutMs = integerFlag('timeout', args.timeout, 10, 600_000);
    const timeLimit =
      args['time-limit'] === undefined
        ? undefined
        : integerFlag('time-limit', args['time-limit'], 1, 31_536_000);
    const shrinkTime = integerFlag('shrink-time', args['shrink-time'], 0, 86_400);

    const parsed = parseDeviceList(args.device);
    const specs = await expandSpecs(parsed);
    if (parsed.length !== 1 || specs.length !== 1 || parsed[0]!.kind === 'all') {
      throw new UsageError(`--device: fuzz takes one device, got "${args.device}"`);
    }
    const spec = specs[0]!;
    const settleMs =
      args.settle === undefined
        ? spec.kind === 'virtual'
          ? 2
          : 20
        : integerFlag('settle', args.settle, 0, 10_000);
    if (args.fault.length > 0 && spec.kind !== 'virtual') {
      throw new UsageError(
        '--fault works only with --device virtual (start a faulty UDP key with keybench virtual-key --fault)',
      );
    }
    let faults: FaultSpec[];
    try {
      faults = args.fault.map((text) => parseFault(text));
    } catch (error) {
      throw new UsageError(`--fault: ${error instanceof Error ? error.message : String(error)}`);
    }

    const reproduce = [
      'keybench fuzz',
      '--device',
      spec.text,
      '--seed',
      String(seed),
      '--mode',
      args.mode,
      ...faults.flatMap((f) => [
        '--fault',
        f.value === undefined ? f.name : `${f.name}=${f.value}`,
      ]),
    ];
    const header =
      `fuzz: device ${spec.text}, seed ${seed}, ${iterations} iterations from ${start}, mode ${args.mode}` +
      (faults.length ? `, faults ${faults.map((f) => f.name).join(',')}` : '');
    if (out.json) out.diag(header);
    else out.line(header);

    const target = await openFuzzTarget(spec, {
      timeoutMs,
      settleMs,
      ...(faults.length ? { virtual: { faults } } : {}),
    });
    const bar =
      process.stderr.isTTY && !out.json
        ? new cliProgress.SingleBar(
            {
              format: '{bar} {value}/{total} {label}',
              clearOnComplete: true,
              stream: process.stderr,
            },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
    bar?.start(iterations, 0, { label: '' });

    const report = await runFuzz(target, {
      seed,
      start,
      iterations,
      mode: args.mode,
      recoverMs: Math.max(3000, timeoutMs),
      shrink: args.shrink,
      shrinkBudget: { candidates: 2000, timeMs: shrinkTime * 1000 },
      ...(timeLimit === undefined ? {} : { timeLimitMs: timeLimit * 1000 }),
      onIteration: (done, input) => bar?.update(done, { label: `${input.kind}:${input.label}` }),
      onShrinking: () => {
        bar?.stop();
        out.diag('fuzz: the device failed; shrinking the input on fresh device states…');
      },
    });
    bar?.stop();

    const again = report.failure ? reproduceCommand(reproduce, report.failure) : undefined;
    if (out.json) out.emitJson(fuzzReportJson(report));
    else for (const line of fuzzSummaryLines(report, again)) out.line(line);
    process.exitCode = EXIT_FOR[report.status];
  },
};
