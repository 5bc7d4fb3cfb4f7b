#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

import { commands } from './commands/index.js';
import { EXIT, UsageError } from './errors.js';
import { exitCodeFor } from './exit.js';
import { harnessVersion } from './history/versions.js';

/** Builds the `keybench` command line; `run` parses argv and runs the chosen command. */
export function buildCli(argv: string[]) {
  return yargs(argv)
    .scriptName('keybench')
    .usage('$0 <command> [options]\n\nA workbench for FIDO U2F security keys.')
    .command(commands)
    .demandCommand(1, 'Name a command (see --help).')
    .strict()
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .help()
    .alias('help', 'h')
    .version(harnessVersion())
    .fail((message, error) => {
      // yargs validation (unknown flag, missing value) arrives as a message; a command's own
      // failure arrives as the error it threw.
      throw error ?? new UsageError(message ?? 'invalid usage');
    });
}

/** A reader that went away (`keybench … | head`) is not an error: stop quietly. */
function exitQuietlyOnEpipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

async function main(): Promise<void> {
  exitQuietlyOnEpipe(process.stdout);
  exitQuietlyOnEpipe(process.stderr);
  try {
    await buildCli(hideBin(process.argv)).parseAsync();
  } catch (error) {
    const code = exitCodeFor(error);
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`keybench: ${message}\n`);
    if (code === EXIT.USAGE_OR_DEVICE && error instanceof UsageError) {
      process.stderr.write('Run "keybench --help" for usage.\n');
    }
    if (code !== EXIT.CHECK_FAILED && code !== EXIT.USAGE_OR_DEVICE && error instanceof Error) {
      process.stderr.write(`${error.stack ?? ''}\n`);
    }
    process.exitCode = code;
  }
}

await main();
