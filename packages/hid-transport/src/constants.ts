/**
 * Constants of the FIDO U2F HID protocol (CTAPHID, "FIDO U2F HID Protocol Specification"
 * v1.1/1.2) and of U2F raw messages, with the specifications' names and values.
 */

/** Size of one HID report (without the report-id byte). */
export const REPORT_SIZE = 64;

/** Header sizes: init packet CID(4) CMD(1) BCNTH(1) BCNTL(1); continuation CID(4) SEQ(1). */
export const INIT_HEADER_SIZE = 7;
export const CONT_HEADER_SIZE = 5;
export const INIT_DATA_SIZE = REPORT_SIZE - INIT_HEADER_SIZE; // 57
export const CONT_DATA_SIZE = REPORT_SIZE - CONT_HEADER_SIZE; // 59

/** Largest message: one init packet and 128 continuation packets (57 + 128 × 59). */
export const MAX_MESSAGE_SIZE = INIT_DATA_SIZE + 128 * CONT_DATA_SIZE; // 7609

/** The broadcast channel, used only for INIT. */
export const BROADCAST_CID = 0xffffffff;

/** Bit 7 of the fifth byte marks an init packet. */
export const TYPE_INIT = 0x80;

/** CTAPHID command codes (command byte with the init bit set). */
export const CTAPHID = Object.freeze({
  PING: 0x81,
  MSG: 0x83,
  LOCK: 0x84,
  INIT: 0x86,
  WINK: 0x88,
  CBOR: 0x90,
  CANCEL: 0x91,
  SYNC: 0xbc,
  KEEPALIVE: 0xbb,
  ERROR: 0xbf,
} as const);

/** CTAPHID_ERROR codes. */
export const CTAPHID_ERR = Object.freeze({
  INVALID_CMD: 0x01,
  INVALID_PAR: 0x02,
  INVALID_LEN: 0x03,
  INVALID_SEQ: 0x04,
  MSG_TIMEOUT: 0x05,
  CHANNEL_BUSY: 0x06,
  LOCK_REQUIRED: 0x0a,
  INVALID_CHANNEL: 0x0b,
  OTHER: 0x7f,
} as const);

/** INIT response capability flags. */
export const CAPABILITY = Object.freeze({
  WINK: 0x01,
  LOCK: 0x02,
  CBOR: 0x04,
  NMSG: 0x08,
} as const);

/** KEEPALIVE status bytes. */
export const KEEPALIVE_STATUS = Object.freeze({
  PROCESSING: 0x01,
  UPNEEDED: 0x02,
} as const);

/** FIDO HID usage page and usage (the only way we recognise a FIDO device). */
export const FIDO_USAGE_PAGE = 0xf1d0;
export const FIDO_USAGE_U2FHID = 0x01;

/** U2F instructions (Raw Message Formats, section 3). */
export const U2F_INS = Object.freeze({
  REGISTER: 0x01,
  AUTHENTICATE: 0x02,
  VERSION: 0x03,
} as const);

/** AUTHENTICATE control byte (P1). */
export const AUTH_P1 = Object.freeze({
  CHECK_ONLY: 0x07,
  ENFORCE_USER_PRESENCE: 0x03,
  DONT_ENFORCE_USER_PRESENCE: 0x08,
} as const);

/** ISO 7816 status words used by U2F. */
export const SW = Object.freeze({
  NO_ERROR: 0x9000,
  WRONG_LENGTH: 0x6700,
  INVALID_DATA: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  WRONG_DATA: 0x6a80,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
} as const);

const lookup = (table: Readonly<Record<string, number>>) => {
  const byValue = new Map<number, string>();
  for (const [name, value] of Object.entries(table)) byValue.set(value, name);
  return byValue;
};

const CTAPHID_NAMES = lookup(CTAPHID);
const CTAPHID_ERR_NAMES = lookup(CTAPHID_ERR);
const SW_NAMES = lookup(SW);

/** Name of a CTAPHID command byte, or its hex value. */
export function ctapHidCommandName(cmd: number): string {
  return CTAPHID_NAMES.get(cmd) ?? `0x${cmd.toString(16).padStart(2, '0')}`;
}

/** Name of a CTAPHID error code, or its hex value. */
export function ctapHidErrorName(code: number): string {
  return CTAPHID_ERR_NAMES.get(code) ?? `0x${code.toString(16).padStart(2, '0')}`;
}

/** Name of a status word, or its hex value. */
export function statusWordName(sw: number): string {
  return SW_NAMES.get(sw) ?? `0x${sw.toString(16).padStart(4, '0')}`;
}
