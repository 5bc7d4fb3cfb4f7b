import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { decodeFrame, toHex } from '@keybench/hid-transport';

import { FAULTS, parseFault, type FaultSpec } from '../src/index.js';
import { Bench, report, until } from './host.js';
import {
  appParam,
  authenticateApdu,
  derLength,
  otherAppParam,
  parseRegistration,
  parseSignature,
  registerApdu,
  verifyAssertion,
  verifyRegistration,
} from './u2f-helpers.js';

const benches: Bench[] = [];
let directory: string | undefined;
afterEach(async () => {
  for (const bench of benches.splice(0)) await bench.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
  directory = undefined;
});

async function withFaults(faults: string[], options: Parameters<typeof Bench.create>[0] = {}) {
  const bench = await Bench.create({ ...options, faults: faults.map(parseFault) });
  benches.push(bench);
  const cid = bench.allocate();
  const send = (bytes: Uint8Array | number[]) => bench.apdu(cid, bytes);
  return { bench, cid, send };
}

/** Registers on a good key path (faults that touch REGISTER are tested on their own). */
async function registered(faults: string[], options: Parameters<typeof Bench.create>[0] = {}) {
  const session = await withFaults(faults, options);
  const reg = parseRegistration(session.send(registerApdu()));
  const auth = (p1 = 0x03, app = appParam) =>
    session.send(authenticateApdu(p1, reg.keyHandle, app));
  return { ...session, reg, auth };
}

const counterOf = (response: Uint8Array) => parseSignature(response).counter;

describe('parseFault', () => {
  it('parses NAME and NAME=VALUE, and names the known faults for an unknown one', () => {
    expect(parseFault('counter-stuck')).toEqual({ name: 'counter-stuck' });
    expect(parseFault('drop-frames=0.25')).toEqual({ name: 'drop-frames', value: 0.25 });
    expect(parseFault('counter-wrap=0xfffffff0')).toEqual({
      name: 'counter-wrap',
      value: 0xfffffff0,
    });
    expect(() => parseFault('nope')).toThrow(/known faults: counter-regress/);
    expect(() => parseFault('drop-frames=2')).toThrow(/probability/);
    expect(() => parseFault('counter-stuck=1')).toThrow(/takes no value/);
    expect(() => parseFault('slow-reply=abc')).toThrow(/expects a number/);
  });

  it('refuses extra "=" parts and values no timer or memory can hold', () => {
    expect(() => parseFault('counter-wrap=1=2')).toThrow(/expects a number, got "1=2"/);
    expect(() => parseFault('slow-reply=3000000000')).toThrow(/at most 2147483647 ms/);
    expect(() => parseFault('keepalive-flood=1e9')).toThrow(/at most 65535/);
    expect(() => parseFault('counter-wrap=-1')).toThrow(/u32 start value/);
    expect(parseFault('keepalive-flood=65535')).toEqual({ name: 'keepalive-flood', value: 65535 });
  });

  it('documents every fault with its effect and the bug it imitates', () => {
    for (const [name, definition] of Object.entries(FAULTS)) {
      expect(definition.effect.length, name).toBeGreaterThan(20);
      expect(definition.imitates.length, name).toBeGreaterThan(20);
    }
  });
});

describe('counter faults', () => {
  it('counter-regress: after N signatures the counter goes back', async () => {
    const { auth } = await registered(['counter-regress=3']);
    const counters = Array.from({ length: 5 }, () => counterOf(auth()));
    expect(counters).toEqual([1, 2, 3, 1, 2]);
  });

  it('counter-reset-on-restart: the stored counter is lost on restart', async () => {
    directory = mkdtempSync(join(tmpdir(), 'keybench-fault-'));
    const stateFile = join(directory, 'key.json');
    const first = await registered([], { stateFile });
    expect([counterOf(first.auth()), counterOf(first.auth())]).toEqual([1, 2]);
    await first.bench.close();

    const second = await withFaults(['counter-reset-on-restart'], { stateFile });
    const response = second.send(authenticateApdu(0x03, first.reg.keyHandle));
    expect(counterOf(response)).toBe(1);
  });

  it('counter-stuck: the counter never moves', async () => {
    const { auth } = await registered(['counter-stuck']);
    expect([counterOf(auth()), counterOf(auth()), counterOf(auth())]).toEqual([0, 0, 0]);
  });

  it('counter-wrap: counts past 0xffffffff to 0', async () => {
    const { auth } = await registered(['counter-wrap=0xfffffffe']);
    expect([counterOf(auth()), counterOf(auth())]).toEqual([0xffffffff, 0]);
  });

  it('without counter-wrap, an exhausted counter refuses to sign (6A84)', async () => {
    directory = mkdtempSync(join(tmpdir(), 'keybench-fault-'));
    const stateFile = join(directory, 'key.json');
    const first = await registered([], { stateFile });
    await first.bench.close();
    const json = JSON.parse(readFileSync(stateFile, 'utf8')) as { counter: number };
    writeFileSync(stateFile, JSON.stringify({ ...json, counter: 0xffffffff }));

    const second = await withFaults([], { stateFile });
    expect(toHex(second.send(authenticateApdu(0x03, first.reg.keyHandle)))).toBe('6a84');
    expect(second.bench.key.counter).toBe(0xffffffff);
  });

  it('counter-shared: per-credential promised, one counter shared', async () => {
    const { send } = await withFaults(['counter-shared'], { counterMode: 'per-credential' });
    const a = parseRegistration(send(registerApdu()));
    const b = parseRegistration(send(registerApdu(otherAppParam)));
    expect(counterOf(send(authenticateApdu(0x03, a.keyHandle)))).toBe(1);
    expect(counterOf(send(authenticateApdu(0x03, b.keyHandle, otherAppParam)))).toBe(2);
  });
});

describe('signature faults', () => {
  it('bad-attestation-signature: the registration does not verify', async () => {
    const { send } = await withFaults(['bad-attestation-signature']);
    const reg = parseRegistration(send(registerApdu()));
    expect(reg.reserved).toBe(0x05);
    expect(verifyRegistration(reg)).toBe(false);
  });

  it('bad-assertion-signature: the assertion does not verify', async () => {
    const { auth, reg } = await registered(['bad-assertion-signature']);
    const response = auth();
    expect(counterOf(response)).toBe(1);
    expect(verifyAssertion(reg.publicKey, response)).toBe(false);
  });

  it('wrong-app-param: the signature is over the previous appParam', async () => {
    const { auth, reg, send } = await registered(['wrong-app-param']);
    // The previous request (REGISTER) had the same appParam: verifies.
    expect(verifyAssertion(reg.publicKey, auth())).toBe(true);
    const other = parseRegistration(send(registerApdu(otherAppParam)));
    expect(other.reserved).toBe(0x05);
    // The previous request was for another appId: the signature is over that one.
    const response = auth();
    expect(verifyAssertion(reg.publicKey, response)).toBe(false);
    expect(verifyAssertion(reg.publicKey, response, otherAppParam)).toBe(true);
  });

  it('der-non-canonical: r carries a superfluous leading zero', async () => {
    const { auth, reg } = await registered(['der-non-canonical']);
    const { signature } = parseSignature(auth());
    // 30 L 02 Lr 00 ...: the INTEGER r starts with 00 where no sign bit needs it.
    expect(signature[0]).toBe(0x30);
    expect(signature[2]).toBe(0x02);
    expect(signature[4]).toBe(0x00);
    expect(signature[5] === 0x00 || signature[5]! < 0x80).toBe(true);
    expect(reg.keyHandle.length).toBe(64);
  });

  it('signature-trailing-bytes: zero bytes follow the DER signature', async () => {
    const { auth } = await registered(['signature-trailing-bytes=3']);
    const { signature } = parseSignature(auth());
    expect(signature.length).toBe(derLength(signature) + 3);
    expect(toHex(signature.subarray(signature.length - 3))).toBe('000000');
  });

  it('attestation-cert-length: the certificate claims one byte more than it has', async () => {
    const { send, bench } = await withFaults(['attestation-cert-length']);
    const reg = parseRegistration(send(registerApdu()));
    const real = bench.key.attestationCertificate;
    expect(reg.certificate.length).toBe(real.length + 1);
    expect(() => new X509Certificate(Buffer.from(reg.certificate))).toThrow();
  });
});

describe('presence faults', () => {
  it('presence-bit-clear: flags 00 after a touch', async () => {
    const { auth } = await registered(['presence-bit-clear']);
    expect(toHex(auth().subarray(0, 5))).toBe('0000000001');
  });

  it('approve-without-touch: presence never still signs without a press', async () => {
    const { send } = await withFaults(['approve-without-touch'], { presence: 'never' });
    const reg = parseRegistration(send(registerApdu()));
    expect(toHex(send(authenticateApdu(0x03, reg.keyHandle)).subarray(0, 5))).toBe('0100000001');
  });
});

describe('status word and APDU faults', () => {
  it('foreign-handle-6700 and foreign-handle-6984 replace 6A80', async () => {
    const cases = [['foreign-handle-6700', '6700'], ['foreign-handle-6984', '6984']] as const;
    for (const [fault, status] of cases) {
      const { auth } = await registered([fault!]);
      expect(toHex(auth(0x03, otherAppParam))).toBe(status);
      expect(toHex(auth(0x07, otherAppParam))).toBe(status);
    }
  });

  it('short-apdu-only: extended-length APDUs get 6700, short ones work', async () => {
    const { send } = await withFaults(['short-apdu-only']);
    expect(toHex(send([0, 3, 0, 0, 0, 0, 0]))).toBe('6700');
    expect(toHex(send([0, 3, 0, 0]))).toBe('5532465f56329000');
  });
});

describe('framing faults', () => {
  it('wrong-reply-cid: replies come back on the byte-reversed channel', async () => {
    const bench = await Bench.create({ faults: [{ name: 'wrong-reply-cid' }] });
    benches.push(bench);
    const [reply] = bench.raw(report(0x11223344, [0x81, 0x00, 0x01, 0xaa]));
    expect(toHex(reply!.subarray(0, 8))).toBe('44332211810001aa');
  });

  it('wrong-init-nonce: INIT echoes the previous nonce', async () => {
    const bench = await Bench.create({ faults: [{ name: 'wrong-init-nonce' }] });
    benches.push(bench);
    const [first] = bench.raw(report(0xffffffff, [0x86, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]));
    const [second] = bench.raw(report(0xffffffff, [0x86, 0, 8, 9, 9, 9, 9, 9, 9, 9, 9]));
    expect(toHex(first!.subarray(7, 15))).toBe('0000000000000000');
    expect(toHex(second!.subarray(7, 15))).toBe('0102030405060708');
  });

  it('drop-frames: with probability 1 nothing arrives; 0.5 loses some', async () => {
    const all = await Bench.create({ faults: [{ name: 'drop-frames' }] });
    benches.push(all);
    expect(all.raw(report(0x100, [0x81, 0x00, 0x01, 0xaa]))).toEqual([]);

    const some = await Bench.create({ faults: [{ name: 'drop-frames', value: 0.5 }] });
    benches.push(some);
    const replies = some.send(0x100, 0x81, new Uint8Array(7609));
    expect(replies.length).toBeGreaterThan(20);
    expect(replies.length).toBeLessThan(110);
  });

  it('duplicate-frames: every report twice', async () => {
    const bench = await Bench.create({ faults: [{ name: 'duplicate-frames' }] });
    benches.push(bench);
    const replies = bench.raw(report(0x100, [0x81, 0x00, 0x01, 0xaa]));
    expect(replies.map(toHex)).toEqual([toHex(replies[0]!), toHex(replies[0]!)]);
  });

  it('reorder-frames: the last two reports of a reply change places', async () => {
    const bench = await Bench.create({ faults: [{ name: 'reorder-frames' }] });
    benches.push(bench);
    const replies = bench.send(0x100, 0x81, new Uint8Array(200));
    const sequence = replies
      .map((r) => decodeFrame(r))
      .map((f) => (f.type === 'init' ? 'i' : f.seq));
    expect(sequence).toEqual(['i', 0, 2, 1]);
  });

  it('stale-reply: a MSG gets the previous MSG reply', async () => {
    const { send, bench } = await withFaults(['stale-reply']);
    expect(toHex(send([0, 3, 0, 0]))).toBe('5532465f56329000');
    expect(toHex(send([0, 0x40, 0, 0]))).toBe('5532465f56329000');
    expect(toHex(send([0, 3, 0, 0]))).toBe('6d00');
    expect(bench.replies.length).toBeGreaterThan(0);
  });

  it('slow-reply: replies are held back by the given time', async () => {
    const bench = await Bench.create({ faults: [{ name: 'slow-reply', value: 150 }] });
    benches.push(bench);
    const started = performance.now();
    expect(bench.raw(report(0x100, [0x81, 0x00, 0x01, 0xaa]))).toEqual([]);
    expect(await until(() => bench.replies.length === 1, 2000)).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('busy-ignored: a second channel takes over and the first message is lost', async () => {
    const bench = await Bench.create({ faults: [{ name: 'busy-ignored' }] });
    benches.push(bench);
    bench.raw(report(0x100, [0x81, 0x00, 99]));
    const replies = bench.raw(report(0x200, [0x81, 0x00, 0x01, 0xbb]));
    expect(toHex(replies[0]!.subarray(0, 8))).toBe('00000200810001bb');
    expect(bench.raw(report(0x100, [0x00]))).toEqual([]); // A's continuation is now stray
  });

  it('keepalive-flood: KEEPALIVE reports before every MSG reply', async () => {
    const bench = await Bench.create({ faults: [{ name: 'keepalive-flood', value: 20 }] });
    benches.push(bench);
    const replies = bench.send(0x100, 0x83, [0, 3, 0, 0]);
    expect(replies).toHaveLength(21);
    expect(toHex(replies[0]!.subarray(0, 8))).toBe('00000100bb000101');
    expect(toHex(replies[20]!.subarray(0, 15))).toBe('00000100830008' + '5532465f56329000');
  });
});

describe('fault values', () => {
  it('a probability below 1 strikes some of the time, reproducibly', async () => {
    const run = async () => {
      const bench = await Bench.create({ faults: [{ name: 'presence-bit-clear', value: 0.5 }] });
      benches.push(bench);
      const cid = bench.allocate();
      const reg = parseRegistration(bench.apdu(cid, registerApdu()));
      return Array.from({ length: 40 }, () =>
        bench.apdu(cid, authenticateApdu(0x03, reg.keyHandle))[0]).join('');
    };
    const flags = await run();
    expect(flags).toMatch(/0/);
    expect(flags).toMatch(/1/);
    expect(await run()).toBe(flags);
  });

  it('rejects specs with values that do not fit', async () => {
    const spec = { name: 'drop-frames', value: 3 } as FaultSpec;
    await expect(Bench.create({ faults: [spec] })).rejects.toThrow(RangeError);
  });
});
