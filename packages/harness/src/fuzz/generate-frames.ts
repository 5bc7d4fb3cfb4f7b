import {
  BROADCAST_CID,
  CONT_DATA_SIZE,
  CONT_HEADER_SIZE,
  CTAPHID,
  INIT_DATA_SIZE,
  INIT_HEADER_SIZE,
  MAX_MESSAGE_SIZE,
  REPORT_SIZE,
  TYPE_INIT,
  encodeMessage,
} from '@keybench/hid-transport';

import { registerApdu, versionApdu, authenticateApdu } from './generate-apdu.js';
import type { FramesInput, FuzzFrame } from './input.js';
import type { Prng } from './prng.js';

/** How frame inputs are made; each names the label it gets in the summary. */
export const FRAME_MUTATIONS = [
  'bad-cmd',
  'bad-bcnt',
  'bad-seq',
  'other-cid',
  'padding',
  'truncated',
  'stray-cont',
  'broadcast',
  'interleaved',
  'bit-flip',
  'random',
] as const;
export type FrameMutation = (typeof FRAME_MUTATIONS)[number];

type Frames = FuzzFrame[];

/** A valid message on our channel: PING, WINK or MSG with a well-formed U2F APDU. */
function validMessage(rng: Prng, multiFrame = false): Frames {
  const choice = multiFrame ? rng.below(3) : rng.below(5);
  let cmd: number = CTAPHID.PING;
  let payload: Uint8Array;
  if (choice === 0) payload = rng.bytes(multiFrame ? rng.between(58, 400) : rng.between(0, 57));
  else if (choice === 1) [cmd, payload] = [CTAPHID.MSG, registerApdu(rng)];
  else if (choice === 2) [cmd, payload] = [CTAPHID.MSG, authenticateApdu(rng)];
  else if (choice === 3) [cmd, payload] = [CTAPHID.MSG, versionApdu(rng)];
  else [cmd, payload] = [CTAPHID.WINK, new Uint8Array(0)];
  return encodeMessage(0, cmd, payload).map((bytes) => ({
    bytes: Uint8Array.from(bytes),
    ownCid: true,
  }));
}

function setCid(frame: FuzzFrame, cid: number): FuzzFrame {
  const bytes = Uint8Array.from(frame.bytes);
  new DataView(bytes.buffer).setUint32(0, cid >>> 0);
  return { bytes, ownCid: false };
}

function otherCid(rng: Prng): number {
  return rng.pick([0, BROADCAST_CID, 0x4b420001, rng.u32(), rng.u32()]);
}

function initFrame(cid: number, cmd: number, bcnt: number, data: Uint8Array): Uint8Array {
  const report = new Uint8Array(REPORT_SIZE);
  const view = new DataView(report.buffer);
  view.setUint32(0, cid >>> 0);
  report[4] = cmd;
  view.setUint16(5, bcnt);
  report.set(data.subarray(0, INIT_DATA_SIZE), INIT_HEADER_SIZE);
  return report;
}

function contFrame(cid: number, seq: number, data: Uint8Array): Uint8Array {
  const report = new Uint8Array(REPORT_SIZE);
  new DataView(report.buffer).setUint32(0, cid >>> 0);
  report[4] = seq & 0x7f;
  report.set(data.subarray(0, CONT_DATA_SIZE), CONT_HEADER_SIZE);
  return report;
}

const MUTATE: Record<FrameMutation, (rng: Prng) => Frames> = {
  'bad-cmd': (rng) => {
    const frames = validMessage(rng);
    frames[0]!.bytes[4] = rng.between(TYPE_INIT, 0xff);
    return frames;
  },
  'bad-bcnt': (rng) => {
    const frames = validMessage(rng, rng.chance(0.5));
    const view = new DataView(frames[0]!.bytes.buffer, frames[0]!.bytes.byteOffset);
    const bcnt = view.getUint16(5);
    const lie = [
      0,
      1,
      bcnt - 1,
      bcnt + 1,
      bcnt + CONT_DATA_SIZE,
      MAX_MESSAGE_SIZE,
      MAX_MESSAGE_SIZE + 1,
      0xffff,
      rng.below(0x10000),
    ];
    view.setUint16(5, Math.max(0, rng.pick(lie)) & 0xffff);
    return frames;
  },
  'bad-seq': (rng) => {
    const frames = validMessage(rng, true);
    const conts = frames.length - 1;
    const at = rng.between(1, conts);
    const how = rng.below(3);
    if (how === 0) frames[at]!.bytes[4] = rng.below(0x80);
    else if (how === 1)
      frames.splice(at, 0, { ...frames[at]!, bytes: Uint8Array.from(frames[at]!.bytes) });
    else if (conts >= 2) [frames[1], frames[conts]] = [frames[conts]!, frames[1]!];
    else frames[at]!.bytes[4] = (frames[at]!.bytes[4]! + 1) & 0x7f;
    return frames;
  },
  'other-cid': (rng) => {
    const frames = validMessage(rng, rng.chance(0.5));
    const cid = otherCid(rng);
    const all = rng.chance(0.5);
    return frames.map((frame, i) => (all || i === frames.length - 1 ? setCid(frame, cid) : frame));
  },
  padding: (rng) => {
    const frames = validMessage(rng, rng.chance(0.5));
    const last = frames[frames.length - 1]!;
    const fill = rng.chance(0.5) ? 0xff : -1;
    for (let i = REPORT_SIZE - 1; i >= CONT_HEADER_SIZE && last.bytes[i] === 0; i--) {
      last.bytes[i] = fill < 0 ? rng.below(256) : fill;
    }
    return frames;
  },
  truncated: (rng) => {
    const frames = validMessage(rng, true);
    return frames.slice(0, rng.between(1, frames.length - 1));
  },
  'stray-cont': (rng) => {
    const count = rng.between(1, 3);
    const own = rng.chance(0.6);
    const cid = own ? 0 : otherCid(rng);
    return Array.from({ length: count }, () => ({
      bytes: contFrame(cid, rng.below(0x80), rng.bytes(rng.below(CONT_DATA_SIZE + 1))),
      ownCid: own,
    }));
  },
  broadcast: (rng) => {
    const how = rng.below(5);
    const nonce = rng.bytes(8);
    if (how === 0) {
      const cmd = rng.pick([CTAPHID.PING, CTAPHID.MSG, CTAPHID.WINK, rng.between(TYPE_INIT, 0xff)]);
      return [{ bytes: initFrame(BROADCAST_CID, cmd, 8, nonce), ownCid: false }];
    }
    if (how === 1) {
      const bcnt = rng.pick([0, 1, 7, 9, 17, 64, 0xffff]);
      return [
        { bytes: initFrame(BROADCAST_CID, CTAPHID.INIT, bcnt, rng.bytes(57)), ownCid: false },
      ];
    }
    if (how === 2) {
      return [{ bytes: contFrame(BROADCAST_CID, rng.below(0x80), rng.bytes(59)), ownCid: false }];
    }
    if (how === 3) return [{ bytes: initFrame(0, CTAPHID.INIT, 8, nonce), ownCid: false }];
    return [
      { bytes: initFrame(BROADCAST_CID, CTAPHID.INIT, 8 + 57, rng.bytes(57)), ownCid: false },
      { bytes: contFrame(BROADCAST_CID, 0, rng.bytes(8)), ownCid: false },
    ];
  },
  interleaved: (rng) => {
    const frames = validMessage(rng, true);
    const at = rng.between(1, frames.length - 1);
    const intruder = rng.chance(0.5)
      ? { bytes: initFrame(otherCid(rng), CTAPHID.PING, 4, rng.bytes(4)), ownCid: false }
      : { bytes: initFrame(0, CTAPHID.PING, 4, rng.bytes(4)), ownCid: true };
    frames.splice(at, 0, intruder);
    return frames;
  },
  'bit-flip': (rng) => {
    const frames = validMessage(rng, rng.chance(0.5));
    for (let flips = rng.between(1, 8); flips > 0; flips--) {
      const frame = rng.pick(frames);
      const from = frame.ownCid ? 4 : 0;
      frame.bytes[rng.between(from, REPORT_SIZE - 1)]! ^= 1 << rng.below(8);
    }
    return frames;
  },
  random: (rng) =>
    Array.from({ length: rng.between(1, 3) }, () => ({
      bytes: rng.bytes(REPORT_SIZE),
      ownCid: rng.chance(0.5),
    })),
};

/**
 * A LOCK (0x84) request would shut the harness out of the device for up to 10 s, which is
 * the device obeying the spec, not failing; the conformance suite covers LOCK. Init frames
 * that come out as LOCK become 0x85 (an unassigned command) instead.
 */
function withoutLock(frames: Frames): Frames {
  for (const frame of frames) {
    if (frame.bytes[4] === CTAPHID.LOCK) frame.bytes[4] = CTAPHID.LOCK + 1;
  }
  return frames;
}

/** One random or mutated frames input. */
export function generateFramesInput(rng: Prng): FramesInput {
  const label = rng.pick(FRAME_MUTATIONS);
  return { kind: 'frames', label, frames: withoutLock(MUTATE[label](rng)) };
}
