import { describe, expect, it } from 'vitest';

import {
  BROADCAST_CID,
  CTAPHID,
  CtapHidChannel,
  CtapHidError,
  TransportError,
  decodeFrame,
  toHex,
} from '../src/index.js';
import {
  ScriptedConnection,
  echo,
  fakeKey,
  message,
  report,
} from './support/scripted-connection.js';

/** An INIT reply on broadcast for `nonce` assigning `cid`, with optional extra bytes. */
function initReply(nonce: Uint8Array, cid: number, extra: number[] = []) {
  return message(BROADCAST_CID, CTAPHID.INIT, [
    ...nonce,
    cid >>> 24,
    (cid >>> 16) & 0xff,
    (cid >>> 8) & 0xff,
    cid & 0xff,
    0x02,
    0x01,
    0x02,
    0x03,
    0x01,
    ...extra,
  ]);
}

const nonceOf = (written: Uint8Array) => written.slice(7, 15);

describe('channel INIT', () => {
  it('sends INIT on broadcast as ffffffff 86 0008 <8-byte nonce> with zero padding', async () => {
    const { connection } = fakeKey();
    await CtapHidChannel.open(connection);

    expect(connection.written).toHaveLength(1);
    const hex = toHex(connection.written[0]!);
    expect(hex.slice(0, 14)).toBe('ffffffff860008');
    expect(hex.slice(30)).toBe('00'.repeat(49));
  });

  it('uses a fresh random nonce for every INIT', async () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const { connection } = fakeKey();
      await CtapHidChannel.open(connection);
      nonces.add(toHex(nonceOf(connection.written[0]!)));
    }
    expect(nonces.size).toBe(5);
  });

  it('drains stale reports queued before INIT', async () => {
    const { connection } = fakeKey();
    const stale = [
      report('51e9e730 00 aabbcc'),
      report('01020304 83 0002 9000'),
      report('ffffffff 86 0011 0102030405060708 cafebabe 0201020301'),
    ];
    connection.push(...stale);

    const channel = await CtapHidChannel.open(connection);
    expect(channel.cid).toBe(0x01020304);
    expect(connection.pending).toBe(0);
  });

  it('skips an INIT reply carrying someone else nonce, then takes ours', async () => {
    const connection = new ScriptedConnection((written, conn) => {
      const nonce = nonceOf(written);
      const foreign = Uint8Array.from(nonce, (b) => b ^ 0xff);
      conn.push(...initReply(foreign, 0x0badf00d), ...initReply(nonce, 0x11223344));
    });
    const channel = await CtapHidChannel.open(connection);
    expect(channel.cid).toBe(0x11223344);
  });

  it('skips frames for other channels and non-INIT frames on broadcast while waiting', async () => {
    const connection = new ScriptedConnection((written, conn) => {
      conn.push(
        report('0a0b0c0d 83 0002 6985'),
        report('ffffffff 81 0001 00'),
        report('ffffffff 05 00'),
        report('ffffffff bf 0001 0b'),
        ...initReply(nonceOf(written), 0x11223344),
      );
    });
    const channel = await CtapHidChannel.open(connection);
    expect(channel.cid).toBe(0x11223344);
  });

  it('accepts an INIT reply longer than 17 bytes, also one spanning two frames', async () => {
    const { connection } = fakeKey({ initExtra: [0xaa, 0xbb, 0xcc] });
    const channel = await CtapHidChannel.open(connection);
    expect(channel.cid).toBe(0x01020304);

    const long = fakeKey({ initExtra: Array.from({ length: 60 }, (_, i) => i) });
    const longChannel = await CtapHidChannel.open(long.connection);
    expect(longChannel.cid).toBe(0x01020304);
    expect(longChannel.info.capabilities).toBe(0x05);
  });

  it('skips an INIT reply shorter than 17 bytes and times out naming it', async () => {
    const connection = new ScriptedConnection((written, conn) => {
      const nonce = toHex(nonceOf(written));
      conn.push(report(`ffffffff 86 000c ${nonce} 01020304`));
    });
    const error = await CtapHidChannel.open(connection, { initTimeoutMs: 60 }).catch((e) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error.kind).toBe('timeout');
    expect(error.message).toMatch(/INIT reply of 12 bytes, expected at least 17/);
  });

  it('takes a cid whose first byte is 0x00 and uses all four bytes on the wire', async () => {
    const { connection } = fakeKey({ cids: [0x00123456], onRequest: echo });
    const channel = await CtapHidChannel.open(connection);
    expect(channel.cid).toBe(0x00123456);

    await channel.ping(Uint8Array.of(1, 2, 3));
    expect(toHex(connection.written[1]!)).toBe('00123456810003010203' + '00'.repeat(54));
  });

  it.each([
    [0x00000000, '0x00000000'],
    [0xffffffff, '0xffffffff'],
  ])('refuses the reserved cid %s', async (cid, text) => {
    const { connection } = fakeKey({ cids: [cid] });
    const error = await CtapHidChannel.open(connection).catch((e) => e);
    expect(error).toBeInstanceOf(CtapHidError);
    expect(error.message).toContain(`reserved cid ${text}`);
  });

  it('exposes protocol version, device version and capabilities', async () => {
    const { connection } = fakeKey({ initTail: [0x02, 0x04, 0x07, 0x09, 0x03] });
    const channel = await CtapHidChannel.open(connection);
    expect(channel.info).toEqual({
      protocolVersion: 2,
      deviceVersion: [4, 7, 9],
      capabilities: 0x03,
    });
  });

  it('retries INIT with a new nonce after CHANNEL_BUSY on broadcast', async () => {
    let inits = 0;
    const connection = new ScriptedConnection((written, conn) => {
      inits++;
      if (inits === 1) conn.push(report('ffffffff bf 0001 06'));
      else conn.push(...initReply(nonceOf(written), 0x31323334));
    });
    const channel = await CtapHidChannel.open(connection, { busyBackoffMs: 5 });
    expect(channel.cid).toBe(0x31323334);
    expect(inits).toBe(2);
    expect(toHex(nonceOf(connection.written[0]!))).not.toBe(
      toHex(nonceOf(connection.written[1]!)),
    );
  });

  it('names an ERROR without a code byte on broadcast plainly when INIT times out', async () => {
    const connection = new ScriptedConnection((_written, conn) => {
      conn.push(report('ffffffff bf 0000'));
    });
    const options = { initTimeoutMs: 40, readSliceMs: 10 };
    const error = await CtapHidChannel.open(connection, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as Error).message).toMatch(/last unexpected frame: ERROR without a code byte/);
  });

  it('times out when the device never answers INIT', async () => {
    const connection = new ScriptedConnection();
    const started = performance.now();
    const error = await CtapHidChannel.open(connection, { initTimeoutMs: 80 }).catch((e) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error.kind).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(decodeFrame(connection.written[0]!).cid).toBe(BROADCAST_CID);
  });

  it('rejects bad options with RangeError', async () => {
    const connection = new ScriptedConnection();
    await expect(CtapHidChannel.open(connection, { frameTimeoutMs: -1 })).rejects.toThrow(
      RangeError,
    );
    await expect(CtapHidChannel.open(connection, { busyRetries: 1.5 })).rejects.toThrow(
      RangeError,
    );
  });
});
