import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

import {
  FAULTS,
  PRESENCE_MODES,
  PROFILES,
  VirtualKey,
  parseFault,
  serveFifo,
  serveUdp,
  serveUhid,
  UHID_DEFAULTS,
  type FaultSpec,
  type PresenceMode,
} from '@keybench/virtual-key';
import type { CommandModule } from 'yargs';

import { udpHostAddress } from '../device-spec.js';
import { integerFlag } from '../flags.js';
import { portInUse } from '../port-in-use.js';

interface VirtualKeyArgs {
  udp?: number;
  host: string;
  'reply-port'?: number;
  state?: string;
  presence: PresenceMode;
  counter: 'global' | 'per-credential';
  'key-handle-length'?: number;
  fault: string[];
  'attestation-cert'?: string;
  'attestation-key'?: string;
  profile: string;
  fifo?: string;
  uhid: boolean;
  vid?: string;
  pid?: string;
  name?: string;
  serial?: string;
  verbose: boolean;
}

/** A USB vendor or product id: 1 to 4 hex digits, `0x` optional. Throws RangeError. */
function usbId(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const match = /^(?:0x)?([0-9a-f]{1,4})$/i.exec(text.trim());
  if (!match) {
    throw new RangeError(`--${flag} must be 1 to 4 hex digits (e.g. 1209), got "${text}"`);
  }
  return Number.parseInt(match[1]!, 16);
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

const readPem = (file: string, what: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new RangeError(`virtual-key: cannot read ${what} ${file}: ${(error as Error).message}`);
  }
};

/**
 * `keybench virtual-key`: runs a software U2F key as its own process, over UDP (one 64-byte
 * report per datagram), the u2f-ref-code FIFO emulator protocol and/or /dev/uhid, until
 * SIGINT/SIGTERM
 * or a FIFO quit. Prints `virtual-key listening on udp:HOST:PORT` (and/or `fifo:PREFIX`) on
 * stdout once serving; with --verbose one line per exchange on stderr. Enter on a terminal
 * presses the button. Errors (port in use, bad state file, unknown fault) reach the CLI's
 * top level, which prints them and exits 2.
 */
export const virtualKeyCommand: CommandModule<object, VirtualKeyArgs> = {
  command: 'virtual-key',
  describe:
    'Run a software U2F key over UDP, FIFOs or uhid (for tests, demos and server development)',
  builder: (yargs) =>
    yargs
      .option('udp', {
        type: 'number',
        requiresArg: true,
        describe: 'UDP port to serve on (0 picks a free one)',
      })
      .option('host', {
        type: 'string',
        requiresArg: true,
        default: '127.0.0.1',
        describe: 'IP address to bind (localhost means 127.0.0.1)',
      })
      .option('reply-port', {
        type: 'number',
        requiresArg: true,
        describe: 'send every reply to HOST:PORT (simulated-firmware convention, e.g. 7112)',
      })
      .option('state', {
        type: 'string',
        requiresArg: true,
        describe: 'state file (JSON); omitted = in memory',
      })
      .option('presence', {
        choices: PRESENCE_MODES as PresenceMode[],
        default: 'auto' as PresenceMode,
        describe: 'user presence: every request, a button press (Enter / UDP / FIFO), never',
      })
      .option('counter', {
        choices: ['global', 'per-credential'] as const,
        default: 'global' as const,
      })
      .option('key-handle-length', {
        type: 'number',
        requiresArg: true,
        describe: 'key handle bytes, 1..255',
      })
      .option('fault', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe: `inject a fault, NAME[=VALUE], repeatable: ${Object.keys(FAULTS).join(', ')}`,
      })
      .option('attestation-cert', {
        type: 'string',
        requiresArg: true,
        describe: 'attestation certificate (PEM)',
      })
      .option('attestation-key', {
        type: 'string',
        requiresArg: true,
        describe: 'attestation private key (PEM)',
      })
      .option('profile', {
        choices: Object.keys(PROFILES),
        default: 'spec',
        describe: 'conformance profile for LOCK and never-allocated channels',
      })
      .option('fifo', {
        type: 'string',
        requiresArg: true,
        describe: 'serve PREFIX+in / PREFIX+out FIFOs',
      })
      .option('uhid', {
        type: 'boolean',
        default: false,
        describe: 'appear as a real HID device through /dev/uhid (Linux)',
      })
      .option('vid', {
        type: 'string',
        requiresArg: true,
        describe: 'uhid USB vendor id (hex, default 1209)',
      })
      .option('pid', {
        type: 'string',
        requiresArg: true,
        describe: 'uhid USB product id (hex, default 0001)',
      })
      .option('name', { type: 'string', requiresArg: true, describe: 'uhid device name' })
      .option('serial', { type: 'string', requiresArg: true, describe: 'uhid serial number' })
      .option('verbose', { type: 'boolean', default: false, describe: 'log every exchange' })
      .check((args) => {
        for (const flag of ['vid', 'pid', 'name', 'serial'] as const) {
          if (args[flag] !== undefined && !args.uhid) {
            throw new Error(`virtual-key: --${flag} needs --uhid`);
          }
        }
        if (args.udp === undefined && args.fifo === undefined && !args.uhid) {
          throw new Error('virtual-key: give --udp PORT, --fifo PREFIX and/or --uhid');
        }
        if ((args['attestation-cert'] === undefined) !== (args['attestation-key'] === undefined)) {
          throw new Error('virtual-key: --attestation-cert and --attestation-key go together');
        }
        return true;
      }),
  handler: async (args) => {
    if (args.udp !== undefined) integerFlag('udp', args.udp, 0, 65535);
    if (args['reply-port'] !== undefined) integerFlag('reply-port', args['reply-port'], 1, 65535);
    if (args['key-handle-length'] !== undefined) {
      integerFlag('key-handle-length', args['key-handle-length'], 1, 255);
    }
    const bindHost = udpHostAddress(args.host, '--host');
    const vendorId = usbId('vid', args.vid, UHID_DEFAULTS.VENDOR_ID);
    const productId = usbId('pid', args.pid, UHID_DEFAULTS.PRODUCT_ID);
    const faults: FaultSpec[] = args.fault.map((text) => parseFault(text));
    const certFile = args['attestation-cert'];
    const keyFile = args['attestation-key'];
    const attestation =
      certFile && keyFile
        ? {
            certificatePem: readPem(certFile, 'attestation certificate'),
            privateKeyPem: readPem(keyFile, 'attestation key'),
          }
        : undefined;
    const log = args.verbose
      ? (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`)
      : undefined;

    const key = await VirtualKey.create({
      stateFile: args.state,
      keyHandleLength: args['key-handle-length'],
      presence: args.presence,
      counterMode: args.counter,
      faults,
      attestation,
      profile: args.profile,
      log,
    });

    const closers: (() => Promise<void>)[] = [];
    let finish: () => void = () => {};
    const stopped = new Promise<void>((resolve) => {
      finish = resolve;
    });
    try {
      if (args.udp !== undefined) {
        const server = await serveUdp(key, {
          port: args.udp,
          host: bindHost,
          replyPort: args['reply-port'],
        }).catch((error: unknown) => {
          throw portInUse(error, { port: args.udp!, host: bindHost, flag: '--udp' }) ?? error;
        });
        closers.push(server.close);
        const host = server.address.includes(':') ? `[${server.address}]` : server.address;
        process.stdout.write(`virtual-key listening on udp:${host}:${server.port}\n`);
      }
      if (args.fifo !== undefined) {
        const server = serveFifo(key, { prefix: args.fifo, log });
        closers.push(server.close);
        void server.done.then(finish);
        process.stdout.write(`virtual-key listening on fifo:${args.fifo}\n`);
      }
      if (args.uhid) {
        const server = serveUhid(key, {
          vendorId,
          productId,
          ...(args.name === undefined ? {} : { name: args.name }),
          ...(args.serial === undefined ? {} : { serial: args.serial }),
          ...(log ? { trace: log } : {}),
        });
        closers.push(server.close);
        const ids = `${hex4(vendorId)}:${hex4(productId)}`;
        process.stdout.write(`virtual-key listening on uhid:${ids}\n`);
      }
    } catch (error) {
      await Promise.all(closers.map((close) => close()));
      await key.close();
      throw error;
    }

    let terminal: ReturnType<typeof createInterface> | undefined;
    if (process.stdin.isTTY) {
      terminal = createInterface({ input: process.stdin });
      terminal.on('line', () => {
        key.press();
        process.stderr.write('virtual-key: button pressed\n');
      });
      process.stderr.write('virtual-key: press Enter to touch the key, Ctrl-C to stop\n');
    }
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);

    await stopped;
    process.off('SIGINT', finish);
    process.off('SIGTERM', finish);
    terminal?.close();
    await Promise.all(closers.map((close) => close()));
    await key.close();
  },
};
