import type { CommandModule } from 'yargs';

import { checkCommand } from './check.js';
import { devicesCommand } from './devices.js';

/** Every keybench command, in the order `--help` lists them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<object, any>[] = [devicesCommand, checkCommand];
