import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';

import cliProgress from 'cli-progress';
import type { CommandModule } from 'yargs';

import { CATALOGUE, EXCLUDED } from '../conformance/catalogue.js';
import { terminalPromptIo } from '../conformance/presence.js';
import { PROFILE_NAMES, type ProfileName } from '../conformance/profiles.js';
import { caseLine, consoleReport, summaryLines } from '../conformance/reporters/console.js';
import { junitReport } from '../conformance/reporters/junit.js';
import { recordConformanceRuns } from '../conformance/history.js';
import type { CaseResult, RunReport } from '../conformance/result.js';
import { runConformance, selectCases } from '../conformance/runner.js';
import { parseDeviceList } from '../device-spec.js';
import { DeviceError, EXIT } from '../errors.js';
import { expandSpecs } from '../open-device.js';
import { createOutput, table, type Output } from '../output.js';

type Reporter = 'console' | 'json' | 'junit';

interface ConformanceArgs {
  device: string;
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
  report.status === 'passed' ? EXIT.OK : report.status === 'failed' ? EXIT.CHECK_FAILED : EXIT.USAGE_OR_DEVICE;

/** `report.json` → `report-udp_127.0.0.1_8111.json` when several devices each get a file. */
export function outputFileFor(file: string, device: string, several: boolean): string {
  if (!several) return file;
  const extension = extname(file);
  const slug = device.replace(/[^A-Za-z0-9.-]+/g, '_').replace(/^_+|_+$/g, '');
  return `${file.slice(0, file.length - extension.length)}-${slug}${extension}`;
}

function render(reporter: Reporter, reports: readonly RunReport[]): string {
  if (reporter === 'junit') return junitReport(reports);
  if (reporter === 'json') return `${JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2)}\n`;
  return reports.map((report) => consoleReport(report)).join('\n');
}

function printList(out: Output, args: ConformanceArgs): void {
  const selected = new Set(selectCases({ profile: args.profile, ...(args.grep ? { grep: args.grep } : {}) }).map((t) => t.id));
  const rows = CATALOGUE.filter((test) => selected.has(test.id)).map((test) => [
    test.id,
    test.layer,
    test.person.join('+') || '-',
    test.profiles?.join(',') ?? 'all',
    test.title,
    test.source,
  ]);
  if (out.json) {
    out.emitJson(CATALOGUE.filter((test) => selected.has(test.id)).map(({ run: _run, ...data }) => data));
    return;
  }
  out.line(table(['id', 'layer', 'person', 'profiles', 'title', 'source'], rows).join('\n'));
  out.line(`\n${rows.length} cases for profile ${args.profile}. Not applicable to U2F over HID:`);
  for (const excluded of EXCLUDED) out.line(`  ${excluded.id}  ${excluded.title} — ${excluded.reason}`);
}

/** `keybench conformance`: the conformance suite against one or more keys. */
export const conformanceCommand: CommandModule<object, ConformanceArgs> = {
  command: 'conformance',
  describe: 'Run the U2F HID conformance suite against keys',
  builder: (yargs) =>
    yargs
      .option('device', { alias: 'd', type: 'string', default: 'virtual', describe: 'virtual, udp:HOST:PORT, hid, hid:PATH, all, or a comma list' })
      .option('profile', { choices: PROFILE_NAMES, default: 'spec' as ProfileName, describe: 'how the suite reads the points where public suites disagree' })
      .option('grep', { type: 'string', describe: 'only cases whose id, title, layer or source contain TEXT' })
      .option('list', { type: 'boolean', default: false, describe: 'list the cases and exit' })
      .option('bail', { type: 'boolean', default: false, describe: 'stop at the first failure' })
      .option('touch', { type: 'boolean', default: true, describe: 'ask a person to touch (--no-touch skips those cases)' })
      .option('reporter', { choices: ['console', 'json', 'junit'] as const, default: 'console' as Reporter })
      .option('output', { type: 'string', describe: 'write the report to FILE (suffixed per device)' })
      .option('db', { type: 'string', describe: 'store the results in this history database' }) as never,
  handler: async (args) => {
    const out = createOutput({ json: args.reporter === 'json' && args.list });
    if (args.list) {
      printList(out, args);
      return;
    }

    const specs = await expandSpecs(parseDeviceList(args.device));
    if (specs.length === 0) throw new DeviceError(`device "${args.device}": no FIDO keys attached`);
    const several = specs.length > 1;
    const stream = args.reporter === 'console' && !args.output && !several;
    const progress = process.stderr.isTTY && process.stdout.isTTY && args.reporter === 'console';
    const bar = progress
      ? new cliProgress.SingleBar({ format: '{bar} {value}/{total} {id}', clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic)
      : undefined;
    const promptIo = out.interactive && args.touch ? terminalPromptIo() : undefined;

    const reports = await Promise.all(
      specs.map((spec) => {
        let done = 0;
        return runConformance(spec, {
          profile: args.profile,
          ...(args.grep ? { grep: args.grep } : {}),
          bail: args.bail,
          noTouch: !args.touch,
          ...(promptIo && !several ? { promptIo } : {}),
          onStart: (total) => bar?.start(total * specs.length, 0, { id: '' }),
          onResult: (result: CaseResult) => {
            done++;
            if (stream) {
              bar?.stop();
              out.line(caseLine(result, out.style));
              bar?.start(bar.getTotal(), done, { id: result.id });
            } else {
              bar?.increment(1, { id: result.id });
            }
          },
        });
      }),
    );
    bar?.stop();

    if (stream) {
      for (const line of summaryLines(reports[0]!, out.style)) out.line(line);
    } else if (args.output) {
      for (const report of reports) {
        const file = args.reporter === 'junit' && !several ? args.output : outputFileFor(args.output, report.device, several);
        writeFileSync(file, render(args.reporter, [report]));
        out.diag(`${report.device}: ${report.status} (${report.summary.pass}/${report.summary.total} passed) → ${file}`);
      }
    } else {
      out.line(render(args.reporter, reports).trimEnd());
    }

    if (args.db) {
      const ids = recordConformanceRuns(args.db, reports, process.argv.slice(2), exitCodeOf);
      out.diag(`stored as run${ids.length > 1 ? 's' : ''} ${ids.join(', ')} in ${args.db}`);
    }
    process.exitCode = Math.max(...reports.map(exitCodeOf));
  },
};
