import { createMemoryPair, TransportError, type HidConnection } from '@keybench/hid-transport';
import { randomBytes } from '@noble/hashes/utils.js';

import { generateAttestation, loadAttestation } from './attestation.js';
import { CtapHidDevice, type ReplyFn } from './channel.js';
import { Counters } from './counter.js';
import { FaultSet, type FaultSpec } from './faults.js';
import { KEY_HANDLE_LENGTH, KeyHandles } from './key-handle.js';
import { PRESENCE_MODES, Presence, type PresenceMode } from './presence.js';
import { getProfile } from './profiles.js';
import { readState, writeState, type CounterMode, type KeyState } from './state.js';
import { lockStateFile, type StateLock } from './state-lock.js';
import { U2fDevice } from './u2f.js';

export interface VirtualKeyOptions {
  /** JSON state (master secret, attestation, counters, settings); omitted = in memory only. */
  stateFile?: string;
  /** 1..255, default 64 (or what the state file says). */
  keyHandleLength?: number;
  /** Default 'auto'. */
  presence?: PresenceMode;
  /** Default 'global' (or what the state file says). */
  counterMode?: CounterMode;
  /** Faults to inject; see FAULTS and parseFault. */
  faults?: FaultSpec[];
  /** Attestation certificate and private key (PEM) to use instead of the generated ones. */
  attestation?: { certificatePem: string; privateKeyPem: string };
  /** Conformance profile for LOCK and never-allocated channels (default 'spec'). */
  profile?: string;
  /** Receives one readable line per exchange. The key itself never prints. */
  log?: (line: string) => void;
}

/**
 * A software U2F key speaking CTAPHID on the device side. Create with VirtualKey.create;
 * reach it in process with connect(), or feed it reports with handleReport() (UDP, FIFO).
 */
export class VirtualKey {
  private readonly device: CtapHidDevice;
  private readonly connections = new Set<HidConnection>();
  private closed = false;

  private constructor(
    private readonly state: KeyState,
    private readonly presence: Presence,
    private readonly persist: () => void,
    private readonly lock: StateLock | undefined,
    device: (key: VirtualKey) => CtapHidDevice,
  ) {
    this.device = device(this);
  }

  /**
   * Loads the state file (or creates it), or makes an in-memory key. Throws RangeError for
   * bad options (key handle length, presence, counter mode, profile, fault, attestation PEM)
   * and StateFileError for a state file that cannot be read or written (a corrupt file is
   * never overwritten) or that another running key holds (`FILE.lock` names its pid; a lock
   * whose process is gone is taken over, saying so in the log). The lock is released by
   * close() and when the process exits.
   */
  static async create(options: VirtualKeyOptions = {}): Promise<VirtualKey> {
    const keyHandleLength = options.keyHandleLength;
    if (keyHandleLength !== undefined && (!Number.isInteger(keyHandleLength) ||
      keyHandleLength < KEY_HANDLE_LENGTH.MIN || keyHandleLength > KEY_HANDLE_LENGTH.MAX)) {
      throw new RangeError(`virtual-key: keyHandleLength must be 1..255, got ${keyHandleLength}`);
    }
    const presenceMode = options.presence ?? 'auto';
    if (!PRESENCE_MODES.includes(presenceMode)) {
      throw new RangeError(
        `virtual-key: presence must be auto, button or never, got "${String(presenceMode)}"`,
      );
    }
    const counterMode = options.counterMode;
    if (counterMode !== undefined && counterMode !== 'global' && counterMode !== 'per-credential') {
      throw new RangeError(
        `virtual-key: counterMode must be global or per-credential, got "${String(counterMode)}"`,
      );
    }
    const profile = getProfile(options.profile ?? 'spec');
    const faults = new FaultSet(options.faults);
    const loaded = options.attestation
      ? loadAttestation(options.attestation.certificatePem, options.attestation.privateKeyPem)
      : undefined;
    const log = options.log ?? (() => {});

    const file = options.stateFile;
    const lock = file === undefined ? undefined : lockStateFile(file);
    if (lock?.tookOver) {
      const owner = lock.tookOver.pid;
      log(
        `virtual key: took over the stale lock ${lock.path} ` +
          (owner === undefined ? '(it named no process)' : `of process ${owner}, which is gone`),
      );
    }
    try {
      return await VirtualKey.load(file, lock, options, faults, loaded, profile, log);
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  private static async load(
    file: string | undefined,
    lock: StateLock | undefined,
    options: VirtualKeyOptions,
    faults: FaultSet,
    loaded: KeyState['attestation'] | undefined,
    profile: ReturnType<typeof getProfile>,
    log: (line: string) => void,
  ): Promise<VirtualKey> {
    const { keyHandleLength, counterMode } = options;
    const presenceMode = options.presence ?? 'auto';
    const existing = file === undefined ? undefined : readState(file);
    const state: KeyState = existing ?? {
      masterSecret: randomBytes(32),
      attestation: loaded ?? (await generateAttestation()),
      counter: 0,
      counters: {},
      settings: { keyHandleLength: KEY_HANDLE_LENGTH.DEFAULT, counterMode: 'global' },
    };
    if (loaded) state.attestation = loaded;
    if (keyHandleLength !== undefined) state.settings.keyHandleLength = keyHandleLength;
    if (counterMode !== undefined) state.settings.counterMode = counterMode;

    if (existing && faults.has('counter-reset-on-restart')) {
      state.counter = 0;
      state.counters = {};
    }
    const wrapStart = faults.value('counter-wrap');
    if (wrapStart !== undefined && state.counter < wrapStart) state.counter = wrapStart;

    const persist = file === undefined ? () => {} : () => writeState(file, state);
    persist();

    const presence = new Presence(presenceMode, faults);
    const counters = new Counters(state, faults, persist);
    const keyHandles = new KeyHandles(state.masterSecret, state.settings.keyHandleLength);
    const u2f = new U2fDevice(keyHandles, state.attestation, presence, counters, faults, profile);
    log(
      `virtual key: profile ${profile.name}, presence ${presenceMode}, key handles ` +
        `${state.settings.keyHandleLength}B, counter ${state.settings.counterMode} ` +
        `${state.counter}` + (faults.names().length ? `, faults ${faults.names().join(',')}` : ''),
    );

    return new VirtualKey(state, presence, persist, lock, () =>
      new CtapHidDevice((payload) => u2f.process(payload), profile, faults, log),
    );
  }

  /** The global counter. */
  get counter(): number {
    return this.state.counter;
  }

  /** The attestation certificate (DER). */
  get attestationCertificate(): Uint8Array {
    return Uint8Array.from(this.state.attestation.certificate);
  }

  /**
   * An in-process host connection served by this key (a memory pair). Several may be open;
   * each gets the replies to its own requests. An open connection keeps the event loop
   * alive: close it, or the key. Throws TransportError after close().
   */
  connect(): HidConnection {
    if (this.closed) throw new TransportError('closed', 'virtual-key: closed');
    const { host, device } = createMemoryPair('virtual');
    this.connections.add(host);

    const reply: ReplyFn = (report) => {
      device.write(report).catch(() => {});
    };
    const pump = async () => {
      for (;;) {
        const report = await device.read(60_000);
        if (report) this.handleReport(report, reply);
      }
    };
    pump().catch(() => this.connections.delete(host));
    return host;
  }

  /**
   * Device side: one 64-byte report from the host; zero or more 64-byte reports go to
   * `reply`, possibly later (MSG_TIMEOUT, slow-reply). Reports of another size are ignored.
   */
  handleReport(report: Uint8Array, reply: (report: Uint8Array) => void): void {
    this.device.handleReport(report, reply);
  }

  /** A button press (presence mode 'button'): arms one touch. */
  press(): void {
    this.presence.press();
  }

  /** Stops timers, closes in-process connections, flushes the state file and unlocks it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.device.close();
    await Promise.all([...this.connections].map((connection) => connection.close()));
    this.connections.clear();
    try {
      this.persist();
    } finally {
      this.lock?.release();
    }
  }
}
