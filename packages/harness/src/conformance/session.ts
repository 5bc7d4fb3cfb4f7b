import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CtapHidChannel, U2fDevice, type TraceHook } from '@keybench/hid-transport';
import { UDP_CONTROL, VirtualKey, type VirtualKeyOptions } from '@keybench/virtual-key';

import type { DeviceSpec } from '../device-spec.js';
import { openDevice } from '../open-device.js';
import { APP_ID, concat, randomBytes, sha256, swHex } from './context.js';
import {
  automaticPresence,
  buttonPresence,
  noPresence,
  promptedPresence,
  type PresenceDriver,
  type PromptIo,
} from './presence.js';
import { RawLink } from './raw-link.js';

/** Channel options every conformance session uses. */
/** Channel clocks for a run: generous by default; `frameTimeoutMs` stretches all three. */
function channelClocks(frameTimeoutMs = 2000) {
  return {
    frameTimeoutMs,
    initTimeoutMs: Math.max(3000, 2 * frameTimeoutMs),
    transactionTimeoutMs: Math.max(10_000, 5 * frameTimeoutMs),
  };
}

/** An open key for a conformance run, which it can reopen after a replug. */
export interface Session {
  readonly description: string;
  channel: CtapHidChannel;
  device: U2fDevice;
  raw: RawLink;
  presence: PresenceDriver;
  reopen(): Promise<void>;
  close(): Promise<void>;
}

export interface SessionOptions {
  trace: TraceHook;
  profile: string;
  /** Extra options for an in-process key (faults, key handle length…). */
  virtual?: VirtualKeyOptions;
  /** --no-touch: no person is asked for anything. */
  noTouch: boolean;
  /** Prompts for a person, when on a terminal. */
  promptIo?: PromptIo;
  /** Per-frame timeout of the host channel (--frame-timeout); default 2000 ms. */
  frameTimeoutMs?: number;
}

/**
 * Opens `spec` for a run. The in-process virtual key gets presence 'button' (unless the
 * caller chose another) and a state file in a temporary directory, so the harness presses
 * its button and can restart it like a replug. Throws DeviceError when the key cannot be used.
 */
export async function openSession(spec: DeviceSpec, options: SessionOptions): Promise<Session> {
  if (spec.kind === 'virtual') return openVirtual(options);

  const channel = { ...channelClocks(options.frameTimeoutMs), trace: options.trace };
  let opened = await openDevice(spec, { channel });
  const session: Session = {
    description: opened.description,
    channel: opened.channel,
    device: opened.device,
    raw: new RawLink(opened.channel),
    presence: noPresence('not decided yet'),
    async reopen() {
      await opened.close().catch(() => undefined);
      opened = await openDevice(spec, { channel });
      session.channel = opened.channel;
      session.device = opened.device;
      session.raw = new RawLink(opened.channel);
    },
    close: () => opened.close(),
  };
  try {
    session.presence = await choosePresence(session, spec, options);
  } catch (error) {
    // The key answered INIT but not the probe: let go of it, or its socket keeps us alive.
    await session.close().catch(() => undefined);
    throw error;
  }
  return session;
}

async function openVirtual(options: SessionOptions): Promise<Session> {
  const dir = mkdtempSync(join(tmpdir(), 'keybench-conformance-'));
  const keyOptions: VirtualKeyOptions = {
    presence: 'button',
    profile: options.profile,
    ...options.virtual,
    stateFile: options.virtual?.stateFile ?? join(dir, 'key.json'),
  };
  let key: VirtualKey | undefined;
  try {
    key = await VirtualKey.create(keyOptions);
    const connect = async (k: VirtualKey) => {
      const clocks = channelClocks(options.frameTimeoutMs);
      const channel = await CtapHidChannel.open(k.connect(), { ...clocks, trace: options.trace });
      return { channel, device: new U2fDevice(channel), raw: new RawLink(channel) };
    };
    const first = await connect(key);
    const session: Session = {
      description: 'virtual (in-process key)',
      ...first,
      presence: noPresence('not decided yet'),
      async reopen() {
        const next = await connect(key!);
        Object.assign(session, next);
      },
      async close() {
        await session.channel.close().catch(() => undefined);
        await key?.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    const restart = async () => {
      await session.channel.close().catch(() => undefined);
      await key!.close();
      key = await VirtualKey.create(keyOptions);
    };
    const mode = keyOptions.presence ?? 'auto';
    session.presence =
      mode === 'button'
        ? buttonPresence(() => key!.press(), restart)
        : mode === 'auto'
          ? automaticPresence(restart)
          : noPresence('the key never sees presence');
    return session;
  } catch (error) {
    await key?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Finds out who supplies presence: one REGISTER attempt tells whether the key grants it by
 * itself (9000); an answer that is neither 9000 nor 6985 (a key that refuses the extended
 * encoding, 6700) says nothing about presence, so the attempt is repeated in the short
 * encoding. If presence is still missing, a key answering the keybench UDP control datagram
 * gets its button pressed by the harness; otherwise a person is prompted, or (--no-touch, no
 * terminal) none.
 */
async function choosePresence(
  session: Session,
  spec: DeviceSpec,
  options: SessionOptions,
): Promise<PresenceDriver> {
  const data = () => concat(randomBytes(32), sha256(APP_ID));
  const short = new U2fDevice(session.channel, { apduEncoding: 'short' });
  const probe = async () => {
    const extended = await session.device.sendApdu({ ins: 0x01, p1: 0x03, data: data() });
    if (extended.sw === SW_OK || extended.sw === SW_NO_PRESENCE) return extended.sw;
    return (await short.sendApdu({ ins: 0x01, p1: 0x03, data: data() })).sw;
  };
  const first = await probe();
  if (first === SW_OK) return automaticPresence();

  if (spec.kind === 'udp') {
    const press = () => pressOverUdp(spec.host, spec.port);
    if (
      await press().then(
        () => true,
        () => false,
      )
    ) {
      // The probe press armed a touch: spend it so the run starts with none.
      const pressed = await probe();
      return buttonPresence(
        press,
        undefined,
        pressed === SW_OK ? undefined : `press acknowledged, REGISTER still ${swHex(pressed)}`,
      );
    }
  }
  if (options.noTouch) return noPresence('--no-touch given');
  if (options.promptIo) return promptedPresence(options.promptIo, session.description);
  return noPresence('no terminal to prompt on (use the virtual key, or run on a terminal)');
}

const SW_OK = 0x9000;
const SW_NO_PRESENCE = 0x6985;

/**
 * Presses the button of a `keybench virtual-key --udp` key with its control datagram and
 * waits for the acknowledgement. Rejects when none comes within 500 ms (not our key).
 */
export function pressOverUdp(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => finish(new Error('no acknowledgement')), 500);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve();
    };
    socket.on('error', (error) => finish(error));
    socket.on('message', (message) => {
      if (message.toString('latin1') === UDP_CONTROL.PRESSED) finish();
    });
    socket.send(UDP_CONTROL.PRESS, port, host);
  });
}
