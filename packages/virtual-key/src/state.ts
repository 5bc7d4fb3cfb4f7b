import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

import {
  certificateToPem,
  loadAttestation,
  privateKeyToPem,
  type Attestation,
} from './attestation.js';

/** Counter scope: one for the whole key (like most real keys) or one per credential. */
export type CounterMode = 'global' | 'per-credential';

/** Everything the key keeps between runs. */
export interface KeyState {
  masterSecret: Uint8Array;
  attestation: Attestation;
  /** The global counter (u32). */
  counter: number;
  /** Per-credential counters, keyed by credential id (hex). */
  counters: Record<string, number>;
  settings: { keyHandleLength: number; counterMode: CounterMode };
}

/** The state file could not be read or is not a virtual-key state; it is left untouched. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`state file ${file}: ${message}`, options);
  }
}

const FORMAT = 'keybench-virtual-key';
const VERSION = 1;

const isU32 = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;

/** A plain object from credential id (16 bytes as hex) to u32; arrays and null are not. */
const isCounterMap = (value: unknown): value is Record<string, number> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) &&
  Object.entries(value).every(([id, counter]) => /^[0-9a-f]{32}$/.test(id) && isU32(counter));

/**
 * Reads a state file. Returns undefined when it does not exist; throws StateFileError when
 * it cannot be read or is not a valid state (the file is never rewritten in that case).
 */
export function readState(file: string): KeyState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateFileError(file, `cannot be read (${(error as Error).message})`, {
      cause: error,
    });
  }

  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new StateFileError(file, `is not JSON (${(error as Error).message})`, { cause: error });
  }
  if (typeof json !== 'object' || json === null || json.format !== FORMAT) {
    throw new StateFileError(file, `is not a virtual-key state (format must be "${FORMAT}")`);
  }
  if (json.version !== VERSION) {
    throw new StateFileError(file, `has version ${String(json.version)}, expected ${VERSION}`);
  }

  const masterSecret = typeof json.masterSecret === 'string' ? json.masterSecret : '';
  if (!/^[0-9a-f]{64}$/.test(masterSecret)) {
    throw new StateFileError(file, 'masterSecret must be 64 hex digits');
  }
  if (!isU32(json.counter)) throw new StateFileError(file, 'counter must be a u32');

  // Optional (absent in hand-written files), but when present a map of 32-hex-digit ids.
  const counters = json.counters === undefined ? {} : json.counters;
  if (!isCounterMap(counters)) {
    throw new StateFileError(file, 'counters must map credential ids (32 hex digits) to u32s');
  }

  const settings = json.settings as KeyState['settings'] | undefined;
  if (!settings || !Number.isInteger(settings.keyHandleLength) ||
    settings.keyHandleLength < 1 || settings.keyHandleLength > 255 ||
    (settings.counterMode !== 'global' && settings.counterMode !== 'per-credential')) {
    throw new StateFileError(file, 'settings must hold keyHandleLength 1..255 and counterMode');
  }

  const attestation = json.attestation as { certificatePem?: unknown; privateKeyPem?: unknown };
  const { certificatePem, privateKeyPem } = attestation ?? {};
  if (typeof certificatePem !== 'string' || typeof privateKeyPem !== 'string') {
    throw new StateFileError(file, 'attestation must hold certificatePem and privateKeyPem');
  }
  let loaded: Attestation;
  try {
    loaded = loadAttestation(certificatePem, privateKeyPem);
  } catch (error) {
    // loadAttestation's messages start with "attestation: " already.
    throw new StateFileError(file, (error as Error).message, { cause: error });
  }

  return {
    masterSecret: new Uint8Array(Buffer.from(masterSecret, 'hex')),
    attestation: loaded,
    counter: json.counter,
    counters: { ...counters },
    settings: { keyHandleLength: settings.keyHandleLength, counterMode: settings.counterMode },
  };
}

/**
 * Writes the state atomically and durably: a temporary file in the same directory, fsync,
 * rename over the old file, fsync of the directory. A kill at any moment leaves either the
 * old or the new file, never a torn one. Synchronous on purpose: the counter is on disk
 * before the reply that carries it leaves. Throws StateFileError when writing fails.
 */
export function writeState(file: string, state: KeyState): void {
  const json = {
    format: FORMAT,
    version: VERSION,
    masterSecret: Buffer.from(state.masterSecret).toString('hex'),
    attestation: {
      certificatePem: certificateToPem(state.attestation.certificate),
      privateKeyPem: privateKeyToPem(state.attestation.privateKey),
    },
    counter: state.counter,
    counters: state.counters,
    settings: state.settings,
  };
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(temporary, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(json, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
    syncDirectory(dirname(file));
  } catch (error) {
    throw new StateFileError(file, `cannot be written (${(error as Error).message})`, {
      cause: error,
    });
  }
}

function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
