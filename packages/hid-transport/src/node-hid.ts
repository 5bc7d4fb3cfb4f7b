import type { HidConnection } from './connection.js';
import { FIDO_USAGE_PAGE, FIDO_USAGE_U2FHID, REPORT_SIZE } from './constants.js';
import { TransportError } from './errors.js';
import { hidError } from './hid-errors.js';
import { now } from './clock.js';

/** A device entry as node-hid's `devicesAsync()` returns it (usage fields omitted when 0). */
export interface NodeHidDeviceInfo {
  vendorId: number;
  productId: number;
  path?: string | undefined;
  serialNumber?: string | undefined;
  manufacturer?: string | undefined;
  product?: string | undefined;
  release?: number | undefined;
  interface?: number | undefined;
  usagePage?: number | undefined;
  usage?: number | undefined;
}

/** The part of a node-hid `HIDAsync` device we use. */
export interface NodeHidAsyncDevice {
  write(data: Buffer | number[]): Promise<number>;
  /** Resolves an empty Buffer (or undefined) when `timeoutMs` passes without a report. */
  read(timeoutMs?: number): Promise<Buffer | Uint8Array | undefined>;
  close(): Promise<void>;
}

/** The part of the node-hid module we use; tests inject a fake of this shape. */
export interface NodeHidModule {
  devicesAsync(): Promise<NodeHidDeviceInfo[]>;
  HIDAsync: {
    open(path: string, options?: { nonExclusive?: boolean }): Promise<NodeHidAsyncDevice>;
  };
  setDriverType?(type: 'hidraw' | 'libusb'): void;
}

/** A FIDO device found by discovery. */
export interface FidoDeviceInfo {
  path: string;
  vendorId: number;
  productId: number;
  manufacturer?: string;
  product?: string;
  serialNumber?: string;
  release?: number;
  interface?: number;
  usagePage: number;
  usage: number;
}

let loaded: Promise<NodeHidModule> | undefined;

/**
 * Loads node-hid on first use, so everything else works where its native module cannot
 * load. Uses the hidraw backend on Linux: libusb reports no usage page and detaches the
 * kernel driver from the key. Throws TransportError('io') with the reason.
 */
export function loadNodeHid(): Promise<NodeHidModule> {
  loaded ??= import('node-hid').then(
    (module) => {
      const hid = ((module as { default?: unknown }).default ?? module) as NodeHidModule;
      if (process.platform === 'linux') hid.setDriverType?.('hidraw');
      return hid;
    },
    (error: unknown) => {
      loaded = undefined;
      const detail = error instanceof Error ? error.message : String(error);
      throw new TransportError(
        'io',
        `hid: node-hid could not be loaded (${detail}); on Debian it needs the packages ` +
          'libudev1 and libusb-1.0-0',
        { cause: error },
      );
    },
  );
  return loaded;
}

/**
 * Lists attached FIDO devices: HID collections with usage page 0xF1D0 and usage 0x01 only
 * (never by vendor list), de-duplicated by path. Throws TransportError when node-hid cannot
 * load or enumerate.
 */
export async function listFidoDevices(
  options: { hid?: NodeHidModule } = {},
): Promise<FidoDeviceInfo[]> {
  const hid = options.hid ?? (await loadNodeHid());
  let entries: NodeHidDeviceInfo[];
  try {
    entries = await hid.devicesAsync();
  } catch (error) {
    throw hidError(error, 'the HID bus', 'enumerate');
  }

  const seen = new Set<string>();
  const found: FidoDeviceInfo[] = [];
  for (const entry of entries) {
    if (entry.usagePage !== FIDO_USAGE_PAGE || entry.usage !== FIDO_USAGE_U2FHID) continue;
    if (!entry.path || seen.has(entry.path)) continue;
    seen.add(entry.path);

    const info: FidoDeviceInfo = {
      path: entry.path,
      vendorId: entry.vendorId,
      productId: entry.productId,
      usagePage: entry.usagePage,
      usage: entry.usage,
    };
    if (entry.manufacturer) info.manufacturer = entry.manufacturer;
    if (entry.product) info.product = entry.product;
    if (entry.serialNumber) info.serialNumber = entry.serialNumber;
    if (entry.release !== undefined) info.release = entry.release;
    if (entry.interface !== undefined) info.interface = entry.interface;
    found.push(info);
  }
  return found;
}

export interface OpenHidOptions {
  hid?: NodeHidModule;
  /** Longest single node-hid read, so a pending read never holds up a write. Default 50. */
  readSliceMs?: number;
  /** Platform whose rules apply (tests). Default process.platform. */
  platform?: NodeJS.Platform;
}

/**
 * Opens a FIDO device by path through node-hid's HIDAsync. On macOS the device is opened
 * non-exclusively so a browser and KeyBench can share the key (node-hid#447).
 * Throws TransportError with kind 'permission' (Linux udev), 'access-denied' (Windows
 * non-admin), 'busy', 'gone' or 'io', and a message saying what to do.
 */
export async function openHid(path: string, options: OpenHidOptions = {}): Promise<HidConnection> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new TypeError('hid: path must be a non-empty string');
  }
  const platform = options.platform ?? process.platform;
  const readSliceMs = options.readSliceMs ?? 50;
  if (!Number.isInteger(readSliceMs) || readSliceMs < 1) {
    throw new RangeError(`hid: readSliceMs must be a positive integer, got ${readSliceMs}`);
  }
  const hid = options.hid ?? (await loadNodeHid());

  let device: NodeHidAsyncDevice;
  try {
    device =
      platform === 'darwin'
        ? await hid.HIDAsync.open(path, { nonExclusive: true })
        : await hid.HIDAsync.open(path);
  } catch (error) {
    throw hidError(error, path, 'open', platform);
  }
  return new NodeHidConnection(device, path, readSliceMs, platform);
}

/** @internal a node-hid device as a HidConnection. */
class NodeHidConnection implements HidConnection {
  readonly description: string;
  droppedReports = 0;
  private readonly device: NodeHidAsyncDevice;
  private readonly path: string;
  private readonly readSliceMs: number;
  private readonly platform: NodeJS.Platform;
  private closed = false;

  constructor(
    device: NodeHidAsyncDevice,
    path: string,
    readSliceMs: number,
    platform: NodeJS.Platform,
  ) {
    this.device = device;
    this.path = path;
    this.readSliceMs = readSliceMs;
    this.platform = platform;
    this.description = `hid:${path}`;
  }

  private check(): void {
    if (this.closed) throw new TransportError('closed', `${this.description}: closed`);
  }

  /**
   * Writes report id 0x00 and the 64-byte report: always 65 bytes, because without the
   * report id a frame whose cid starts with 0x00 loses its first byte (node-hid#187).
   */
  async write(report: Uint8Array): Promise<void> {
    this.check();
    if (report.length !== REPORT_SIZE) {
      throw new RangeError(`${this.description}: report must be 64 bytes, got ${report.length}`);
    }
    const buffer = Buffer.alloc(REPORT_SIZE + 1);
    buffer.set(report, 1);

    let written: number;
    try {
      written = await this.device.write(buffer);
    } catch (error) {
      throw hidError(error, this.path, 'write', this.platform);
    }
    if (written < REPORT_SIZE) {
      throw new TransportError(
        'io',
        `${this.description}: wrote ${written} bytes, expected ${REPORT_SIZE + 1}`,
      );
    }
  }

  /**
   * Waits for one 64-byte report, reading in slices of readSliceMs. node-hid's empty buffer
   * means "nothing yet"; reports of another length are dropped and counted.
   */
  async read(timeoutMs: number): Promise<Uint8Array | null> {
    const until = now() + Math.max(0, timeoutMs);

    for (;;) {
      this.check();
      const remaining = Math.max(0, until - now());
      // node-hid converts the timeout as Uint32: never pass a negative or fractional value.
      const slice = Math.floor(Math.min(remaining, this.readSliceMs));

      let data: Buffer | Uint8Array | undefined;
      try {
        data = await this.device.read(slice);
      } catch (error) {
        if (this.closed) throw new TransportError('closed', `${this.description}: closed`);
        throw hidError(error, this.path, 'read', this.platform);
      }

      if (data && data.length === REPORT_SIZE) return new Uint8Array(data);
      if (data && data.length > 0) this.droppedReports++;
      if (now() >= until) return null;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.device.close();
    } catch {
      // Closing a device that was unplugged fails in node-hid; it is released either way.
    }
  }
}
