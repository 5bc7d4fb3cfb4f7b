import { SW } from '@keybench/hid-transport';

/** A command APDU as the device sees it. */
export interface CommandApdu {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  readonly data: Uint8Array;
  /** Which length encoding the host used. */
  readonly form: 'none' | 'short' | 'extended';
}

/** Parse outcome: the APDU, or the status word to answer with (no data). */
export type ParsedApdu = { apdu: CommandApdu } | { sw: number };

/**
 * Parses the body after `CLA INS P1 P2` in every encoding seen in the wild
 * (conformance AP-01..AP-04, AP-10):
 * - nothing (ISO case 1, `00 03 00 00`);
 * - one byte, a short Le (`00 03 00 00 00`);
 * - `00 Le1 Le2`, extended Le only (ISO case 2E, the U2F HID form for VERSION);
 * - `00 Lc1 Lc2 data [Le]` with Le of 0..2 bytes (extended, the U2F HID form; Lc 0 with a
 *   2-byte Le is the legacy VERSION form `00 00 00 00 00`);
 * - `Lc data [Le]` with Lc 1..255 and Le of 0..1 byte (short form, U2F over NFC).
 * Anything else is WRONG_LENGTH. With `shortOnly`, extended forms are WRONG_LENGTH too.
 * The header itself (CLA first, then INS) is judged by the caller.
 */
export function parseApduBody(
  header: { cla: number; ins: number; p1: number; p2: number },
  body: Uint8Array,
  shortOnly = false,
): ParsedApdu {
  const wrongLength = { sw: SW.WRONG_LENGTH };
  const make = (data: Uint8Array, form: CommandApdu['form']) => ({
    apdu: { ...header, data, form },
  });

  if (body.length === 0) return make(body, 'none');
  if (body.length === 1) return make(body.subarray(0, 0), 'none');

  if (body[0] === 0x00) {
    if (shortOnly || body.length < 3) return wrongLength;
    if (body.length === 3) return make(body.subarray(0, 0), 'extended');

    const lc = (body[1]! << 8) | body[2]!;
    const trailing = body.length - 3 - lc;
    if (trailing < 0 || trailing > 2) return wrongLength;
    return make(body.subarray(3, 3 + lc), 'extended');
  }

  const lc = body[0]!;
  const trailing = body.length - 1 - lc;
  if (trailing < 0 || trailing > 1) return wrongLength;
  return make(body.subarray(1, 1 + lc), 'short');
}
