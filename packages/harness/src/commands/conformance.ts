import cliProgress from 'cli-progress';
import type { CommandModule } from 'yargs';

import { ConformanceHistory, type ConformanceRecording } from '../conformance/history.js';
import { terminalPromptIo, type PromptIo } from '../conformance/presence.js';
import { PROFILE_NAMES, type ProfileName } from '../conformance/profiles.js';
import { caseLine, summaryLines } from '../conformance/reporters/console.js';
import { printCaseList } from '../conformance/reporters/list.js';
import { outputFileFor, renderReports, type Reporter } from '../conformance/reporters/render.js';
import type { CaseResult, RunReport } from '../conformance/result.js';
import { requireSomeCase, runConformance, type RunOptions } from '../conformance/runner.js';
import type { DeviceSpec } from '../device-spec.js';
import { EXIT } from '../errors.js';
import { combinedExitCode } from '../exit.js';
import { resolveDevices } from '../open-device.js';
import { checkOutputFile, writeOutputFile } from '../output-file.js';
import { createOutput, type Output } from '../output.js';
import { DEVICES_OPTION, FRAME_TIMEOUT_OPTION } from './shared-options.js';

export { outputFileFor } from '../conformance/reporters/render.js';

interface ConformanceArgs {
  device: string;
  'frame-timeout': number;
  profile: ProfileName;
  grep?: string;
  list: boolean;
  bail: boolean;
  touch: boolean;
  reporter: Reporter;
  output?: string;
  db?: string;
}

const exitCodeOf = (report: RunReport) =>
  report.status === 'passed'
    ? EXIT.OK
    : report.status === 'failed'
      ? EXIT.CHECK_FAILED
      : EXIT.USAGE_OR_DEVICE;

/** How results reach the terminal: streamed lines, a progress bar, or nothing until the end. */
interface Progress {
  readonly stream: boolean;
  start(total: number): void;
  result(result: CaseResult, done: number): void;
  stop(): void;
}

function progressFor(out: Output, args: ConformanceArgs, several: boolean): Progress {
  const stream = args.reporter === 'console' && !args.output && !several;
  const shown = process.stderr.isTTY && process.stdout.isTTY && args.reporter === 'console';
  const bar = shown
    ? new cliProgress.SingleBar(
        { format: '{bar} {value}/{total} {id}', clearOnComplete: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  return {
    stream,
    start: (total) => bar?.start(total, 0, { id: '' }),
    result(result, done) {
      if (!stream) return void bar?.increment(1, { id: result.id });
      bar?.stop();
      out.line(caseLine(result, out.style));
      bar?.start(bar.getTotal(), done, { id: result.id });
    },
    stop: () => bar?.stop(),
  };
}

/** The run on one key, every result stored (with --db) the moment it comes. */
async function runOnKey(
  spec: DeviceSpec,
  args: ConformanceArgs,
  out: Output,
  progress: Progress,
  keys: number,
  recording: ConformanceRecording | undefined,
  promptIo: PromptIo | undefined,
): Promise<RunReport> {
  let done = 0;
  const onIdentity: RunOptions['onIdentity'] = async (outcome) => {
    if ('identity' in outcome) await recording?.identified(outcome.identity);
    else out.diag(`${spec.text}: not identified in the history (${outcome.error})`);
  };

  const report = await runConformance(spec, {
    profile: args.profile,
    ...(args.grep ? { grep: args.grep } : {}),
    bail: args.bail,
    noTouch: !args.touch,
    frameTimeoutMs: args['frame-timeout'],
    ...(promptIo ? { promptIo } : {}),
    ...(recording ? { onIdentity } : {}),
    onStart: (total) => progress.start(total * keys),
    onResult: (result) => {
      recording?.result(result);
      progress.result(result, ++done);
    },
  });

  recording?.finish(report, exitCodeOf(report));
  return report;
}

function writeReports(out: Output, args: ConformanceArgs, reports: readonly RunReport[]) {
  const output = args.output!;
  for (const report of reports) {
    const file = outputFileFor(output, report.device, reports.length > 1);
    writeOutputFile('--output', file, renderReports(args.reporter, [report]));
    const { pass, total } = report.summary;
    out.diag(`${report.device}: ${report.status} (${pass}/${total} passed) → ${file}`);
  }
}

/** `keybench conformance`: the conformance suite against one or more keys. */
export const conformanceCommand: CommandModule<object, ConformanceArgs> = {
  command: 'conformance',
  describe: 'Run the U2F HID conformance suite against keys',
  builder: (yargs) =>
    yargs
      .option('device', DEVICES_OPTION)
      .option('profile', {
        choices: PROFILE_NAMES,
        default: 'spec' as ProfileName,
        describe: 'how the suite reads the points where public suites disagree',
      })
      .option('grep', {
        type: 'string',
        requiresArg: true,
        describe: 'only cases whose id, title, layer or source contain TEXT',
      })
      .option('list', { type: 'boolean', default: false, describe: 'list the cases and exit' })
      .option('bail', { type: 'boolean', default: false, describe: 'stop at the first failure' })
      .option('touch', {
        type: 'boolean',
        default: true,
        describe: 'ask a person to touch (--no-touch skips those cases)',
      })
      .option('reporter', {
        choices: ['console', 'json', 'junit'] as const,
        default: 'console' as Reporter,
      })
      .option('output', {
        type: 'string',
        requiresArg: true,
        describe: 'write the report to FILE (suffixed per device)',
      })
      .option('db', {
        type: 'string',
        requiresArg: true,
        describe: 'store the results in this history database',
      })
      .option('frame-timeout', {
        ...FRAME_TIMEOUT_OPTION,
        default: '2000',
        defaultDescription: '2000',
      }) as never,
  handler: async (args) => {
    const out = createOutput({ json: args.reporter === 'json' && args.list });
    requireSomeCase({ profile: args.profile, ...(args.grep ? { grep: args.grep } : {}) });
    if (args.list) return printCaseList(out, args);

    const specs = await resolveDevices(args.device);
    const several = specs.length > 1;
    if (args.output !== undefined) {
      for (const spec of specs)
        checkOutputFile('--output', outputFileFor(args.output, spec.text, several));
    }
    const history =
      args.db === undefined ? undefined : new ConformanceHistory(args.db, process.argv.slice(2));

    try {
      const progress = progressFor(out, args, several);
      const promptIo = out.interactive && args.touch && !several ? terminalPromptIo() : undefined;
      const recordings = specs.map((spec) => history?.start(spec, args.profile));

      // Each key on its own queue; a key that fails or vanishes ends only its own report.
      const reports = await Promise.all(
        specs.map((spec, i) =>
          runOnKey(spec, args, out, progress, specs.length, recordings[i], promptIo),
        ),
      );
      progress.stop();

      if (progress.stream) {
        for (const line of summaryLines(reports[0]!, out.style)) out.line(line);
      } else if (args.output !== undefined) {
        writeReports(out, args, reports);
      } else {
        out.line(renderReports(args.reporter, reports).trimEnd());
      }
      if (history) {
        const ids = recordings.map((recording) => recording!.runId);
        out.diag(`stored as run${ids.length > 1 ? 's' : ''} ${ids.join(', ')} in ${history.file}`);
      }
      process.exitCode = combinedExitCode(reports.map(exitCodeOf));
    } finally {
      history?.close();
    }
  },
};
