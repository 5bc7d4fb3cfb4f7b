import type { CounterPolicy } from '@keybench/server-core';
import type { CommandModule } from 'yargs';

import { UsageError } from '../errors.js';
import { integerFlag, urlFlag } from '../flags.js';
import { createOutput } from '../output.js';
import { portInUse } from '../port-in-use.js';
import type { RequestLogEntry } from '../server/app.js';
import { defaultServerDbPath } from '../server/default-db.js';
import { startU2fServer } from '../server/server.js';

interface ServeArgs {
  host: string;
  port: number;
  'app-id'?: string;
  facet?: string[];
  db?: string;
  'counter-policy': CounterPolicy;
}

/** A log field as is when plain, else quoted, so one request stays one line. */
function field(text: string): string {
  return /^[\x21-\x7e]*$/.test(text) && !text.includes('"') ? text : JSON.stringify(text);
}

/** `2026-12-04T16:50:00.000Z POST /bind user=alice 200 ok 3.1 ms`. */
export function formatLogLine(entry: RequestLogEntry, now = new Date()): string {
  const user = entry.user === undefined ? '-' : field(entry.user);
  const message = entry.message === undefined ? '' : ` ${JSON.stringify(entry.message)}`;
  return (
    `${now.toISOString()} ${field(entry.method)} ${field(entry.path)} user=${user} ` +
    `${entry.status} ${entry.outcome} ${entry.ms.toFixed(1)} ms${message}`
  );
}

/** A facet is an origin URL; android:apk-key-hash: and ios:bundle-id: facets are URLs too. */
function checkFacet(value: string): string {
  try {
    new URL(value);
  } catch {
    throw new UsageError(`--facet "${value}" is not a URL (expected e.g. http://localhost:8081)`);
  }
  return value;
}

/**
 * `keybench serve`: the example U2F server of python-u2flib-server, persistent. Prints
 * `keybench serve listening on http://HOST:PORT` first on stdout, then one log line per
 * request on stderr, until SIGINT or SIGTERM. A port in use or an unusable database reaches
 * the CLI's top level (exit 2).
 */
export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'Run the example U2F server (enroll, bind, sign, verify) with SQLite storage',
  builder: (yargs) =>
    yargs
      .option('host', {
        type: 'string',
        requiresArg: true,
        default: '127.0.0.1',
        describe: 'address to bind',
      })
      .option('port', {
        type: 'number',
        requiresArg: true,
        default: 8081,
        describe: 'port (0 picks a free one)',
      })
      .option('app-id', {
        type: 'string',
        requiresArg: true,
        describe: "U2F appId (default: the server's own origin, http://localhost:PORT)",
      })
      .option('facet', {
        type: 'string',
        array: true,
        describe: 'allowed clientData origin (repeatable; default localhost and 127.0.0.1)',
      })
      .option('db', {
        type: 'string',
        requiresArg: true,
        describe: `SQLite file for registrations and counters (default ${defaultServerDbPath()})`,
      })
      .option('counter-policy', {
        choices: ['strict', 'allow-equal', 'warn'] as const,
        default: 'strict' as const,
        describe: 'what a counter that did not go up means',
      }),
  handler: async (args) => {
    const out = createOutput();
    integerFlag('port', args.port, 0, 65535);
    const appId = args['app-id'] === undefined ? undefined : urlFlag('app-id', args['app-id']);
    const facets = (args.facet ?? []).map((facet) => checkFacet(facet));
    const db = args.db ?? defaultServerDbPath();

    const server = await startU2fServer({
      host: args.host,
      port: args.port,
      db,
      counterPolicy: args['counter-policy'],
      ...(appId === undefined ? {} : { appId }),
      ...(facets.length === 0 ? {} : { facets }),
      log: (entry) => out.diag(formatLogLine(entry)),
    }).catch((error: unknown) => {
      throw portInUse(error, { port: args.port, host: args.host, flag: '--port' }) ?? error;
    });

    out.line(`keybench serve listening on ${server.url}`);
    out.line(`app id    ${server.appId}`);
    out.line(`facets    ${server.facets.join(', ')}`);
    out.line(`database  ${db}`);

    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await server.close();
    out.diag('keybench serve stopped');
  },
};
