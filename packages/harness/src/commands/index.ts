import type { CommandModule } from 'yargs';

import { checkCommand } from './check.js';
import { countersCommand } from './counters.js';
import { historyCommand } from './history.js';
import { reportCommand } from './report.js';
import { clientCommand } from './client.js';
import { conformanceCommand } from './conformance.js';
import { devicesCommand } from './devices.js';
import { fuzzCommand } from './fuzz.js';
import { serveCommand } from './serve.js';
import { virtualKeyCommand } from './virtual-key.js';

/** Every keybench command, in the order `--help` lists them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<object, any>[] = [
  devicesCommand,
  checkCommand,
  virtualKeyCommand,
  serveCommand, clientCommand, countersCommand, historyCommand, reportCommand,
  conformanceCommand,
  fuzzCommand];
