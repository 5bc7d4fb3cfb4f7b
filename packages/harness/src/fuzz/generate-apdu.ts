import { AUTH_P1, U2F_INS, encodeApdu } from '@keybench/hid-transport';

import type { ApduInput } from './input.js';
import type { Prng } from './prng.js';

/** How APDU inputs are made; each names the label it gets in the summary. */
export const APDU_MUTATIONS = [
  'lc-lie',
  'header',
  'truncated',
  'extended',
  'bit-flip',
  'le',
  'short-form',
  'random',
] as const;
export type ApduMutation = (typeof APDU_MUTATIONS)[number];

/** VERSION (RAW §6) in one of the encodings hosts send: ISO case 2, legacy 9-byte, short. */
export function versionApdu(rng: Prng): Uint8Array {
  const forms = [
    encodeApdu({ ins: U2F_INS.VERSION }),
    Uint8Array.of(0x00, U2F_INS.VERSION, 0, 0, 0, 0, 0, 0, 0),
    encodeApdu({ ins: U2F_INS.VERSION }, 'short'),
  ];
  return rng.pick(forms);
}

/** REGISTER (RAW §4.1): challengeParam | appParam, P1 0x03. */
export function registerApdu(rng: Prng): Uint8Array {
  return encodeApdu({ ins: U2F_INS.REGISTER, p1: 0x03, data: rng.bytes(64) });
}

/** AUTHENTICATE (RAW §5.1) with a made-up key handle of 1..255 bytes and any control byte. */
export function authenticateApdu(rng: Prng): Uint8Array {
  const keyHandle = rng.bytes(rng.pick([1, 16, 64, rng.between(1, 255)]));
  const data = new Uint8Array(65 + keyHandle.length);
  data.set(rng.bytes(64));
  data[64] = keyHandle.length;
  data.set(keyHandle, 65);
  const p1 = rng.pick([
    AUTH_P1.CHECK_ONLY,
    AUTH_P1.ENFORCE_USER_PRESENCE,
    AUTH_P1.DONT_ENFORCE_USER_PRESENCE,
  ]);
  return encodeApdu({ ins: U2F_INS.AUTHENTICATE, p1, data });
}

function validApdu(rng: Prng): Uint8Array {
  const which = rng.below(3);
  return which === 0 ? versionApdu(rng) : which === 1 ? registerApdu(rng) : authenticateApdu(rng);
}

/** Extended Lc lives at bytes 5..6 after the 00 marker; short Lc at byte 4. */
function lieAboutLength(rng: Prng, apdu: Uint8Array): Uint8Array {
  const out = Uint8Array.from(apdu);
  if (out.length < 7) return out;
  const real = out.length - 7;
  const lc = rng.pick([
    0,
    1,
    real - 1,
    real + 1,
    real - 2,
    0xff,
    0x100,
    0xffff,
    rng.below(0x10000),
  ]);
  if (rng.chance(0.7)) {
    out[4] = 0;
    out[5] = (lc >> 8) & 0xff;
    out[6] = lc & 0xff;
  } else {
    out[4] = lc & 0xff;
  }
  return out;
}

function changeHeader(rng: Prng, apdu: Uint8Array): Uint8Array {
  const out = Uint8Array.from(apdu.length >= 4 ? apdu : new Uint8Array(4));
  const field = rng.below(4);
  const values = [
    [0x00, 0x80, 0x84, 0xff, rng.below(256)],
    [0x00, 0x01, 0x02, 0x03, 0x04, 0x40, 0xc0, 0xff, rng.below(256)],
    [0x00, 0x03, 0x07, 0x08, 0x09, 0x80, 0xff, rng.below(256)],
    [0x00, 0x01, 0xff, rng.below(256)],
  ][field]!;
  out[field] = rng.pick(values);
  return out;
}

function extend(rng: Prng, apdu: Uint8Array): Uint8Array {
  const extra = rng.bytes(rng.pick([1, 2, 3, rng.between(1, 300)]));
  const out = new Uint8Array(apdu.length + extra.length);
  out.set(apdu);
  out.set(extra, apdu.length);
  return out;
}

function flipBits(rng: Prng, apdu: Uint8Array): Uint8Array {
  const out = Uint8Array.from(apdu);
  if (out.length === 0) return out;
  for (let flips = rng.between(1, 8); flips > 0; flips--) {
    out[rng.below(out.length)]! ^= 1 << rng.below(8);
  }
  return out;
}

/** Le removed, or changed to 1, 2 or 3 bytes of something else. */
function changeLe(rng: Prng, apdu: Uint8Array): Uint8Array {
  if (apdu.length < 9) return extend(rng, apdu);
  const body = apdu.subarray(0, apdu.length - 2);
  const le = rng.pick([
    new Uint8Array(0),
    Uint8Array.of(0),
    Uint8Array.of(0x01, 0x00),
    Uint8Array.of(0xff, 0xff),
    Uint8Array.of(0, 0, 0),
  ]);
  const out = new Uint8Array(body.length + le.length);
  out.set(body);
  out.set(le, body.length);
  return out;
}

/** The same command in the ISO short form (1-byte Lc), which U2F over HID does not use. */
function shortForm(rng: Prng, apdu: Uint8Array): Uint8Array {
  if (apdu.length < 9) return versionApdu(rng);
  const data = apdu.subarray(7, apdu.length - 2).subarray(0, 255);
  return encodeApdu({ cla: apdu[0]!, ins: apdu[1]!, p1: apdu[2]!, p2: apdu[3]!, data }, 'short');
}

const MUTATE: Record<ApduMutation, (rng: Prng, apdu: Uint8Array) => Uint8Array> = {
  'lc-lie': lieAboutLength,
  header: changeHeader,
  truncated: (rng, apdu) => (apdu.length === 0 ? apdu : apdu.subarray(0, rng.below(apdu.length))),
  extended: extend,
  'bit-flip': flipBits,
  le: changeLe,
  'short-form': shortForm,
  random: (rng) => rng.bytes(rng.pick([1, 4, 5, 7, 9, rng.between(0, 300)])),
};

/** One random or mutated APDU input: a valid VERSION/REGISTER/AUTHENTICATE, 1-3 mutations. */
export function generateApduInput(rng: Prng): ApduInput {
  const label = rng.pick(APDU_MUTATIONS);
  let apdu = MUTATE[label](rng, validApdu(rng));
  for (let more = rng.below(3); more > 0; more--) {
    apdu = MUTATE[rng.pick(APDU_MUTATIONS.filter((m) => m !== 'random'))](rng, apdu);
  }
  return { kind: 'apdu', label, apdu: Uint8Array.from(apdu) };
}
