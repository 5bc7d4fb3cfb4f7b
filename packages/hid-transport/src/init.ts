import { ByteReader } from './byte-reader.js';
import { Deadline, sleep } from './clock.js';
import {
  BROADCAST_CID,
  CTAPHID,
  CTAPHID_ERR,
  INIT_DATA_SIZE,
  ctapHidErrorName,
} from './constants.js';
import { CtapHidError, TransportError } from './errors.js';
import { MessageAssembler, decodeFrame, encodeMessage } from './frame.js';
import { toHex } from './hex.js';
import type { Wire } from './wire.js';

/** What the INIT reply says about the device (U2FHID §4.1.3). */
export interface DeviceInfo {
  /** U2FHID protocol version; 2 for every known device. */
  protocolVersion: number;
  /** Major, minor and build number of the device. */
  deviceVersion: [number, number, number];
  /** CAPABILITY flags (WINK 0x01, LOCK 0x02, CBOR 0x04, NMSG 0x08). */
  capabilities: number;
}

/** Nonce length and the shortest INIT reply: nonce(8) cid(4) version(1) major minor build caps. */
const NONCE_SIZE = 8;
const INIT_REPLY_SIZE = 17;

/** @internal */
export interface InitSettings {
  timeoutMs: number;
  busyRetries: number;
  busyBackoffMs: number;
  signal: AbortSignal | undefined;
  /** An outer deadline (a transaction's) that the INIT must also respect. */
  deadline?: Deadline;
}

/**
 * Allocates a channel: sends INIT on the broadcast channel with a fresh random nonce and
 * waits for the reply carrying that nonce. Everything else (another program's INIT reply,
 * frames for other channels, stale continuation frames) is skipped until the deadline,
 * because on a shared key those are normal (python-fido2#178, pam-u2f#5). Replies longer
 * than 17 bytes are accepted; the cid is 4 opaque bytes (0x00 first byte is fine).
 *
 * Throws TransportError('timeout') when no matching reply comes, CtapHidError when the reply
 * assigns the reserved cid 0 or 0xffffffff, TransportError('aborted') on abort.
 * @internal
 */
export async function negotiateChannel(
  wire: Wire,
  settings: InitSettings,
): Promise<{ cid: number; info: DeviceInfo }> {
  const own = new Deadline(settings.timeoutMs);
  const outer = settings.deadline;
  const remaining = () => Math.min(own.remaining(), outer ? outer.remaining() : Infinity);
  const where = `ctaphid ${wire.connection.description}: INIT`;

  let nonce = freshNonce();
  await wire.send(encodeMessage(BROADCAST_CID, CTAPHID.INIT, nonce)[0]!, 'INIT request');

  let busyRetries = 0;
  let skipped = 0;
  let lastOddity = '';
  let assembler: MessageAssembler | undefined;

  for (;;) {
    const wait = remaining();
    if (wait <= 0) {
      const detail = lastOddity ? `; last unexpected frame: ${lastOddity}` : '';
      throw new TransportError(
        'timeout',
        `${where}: no reply with nonce ${toHex(nonce)} within ${settings.timeoutMs} ms ` +
          `(${skipped} other frames skipped${detail})`,
      );
    }

    const report = await wire.receive(wait, settings.signal);
    if (!report) continue;
    const frame = decodeFrame(report);

    if (frame.cid !== BROADCAST_CID) {
      skipped++;
      wire.note('in', report, 'not on the broadcast channel, skipped');
      continue;
    }

    if (frame.type === 'cont') {
      if (assembler) {
        wire.note('in', report);
        assembler.push(frame);
        if (assembler.complete) return parseInitReply(assembler.message(), where);
        continue;
      }
      skipped++;
      wire.note('in', report, 'stray continuation frame, skipped');
      continue;
    }

    if (frame.cmd === CTAPHID.ERROR) {
      const code = frame.data[0];
      lastOddity =
        code === undefined ? 'ERROR without a code byte' : `ERROR ${ctapHidErrorName(code)}`;

      // A key busy with another program's transaction answers INIT with CHANNEL_BUSY: wait
      // and ask again with a new nonce, a bounded number of times. Any other ERROR on the
      // broadcast channel may be addressed to another program, so it is only remembered.
      if (code === CTAPHID_ERR.CHANNEL_BUSY && busyRetries < settings.busyRetries) {
        wire.note('in', report, 'CHANNEL_BUSY, INIT retried');
        const pause = Math.min(settings.busyBackoffMs * 2 ** busyRetries, 1000, remaining());
        busyRetries++;
        await sleep(pause, settings.signal, where);
        nonce = freshNonce();
        await wire.send(encodeMessage(BROADCAST_CID, CTAPHID.INIT, nonce)[0]!, 'INIT retry');
        continue;
      }
      skipped++;
      wire.note('in', report, 'ERROR on the broadcast channel, skipped');
      continue;
    }

    if (frame.cmd !== CTAPHID.INIT) {
      skipped++;
      wire.note('in', report, 'not an INIT reply, skipped');
      continue;
    }

    // The nonce decides whether this reply is ours. A reply too short to hold the fields
    // is not trusted (WebKit PR#70230 read past the end of one) and does not end the wait.
    if (frame.bcnt < INIT_REPLY_SIZE || !startsWith(frame.data, nonce)) {
      skipped++;
      lastOddity =
        frame.bcnt < INIT_REPLY_SIZE
          ? `INIT reply of ${frame.bcnt} bytes, expected at least ${INIT_REPLY_SIZE}`
          : `INIT reply with another nonce ${toHex(frame.data.subarray(0, NONCE_SIZE))}`;
      wire.note('in', report, 'INIT reply for another nonce or too short, skipped');
      continue;
    }

    wire.note('in', report);
    if (frame.bcnt <= INIT_DATA_SIZE) return parseInitReply(frame.data, where);
    assembler = new MessageAssembler(frame);
  }
}

/** Reads cid, versions and capabilities from an INIT reply payload (at least 17 bytes). */
function parseInitReply(payload: Uint8Array, where: string): { cid: number; info: DeviceInfo } {
  const reader = new ByteReader(payload, (message) => new CtapHidError(`${where}: ${message}`));
  reader.take(NONCE_SIZE, 'nonce');
  const cid = reader.u32('cid');
  const protocolVersion = reader.u8('protocol version');
  const major = reader.u8('major device version');
  const minor = reader.u8('minor device version');
  const build = reader.u8('build device version');
  const capabilities = reader.u8('capabilities');

  if (cid === 0 || cid === BROADCAST_CID) {
    throw new CtapHidError(
      `${where}: reply assigned the reserved cid 0x${cid.toString(16).padStart(8, '0')}`,
    );
  }
  return { cid, info: { protocolVersion, deviceVersion: [major, minor, build], capabilities } };
}

function freshNonce(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(NONCE_SIZE));
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false;
  return prefix.every((byte, i) => data[i] === byte);
}
