/**
 * Fault injection: named misbehaviours of real firmware, switched on one by one
 * (`--fault NAME[=VALUE]`, or `faults` in VirtualKeyOptions). Each entry says what the key
 * does, what its value means, and which real bug it imitates. With no fault the key behaves
 * like good firmware.
 */

/**
 * What a fault's value means:
 * - `none`: no value;
 * - `probability`: chance (0..1, default 1) that the fault strikes on each occasion;
 * - `after`: the fault strikes once, after this many successful occasions;
 * - `ms`, `count`, `start`: a duration, a number of repeats, a starting value.
 */
export type FaultValueKind = 'none' | 'probability' | 'after' | 'ms' | 'count' | 'start';

export interface FaultDefinition {
  readonly value: FaultValueKind;
  readonly defaultValue: number;
  /** What the key does when the fault is on. */
  readonly effect: string;
  /** The real-world bug it imitates. */
  readonly imitates: string;
}

export const FAULTS = Object.freeze({
  'counter-regress': {
    value: 'after',
    defaultValue: 2,
    effect:
      'after N successful signatures (default 2), the next one carries a counter 2 lower ' +
      'than the last, and the key keeps counting from there (persisted)',
    imitates:
      'firmware that caches the counter in RAM and writes it to flash lazily: a power cut ' +
      'after the reply loses increments, so values are reused (conformance §3, counters)',
  },
  'counter-reset-on-restart': {
    value: 'none',
    defaultValue: 0,
    effect: 'the stored counter is ignored on start: counting restarts from 0',
    imitates:
      "the SoloKeys PC simulator, whose weak ctap_atomic_count restarts from a fixed value " +
      'after every restart instead of reading persisted state',
  },
  'counter-stuck': {
    value: 'none',
    defaultValue: 0,
    effect: 'successful signatures never increase the counter',
    imitates:
      'authenticators that never implemented a counter (or whose counter write fails ' +
      'silently) and report the same value on every assertion',
  },
  'counter-wrap': {
    value: 'start',
    defaultValue: 0xfffffffe,
    effect:
      'the counter starts at VALUE (default 0xfffffffe) and wraps from 0xffffffff to 0 ' +
      'instead of refusing to sign',
    imitates: 'firmware that stores the counter in a u32 and increments it without a check',
  },
  'counter-shared': {
    value: 'none',
    defaultValue: 0,
    effect:
      'with counterMode per-credential, every credential still advances one shared counter',
    imitates:
      'keys declared (in metadata or documentation) to keep per-credential counters that ' +
      'actually keep one global counter, so a credential sees jumps',
  },
  'bad-attestation-signature': {
    value: 'probability',
    defaultValue: 1,
    effect:
      'the registration signature omits the reserved 0x00 byte from the signed data, so it ' +
      'does not verify against the attestation certificate',
    imitates: 'firmware that builds the to-be-signed buffer from the wrong offset',
  },
  'bad-assertion-signature': {
    value: 'probability',
    defaultValue: 1,
    effect:
      'the authentication signature is over challengeParam before applicationParam ' +
      '(swapped), so it does not verify',
    imitates: 'firmware that hashes the request fields in request order, not in spec order',
  },
  'wrong-app-param': {
    value: 'probability',
    defaultValue: 1,
    effect:
      'the authentication signature is over the application parameter of the previous ' +
      'request (zeros for the first one)',
    imitates: 'firmware that reuses a stale request buffer while building the signed data',
  },
  'presence-bit-clear': {
    value: 'probability',
    defaultValue: 1,
    effect: 'authentication replies carry flags 0x00 even when a touch was consumed',
    imitates: 'firmware that forgets to set bit 0 (user presence) of the flags byte',
  },
  'approve-without-touch': {
    value: 'none',
    defaultValue: 0,
    effect: "user presence is granted without a press in presence modes 'button' and 'never'",
    imitates:
      'simulators and keys whose touch sensor reads as always pressed (the SoloKeys ' +
      'simulator grants presence unconditionally)',
  },
  'foreign-handle-6700': {
    value: 'none',
    defaultValue: 0,
    effect: 'a foreign, tampered or wrong-appId key handle is answered 0x6700, not 0x6A80',
    imitates:
      'keys that report an unknown key handle as WRONG_LENGTH (libfido2 and Google U2FTest ' +
      'both accept 6700 for it)',
  },
  'foreign-handle-6984': {
    value: 'none',
    defaultValue: 0,
    effect: 'a foreign, tampered or wrong-appId key handle is answered 0x6984 (INVALID_DATA)',
    imitates:
      "firmware that uses ISO 7816's 'invalid data' status for a handle it cannot unwrap",
  },
  'short-apdu-only': {
    value: 'none',
    defaultValue: 0,
    effect:
      'only short-form APDUs (1-byte Lc) are parsed; extended-length APDUs, the U2F HID ' +
      'encoding, are answered 0x6700',
    imitates: 'NFC-first firmware reused on HID without extended-length support',
  },
  'wrong-reply-cid': {
    value: 'probability',
    defaultValue: 1,
    effect: 'replies go out with the channel id byte-reversed',
    imitates:
      'bulwarkid/virtual-fido, which serialises its channel id little-endian, and other ' +
      'firmware mixing byte orders',
  },
  'wrong-init-nonce': {
    value: 'probability',
    defaultValue: 1,
    effect: 'INIT replies echo the nonce of the previous INIT (zeros for the first)',
    imitates: 'firmware that answers INIT from a response buffer it did not refill',
  },
  'drop-frames': {
    value: 'probability',
    defaultValue: 1,
    effect: 'each outgoing report is dropped with probability VALUE',
    imitates: 'lost interrupt-IN reports on a busy hub, and lost datagrams of UDP simulators',
  },
  'duplicate-frames': {
    value: 'probability',
    defaultValue: 1,
    effect: 'each outgoing report is sent twice with probability VALUE',
    imitates: 'firmware that re-queues a report whose transfer it believed had failed',
  },
  'reorder-frames': {
    value: 'probability',
    defaultValue: 1,
    effect:
      'in a reply of several reports, the last two change places with probability VALUE',
    imitates: 'firmware with a send queue shared between an interrupt handler and a main loop',
  },
  'stale-reply': {
    value: 'probability',
    defaultValue: 1,
    effect: 'a MSG is answered with the previous MSG reply (with probability VALUE)',
    imitates:
      'firmware that sends a late answer to a request the host already gave up on, so ' +
      'the host reads it as the answer to the next request',
  },
  'slow-reply': {
    value: 'ms',
    defaultValue: 1000,
    effect: 'every reply is held back for VALUE milliseconds (default 1000)',
    imitates: 'slow secure elements and simulators (the SoloKeys simulator sleeps 10 ms a packet)',
  },
  'busy-ignored': {
    value: 'none',
    defaultValue: 0,
    effect:
      'an init frame on another channel while a message is pending is not answered ' +
      'CHANNEL_BUSY: it replaces the pending message, which is lost',
    imitates: 'firmware with one reassembly buffer that never checks which channel owns it',
  },
  'keepalive-flood': {
    value: 'count',
    defaultValue: 100,
    effect: 'every MSG reply is preceded by VALUE KEEPALIVE(PROCESSING) reports (default 100)',
    imitates:
      'CTAP2 firmware that sends KEEPALIVE in a tight loop instead of every 100 ms, also to ' +
      'U2F MSG requests',
  },
  'der-non-canonical': {
    value: 'probability',
    defaultValue: 1,
    effect:
      'signatures carry r with a superfluous leading 0x00 (non-minimal DER INTEGER), ' +
      'so strict DER parsers reject them',
    imitates: 'firmware with a hand-written DER encoder that always pads integers',
  },
  'signature-trailing-bytes': {
    value: 'count',
    defaultValue: 2,
    effect: 'VALUE zero bytes (default 2) follow every signature',
    imitates: 'firmware that copies a fixed-size 72-byte signature buffer into the reply',
  },
  'attestation-cert-length': {
    value: 'none',
    defaultValue: 0,
    effect:
      'the attestation certificate in REGISTER replies declares one byte more than it has ' +
      '(outer SEQUENCE length + 1), so the certificate swallows the first signature byte',
    imitates:
      'firmware that patches a certificate template without fixing its outer length; ' +
      'parsers that assume 30 81/30 82 (Google U2FTest) then mis-split the reply',
  },
} as const satisfies Record<string, FaultDefinition>);

export type FaultName = keyof typeof FAULTS;

/** One fault switched on, with its value (the definition's default when omitted). */
export interface FaultSpec {
  readonly name: FaultName;
  readonly value?: number;
}

/** Whether `name` is one of the FAULTS. */
export function isFaultName(name: string): name is FaultName {
  return Object.hasOwn(FAULTS, name);
}

/**
 * Parses `NAME` or `NAME=VALUE` (the `--fault` syntax). VALUE is a decimal or 0x-hex number.
 * Throws RangeError naming the known faults for an unknown name, or for a value that does
 * not fit the fault (a probability outside 0..1, a negative count).
 */
export function parseFault(text: string): FaultSpec {
  const separator = text.indexOf('=');
  const name = separator < 0 ? text : text.slice(0, separator);
  const raw = separator < 0 ? undefined : text.slice(separator + 1);
  if (!isFaultName(name)) {
    throw new RangeError(
      `fault: unknown fault "${name}"; known faults: ${Object.keys(FAULTS).join(', ')}`,
    );
  }
  if (raw === undefined) return { name };

  const value = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(value)) {
    throw new RangeError(`fault: ${name} expects a number, got "${raw}"`);
  }
  checkFaultValue(name, value);
  return { name, value };
}

/**
 * Upper bounds of `ms` and `count` values: Node's timers hold at most 2^31-1 ms (a longer
 * delay fires at once, with a warning), and a flood of more than 65535 reports per reply
 * would only exhaust the key's memory.
 */
export const FAULT_VALUE_LIMIT = Object.freeze({ MS: 0x7fffffff, COUNT: 0xffff } as const);

/** Throws RangeError when `value` does not fit fault `name`. */
export function checkFaultValue(name: FaultName, value: number): void {
  const kind: FaultValueKind = FAULTS[name].value;
  if (kind === 'none') throw new RangeError(`fault: ${name} takes no value, got ${value}`);
  if (kind === 'probability' && !(value >= 0 && value <= 1)) {
    throw new RangeError(`fault: ${name} expects a probability 0..1, got ${value}`);
  }
  if (kind === 'start' && !(Number.isInteger(value) && value >= 0 && value <= 0xffffffff)) {
    throw new RangeError(`fault: ${name} expects a u32 start value, got ${value}`);
  }
  if ((kind === 'after' || kind === 'count' || kind === 'ms') &&
    !(Number.isInteger(value) && value >= 0)) {
    throw new RangeError(`fault: ${name} expects a non-negative integer, got ${value}`);
  }
  if (kind === 'ms' && value > FAULT_VALUE_LIMIT.MS) {
    throw new RangeError(`fault: ${name} expects at most ${FAULT_VALUE_LIMIT.MS} ms, got ${value}`);
  }
  if (kind === 'count' && value > FAULT_VALUE_LIMIT.COUNT) {
    throw new RangeError(`fault: ${name} expects at most ${FAULT_VALUE_LIMIT.COUNT}, got ${value}`);
  }
}

/**
 * The faults of one key and the dice they roll. The random source is a fixed-seed PRNG, so
 * a run with the same requests strikes the same faults (reproducible bug reports).
 */
export class FaultSet {
  private readonly values = new Map<FaultName, number>();
  private readonly occasions = new Map<FaultName, number>();
  private seed = 0x6b657962; // "keyb"

  /** Throws RangeError for an unknown fault or a value that does not fit it. */
  constructor(faults: readonly FaultSpec[] = []) {
    for (const fault of faults) {
      if (!isFaultName(fault.name)) {
        throw new RangeError(
          `fault: unknown fault "${String(fault.name)}"; known faults: ` +
            Object.keys(FAULTS).join(', '),
        );
      }
      if (fault.value !== undefined) checkFaultValue(fault.name, fault.value);
      this.values.set(fault.name, fault.value ?? FAULTS[fault.name].defaultValue);
    }
  }

  /** Whether the fault is switched on at all. */
  has(name: FaultName): boolean {
    return this.values.has(name);
  }

  /** The fault's value, or undefined when it is off. */
  value(name: FaultName): number | undefined {
    return this.values.get(name);
  }

  /**
   * Whether the fault strikes on this occasion: always for `none`/`ms`/`count`/`start`
   * kinds, by a roll for `probability`, and exactly once after N occasions for `after`.
   */
  strikes(name: FaultName): boolean {
    const value = this.values.get(name);
    if (value === undefined) return false;

    const kind: FaultValueKind = FAULTS[name].value;
    if (kind === 'probability') return value >= 1 || this.random() < value;
    if (kind === 'after') {
      const seen = this.occasions.get(name) ?? 0;
      this.occasions.set(name, seen + 1);
      return seen === value;
    }
    return true;
  }

  /** The names switched on, for logs. */
  names(): FaultName[] {
    return [...this.values.keys()];
  }

  /** mulberry32: small, fast and good enough for dice. */
  private random(): number {
    this.seed = (this.seed + 0x6d2b79f5) >>> 0;
    let t = this.seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
