import type {
  NodeHidAsyncDevice,
  NodeHidDeviceInfo,
  NodeHidModule,
} from '../../src/index.js';

/**
 * A fake of the node-hid module with node-hid 3.4.0's observable behaviour: `read(ms)`
 * resolves an empty Buffer on timeout, errors are plain Errors with hidapi's text only.
 */
export class FakeHidDevice implements NodeHidAsyncDevice {
  readonly writes: Buffer[] = [];
  readonly readTimeouts: number[] = [];
  /** What the next reads return: a Buffer, or an Error to reject with. */
  readonly inbox: (Buffer | Error)[] = [];
  writeError: Error | undefined;
  writeResult: number | undefined;
  closed = false;

  async write(data: Buffer | number[]): Promise<number> {
    if (this.closed) throw new Error('device has been closed');
    if (this.writeError) throw this.writeError;
    const buffer = Buffer.from(data);
    this.writes.push(buffer);
    return this.writeResult ?? buffer.length;
  }

  async read(timeoutMs?: number): Promise<Buffer> {
    if (this.closed) throw new Error('device has been closed');
    this.readTimeouts.push(timeoutMs ?? -1);
    const next = this.inbox.shift();
    if (next instanceof Error) throw next;
    if (next) return next;
    await new Promise((resolve) => setTimeout(resolve, timeoutMs ?? 0));
    return Buffer.alloc(0);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export function fakeNodeHid(entries: NodeHidDeviceInfo[] = []) {
  const opened: { path: string; options: { nonExclusive?: boolean } | undefined }[] = [];
  const devices = new Map<string, FakeHidDevice>();
  const openErrors = new Map<string, Error>();

  const hid: NodeHidModule = {
    devicesAsync: async () => entries,
    HIDAsync: {
      open: async (path, options) => {
        opened.push({ path, options });
        const error = openErrors.get(path);
        if (error) throw error;
        const device = new FakeHidDevice();
        devices.set(path, device);
        return device;
      },
    },
  };
  return { hid, opened, devices, openErrors };
}
