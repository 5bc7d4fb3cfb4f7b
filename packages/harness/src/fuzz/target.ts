import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  CtapHidChannel,
  createMemoryPair,
  type ChannelOptions,
  type HidConnection,
} from '@keybench/hid-transport';
import { VirtualKey, type VirtualKeyOptions } from '@keybench/virtual-key';

import type { DeviceSpec } from '../device-spec.js';
import { openDevice } from '../open-device.js';

/** The device side of one report: what VirtualKey.handleReport does. */
export type ReportHandler = (report: Uint8Array, reply: (report: Uint8Array) => void) => void;

/** Wraps the in-process key's report handler, e.g. to build a deliberately broken device. */
export type DeviceWrapper = (handle: ReportHandler) => ReportHandler;

/** The device a fuzz run talks to, and how to get it back to a known state. */
export interface FuzzTarget {
  readonly description: string;
  /** True when fresh() makes a brand-new device (the in-process key), false when it re-INITs. */
  readonly recreatable: boolean;
  /** The channel the harness holds; replaced by fresh(). */
  readonly channel: CtapHidChannel;
  /**
   * A known state to replay an input from: a new in-process key from the state it started
   * with, or for a device we cannot recreate a drain and re-INIT. Throws like open.
   */
  fresh(): Promise<void>;
  close(): Promise<void>;
}

export interface TargetOptions {
  /** Bound on every wait for the device: per frame, per INIT, per transaction. */
  timeoutMs: number;
  /** Quiet time that ends a drain (after each input, before each check). */
  settleMs: number;
  /** Options for the in-process key (faults, presence, profile…). */
  virtual?: VirtualKeyOptions;
  /** Only for the in-process key: a wrapper around its report handler. */
  wrap?: DeviceWrapper;
}

/**
 * Channel settings of a fuzz run: every wait bounded by `timeoutMs`, and CHANNEL_BUSY not
 * retried by the channel (the health check decides what a busy device means).
 */
export function fuzzChannelOptions(options: TargetOptions): ChannelOptions {
  return {
    frameTimeoutMs: options.timeoutMs,
    initTimeoutMs: options.timeoutMs,
    transactionTimeoutMs: options.timeoutMs,
    busyRetries: 0,
    drainQuietMs: options.settleMs,
    readSliceMs: Math.min(100, options.timeoutMs),
  };
}

/**
 * Opens `spec` for fuzzing. Throws DeviceError (from openDevice) when the device cannot be
 * reached, RangeError for bad in-process key options.
 */
export async function openFuzzTarget(
  spec: DeviceSpec,
  options: TargetOptions,
): Promise<FuzzTarget> {
  if (spec.kind === 'virtual') return openVirtualTarget(options);

  const opened = await openDevice(spec, { channel: fuzzChannelOptions(options) });
  return {
    description: opened.description,
    recreatable: false,
    channel: opened.channel,
    fresh: () => opened.channel.reinit(),
    close: () => opened.close(),
  };
}

/**
 * The in-process key as a fuzz target. Its first state is written to a temporary state file
 * and every fresh() starts a new key from a copy of it: same master secret, attestation and
 * counter, like a factory-reset device. Throws RangeError for bad key options.
 */
export async function openVirtualTarget(options: TargetOptions): Promise<FuzzTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'keybench-fuzz-'));
  const stateFile = join(dir, 'key.json');
  const keyOptions: VirtualKeyOptions = { ...options.virtual, stateFile };
  let pristine: Uint8Array;
  let key: VirtualKey | undefined;
  let channel: CtapHidChannel | undefined;

  const connect = (k: VirtualKey): HidConnection => {
    if (!options.wrap) return k.connect();
    const { host, device } = createMemoryPair('virtual');
    const reply = (report: Uint8Array) => void device.write(report).catch(() => undefined);
    const handle = options.wrap((report, send) => k.handleReport(report, send));
    const pump = async () => {
      for (;;) {
        const report = await device.read(60_000);
        if (report) handle(report, reply);
      }
    };
    pump().catch(() => undefined);
    return host;
  };
  const stop = async () => {
    await channel?.close().catch(() => undefined);
    await key?.close().catch(() => undefined);
    channel = undefined;
    key = undefined;
  };
  const start = async () => {
    writeFileSync(stateFile, pristine);
    key = await VirtualKey.create(keyOptions);
    channel = await CtapHidChannel.open(connect(key), fuzzChannelOptions(options));
  };

  try {
    await VirtualKey.create(keyOptions).then((first) => first.close());
    pristine = readFileSync(stateFile);
    await start();
  } catch (error) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    description: options.wrap ? 'virtual (in-process key, wrapped)' : 'virtual (in-process key)',
    recreatable: true,
    get channel() {
      if (!channel) throw new Error('fuzz: the in-process key is not running');
      return channel;
    },
    async fresh() {
      await stop();
      await start();
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
