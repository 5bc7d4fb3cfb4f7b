import {
  CtapHidChannel,
  listFidoDevices,
  openHid,
  openUdp,
  TransportError,
  U2fDevice,
  type ChannelOptions,
  type HidConnection,
} from '@keybench/hid-transport';
import { VirtualKey, type VirtualKeyOptions } from '@keybench/virtual-key';

import { parseDeviceList, type DeviceSpec } from './device-spec.js';
import { DeviceError } from './errors.js';
import { frameTimeoutHint } from './frame-timeout.js';

/** A key ready for U2F commands, and how to let go of it. */
export interface OpenedDevice {
  readonly spec: DeviceSpec;
  readonly description: string;
  readonly channel: CtapHidChannel;
  readonly device: U2fDevice;
  /** Set when the spec is `virtual`: the in-process key, so the harness can press its button. */
  readonly virtualKey?: VirtualKey;
  close(): Promise<void>;
}

export interface OpenOptions {
  channel?: ChannelOptions;
  /** Options for an in-process key (`virtual`). */
  virtual?: VirtualKeyOptions;
}

const NO_HID_KEY =
  'no FIDO HID device found (usage page 0xF1D0); plug a key in, or see "Access to keys on ' +
  'Linux" in the README';

/**
 * Expands `all` and bare `hid` into one `hid:PATH` spec per FIDO device attached. Never
 * throws for a missing key: a bare `hid` with none attached, or a spec whose listing failed,
 * stays as it is, and opening it fails (DeviceError) for that key alone, so the other keys
 * of a list still run. `all` with no keys attached yields nothing.
 */
export async function expandSpecs(specs: readonly DeviceSpec[]): Promise<DeviceSpec[]> {
  const out: DeviceSpec[] = [];
  for (const spec of specs) {
    if (spec.kind === 'all' || (spec.kind === 'hid' && spec.path === undefined)) {
      const found = await listFidoDevices().catch(() => undefined);
      if (found === undefined || (spec.kind === 'hid' && found.length === 0)) {
        out.push(spec);
        continue;
      }
      const chosen = spec.kind === 'hid' ? found.slice(0, 1) : found;
      for (const info of chosen)
        out.push({ kind: 'hid', text: `hid:${info.path}`, path: info.path });
    } else {
      out.push(spec);
    }
  }
  return out;
}

/**
 * The keys `--device TEXT` names: the comma list parsed, `all` and `hid` expanded. Throws
 * UsageError for a bad spec and DeviceError when it names no key at all.
 */
export async function resolveDevices(text: string): Promise<DeviceSpec[]> {
  const specs = await expandSpecs(parseDeviceList(text));
  if (specs.length === 0) throw new DeviceError(`device "${text}": no FIDO keys attached`);
  return specs;
}

async function connect(spec: DeviceSpec, options: OpenOptions) {
  switch (spec.kind) {
    case 'virtual': {
      const key = await VirtualKey.create(options.virtual ?? {});
      return { connection: key.connect(), virtualKey: key };
    }
    case 'udp': {
      const udp = { host: spec.host, port: spec.port };
      const connection = await openUdp(
        spec.localPort === undefined ? udp : { ...udp, localPort: spec.localPort },
      );
      return { connection };
    }
    case 'hid': {
      const path = spec.path ?? (await listFidoDevices())[0]?.path;
      if (path === undefined) throw new DeviceError(`device "${spec.text}": ${NO_HID_KEY}`);
      return { connection: await openHid(path) };
    }
    case 'all': {
      // Only here when listing the keys failed: list again, to report why.
      await listFidoDevices();
      throw new DeviceError(`device "all" names several keys; expand it first`);
    }
  }
}

/** Why a UDP key said nothing: no key there, or one answering a fixed port. */
function udpSilenceHint(spec: Extract<DeviceSpec, { kind: 'udp' }>): string {
  const start = `keybench virtual-key --udp ${spec.port}`;
  if (spec.localPort !== undefined) {
    return (
      ` (is a key listening there, answering port ${spec.localPort}? start one with: ` +
      `${start} --reply-port ${spec.localPort})`
    );
  }
  return (
    ` (either nothing is listening there — start a key with: ${start} — or the key replies ` +
    `to a fixed port, e.g. one started with --reply-port 7112: then use ` +
    `udp:${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}@7112)`
  );
}

/** The errno code behind an error, looking through `cause`. */
function errnoOf(error: unknown): string | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function describeFailure(spec: DeviceSpec, error: unknown): DeviceError {
  if (spec.kind === 'udp' && spec.localPort !== undefined && errnoOf(error) === 'EADDRINUSE') {
    return new DeviceError(
      `device "${spec.text}": local port ${spec.localPort} is already in use (another ` +
        'keybench run, or the simulated firmware itself?); choose another @LOCALPORT, or ' +
        'leave it out to send from a free port',
      { cause: error },
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  const silent = error instanceof TransportError && error.kind === 'timeout';
  const hint = silent && spec.kind === 'udp' ? udpSilenceHint(spec) : frameTimeoutHint(error);
  return new DeviceError(`device "${spec.text}": ${reason}${hint}`, { cause: error });
}

/**
 * Opens one key: connects, takes a CTAPHID channel (INIT) and wraps it for U2F commands.
 * Throws DeviceError naming the spec when the key cannot be reached.
 */
export async function openDevice(
  spec: DeviceSpec,
  options: OpenOptions = {},
): Promise<OpenedDevice> {
  let connection: HidConnection | undefined;
  let virtualKey: VirtualKey | undefined;
  try {
    ({ connection, virtualKey } = await connect(spec, options));
    const channel = await CtapHidChannel.open(connection, options.channel);
    const device = new U2fDevice(channel);
    const description = spec.kind === 'virtual' ? 'virtual (in-process key)' : spec.text;
    const opened: OpenedDevice = {
      spec,
      description,
      channel,
      device,
      async close() {
        await channel.close();
        await virtualKey?.close();
      },
      ...(virtualKey ? { virtualKey } : {}),
    };
    return opened;
  } catch (error) {
    await connection?.close().catch(() => undefined);
    await virtualKey?.close().catch(() => undefined);
    if (error instanceof DeviceError) throw error;
    throw describeFailure(spec, error);
  }
}
