import {
  BROADCAST_CID,
  CTAPHID,
  CTAPHID_ERR,
  CtapHidError,
  SW,
  U2F_INS,
  encodeApdu,
  statusWordName,
  toHex,
} from '@keybench/hid-transport';

import type { FuzzTarget } from './target.js';

/** What the health check concluded after an input. */
export type Verdict =
  | { readonly ok: true; readonly recovered: boolean }
  | { readonly ok: false; readonly kind: FailureKind; readonly message: string };

/**
 * `wrong-answer`: the device answered PING or VERSION, and the answer was wrong (failure at
 * once: a re-INIT would hide a device that answers one request with another's reply).
 * `no-answer`: it did not answer properly, and still did not on a fresh channel.
 */
export type FailureKind = 'wrong-answer' | 'no-answer';

export interface HealthOptions {
  /** The PING payload (echoed exactly). */
  pingData: Uint8Array;
  /** Channels the input used: each gets an INIT before the re-INIT, aborting what it left. */
  touchedCids: readonly number[];
  /** Nonce for those INITs. */
  nonce: Uint8Array;
  /** How long the retry on a fresh channel may wait out CHANNEL_BUSY. */
  recoverMs: number;
}

const U2F_V2 = 'U2F_V2';
const VERSION_APDU = encodeApdu({ ins: U2F_INS.VERSION });
/** The 9-byte VERSION form python-fido2 and u2flib send; asked when 7 bytes get 6700. */
const LEGACY_VERSION_APDU = Uint8Array.of(0x00, U2F_INS.VERSION, 0, 0, 0, 0, 0, 0, 0);

const preview = (bytes: Uint8Array) =>
  `${bytes.length} bytes ${toHex(bytes.subarray(0, 16))}${bytes.length > 16 ? '…' : ''}`;

/** One PING + VERSION: a verdict, or `retry` with what went wrong at the transport level. */
async function attempt(
  target: FuzzTarget,
  pingData: Uint8Array,
): Promise<Verdict | { retry: string; busy: boolean }> {
  const step = async (what: string, run: () => Promise<Uint8Array>) => {
    try {
      return await run();
    } catch (error) {
      const busy = error instanceof CtapHidError && error.code === CTAPHID_ERR.CHANNEL_BUSY;
      return { retry: `${what}: ${error instanceof Error ? error.message : String(error)}`, busy };
    }
  };

  const echo = await step('PING', () => target.channel.transaction(CTAPHID.PING, pingData));
  if (!(echo instanceof Uint8Array)) return echo;
  if (toHex(echo) !== toHex(pingData)) {
    return fail(
      'wrong-answer',
      `PING echo differs: sent ${preview(pingData)}, got ${preview(echo)}`,
    );
  }

  let reply = await step('VERSION', () => target.channel.transaction(CTAPHID.MSG, VERSION_APDU));
  if (!(reply instanceof Uint8Array)) return reply;
  if (reply.length >= 2 && swOf(reply) === SW.WRONG_LENGTH) {
    reply = await step('VERSION (9-byte form)', () =>
      target.channel.transaction(CTAPHID.MSG, LEGACY_VERSION_APDU),
    );
    if (!(reply instanceof Uint8Array)) return reply;
  }
  if (reply.length < 2) {
    return fail('wrong-answer', `VERSION answered ${preview(reply)}, no status word`);
  }
  const sw = swOf(reply);
  const data = reply.subarray(0, reply.length - 2);
  const text = new TextDecoder().decode(data);
  if (sw !== SW.NO_ERROR || text !== U2F_V2) {
    const shown =
      data.length === 0
        ? 'no data'
        : /^[\x20-\x7e]{1,32}$/.test(text)
          ? `"${text}"`
          : preview(data);
    return fail(
      'wrong-answer',
      `VERSION answered ${sw.toString(16).padStart(4, '0')} (${statusWordName(sw)}) with ` +
        `${shown}, expected 9000 "${U2F_V2}"`,
    );
  }
  return { ok: true, recovered: false };
}

/**
 * Does the device still work? PING (exact echo) and VERSION ("U2F_V2", 9000) on the channel
 * the harness holds. A wrong answer fails at once. A missing or garbled one (timeout, an
 * ERROR frame, a framing fault) gets one more chance: INIT on every channel the input
 * touched (aborting what it left half-sent, U2FHID §4.1.3), a re-INIT of our own channel,
 * and PING + VERSION again, waiting out CHANNEL_BUSY until `recoverMs`. Never throws.
 */
export async function checkHealth(target: FuzzTarget, options: HealthOptions): Promise<Verdict> {
  const first = await attempt(target, options.pingData);
  if (!('retry' in first)) return first;

  try {
    const cids = new Set([target.channel.cid, ...options.touchedCids]);
    for (const cid of cids) {
      if (cid === 0 || cid === BROADCAST_CID) continue;
      await target.channel.sendFrame(initReport(cid, options.nonce));
    }
    await target.channel.reinit();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail('no-answer', `${first.retry}; then re-INIT failed: ${reason}`);
  }

  const until = performance.now() + options.recoverMs;
  for (;;) {
    const second = await attempt(target, options.pingData);
    if (!('retry' in second)) return second.ok ? { ok: true, recovered: true } : second;
    if (!second.busy || performance.now() >= until) {
      return fail('no-answer', `${first.retry}; after a re-INIT: ${second.retry}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function fail(kind: FailureKind, message: string): Verdict {
  return { ok: false, kind, message };
}

function swOf(reply: Uint8Array): number {
  return ((reply[reply.length - 2]! << 8) | reply[reply.length - 1]!) >>> 0;
}

function initReport(cid: number, nonce: Uint8Array): Uint8Array {
  const report = new Uint8Array(64);
  const view = new DataView(report.buffer);
  view.setUint32(0, cid >>> 0);
  report[4] = CTAPHID.INIT;
  view.setUint16(5, nonce.length);
  report.set(nonce, 7);
  return report;
}
