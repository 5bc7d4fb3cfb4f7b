import type { CommandModule } from 'yargs';

import { openHistory } from '../history/index.js';
import { checkOutputFile, writeOutputFile } from '../output-file.js';
import { createOutput } from '../output.js';
import { collectReport, renderReport } from '../report/index.js';
import { resolveDevice } from './history.js';

interface ReportArgs {
  db?: string;
  html: string;
  device?: string;
}

/** `keybench report`: one self-contained HTML file from the history. */
export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report',
  describe:
    'Write an HTML report (counter plots, step sizes, conformance results) from the history',
  builder: (yargs) =>
    yargs
      .option('db', {
        type: 'string',
        requiresArg: true,
        describe: 'history file (default: $XDG_DATA_HOME/keybench/history.db)',
      })
      .option('html', {
        type: 'string',
        requiresArg: true,
        demandOption: true,
        describe: 'HTML file to write',
      })
      .option('device', {
        type: 'string',
        requiresArg: true,
        describe: 'only this device (number, as 2 or #2, or fingerprint prefix)',
      }),
  handler: (args) => {
    const out = createOutput();
    const target = checkOutputFile('--html', args.html);
    const store = openHistory(args.db, { create: false });
    try {
      const device = args.device === undefined ? undefined : resolveDevice(store, args.device);
      const data = collectReport(store, device?.id);
      // Written beside the target and renamed, so a reader never sees half a report.
      writeOutputFile('--html', target, renderReport(data));
      out.line(
        `report written to ${target}: ${data.devices.length} device(s), ${data.runs.length} run(s)`,
      );
    } finally {
      store.close();
    }
  },
};
