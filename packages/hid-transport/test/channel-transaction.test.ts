import { describe, expect, it } from 'vitest';

import {
  BROADCAST_CID,
  CTAPHID,
  CtapHidChannel,
  CtapHidError,
  KEEPALIVE_STATUS,
  MAX_MESSAGE_SIZE,
  type TraceEvent,
  TransportError,
  decodeFrame,
  toHex,
} from '../src/index.js';
import { echo, fakeKey, message, report } from './support/scripted-connection.js';

const CID = 0x01020304;
const fast = { frameTimeoutMs: 80, readSliceMs: 10, busyBackoffMs: 5 };
const pattern = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff);

/** Requests written after the INIT (the frames of our own requests). */
const afterInit = (written: Uint8Array[]) => written.slice(1).map(toHex);

describe('channel transactions', () => {
  it('sends a PING as init and continuation frames with exact bytes', async () => {
    const { connection } = fakeKey({ onRequest: echo });
    const channel = await CtapHidChannel.open(connection);
    const data = pattern(100);

    await channel.ping(data);
    const sent = afterInit(connection.written);
    expect(sent).toEqual([
      '01020304810064' + toHex(data.subarray(0, 57)),
      '0102030400' + toHex(data.subarray(57)) + '00'.repeat(59 - 43),
    ]);
  });

  it('ignores frames on other channels before and between the frames of our reply', async () => {
    const { connection } = fakeKey({
      onRequest: ({ cid, cmd, payload }) => {
        const [first, second, third] = message(cid, cmd, payload);
        return [
          report('0a0b0c0d 83 0002 6985'),
          first!,
          report('0a0b0c0d 00 ffff'),
          report('ffffffff 86 0011 0001020304050607 99999999 0201010101'),
          second!,
          report('cafebabe bb 0001 02'),
          third!,
        ];
      },
    });
    const channel = await CtapHidChannel.open(connection);
    const data = pattern(150);
    expect(await channel.ping(data)).toEqual(data);
  });

  it('skips a continuation frame on our cid that belongs to no message', async () => {
    const { connection } = fakeKey({
      onRequest: ({ cid, cmd, payload }) => [
        report('01020304 05 eeee'),
        ...message(cid, cmd, payload),
      ],
    });
    const channel = await CtapHidChannel.open(connection);
    expect(await channel.ping(Uint8Array.of(9))).toEqual(Uint8Array.of(9));
  });

  it('round-trips a 7609-byte message in 129 frames with seq 0..127', async () => {
    const { connection } = fakeKey({ onRequest: echo });
    const channel = await CtapHidChannel.open(connection);
    const data = pattern(MAX_MESSAGE_SIZE);

    expect(await channel.ping(data)).toEqual(data);
    const frames = connection.written.slice(1).map(decodeFrame);
    expect(frames).toHaveLength(129);
    expect(frames[0]).toMatchObject({ type: 'init', cmd: 0x81, bcnt: 7609 });
    expect(frames.slice(1).map((f) => (f.type === 'cont' ? f.seq : -1))).toEqual(
      Array.from({ length: 128 }, (_, i) => i),
    );
  });

  it('refuses a 7610-byte request before anything is sent', async () => {
    const { connection } = fakeKey({ onRequest: echo });
    const channel = await CtapHidChannel.open(connection);
    const before = connection.written.length;

    await expect(channel.ping(new Uint8Array(MAX_MESSAGE_SIZE + 1))).rejects.toThrow(RangeError);
    expect(connection.written.length).toBe(before);
  });

  it('turns an ERROR frame into CtapHidError with the named code', async () => {
    const { connection } = fakeKey({ onRequest: () => [report('01020304 bf 0001 01')] });
    const channel = await CtapHidChannel.open(connection);

    const error = await channel.wink().catch((e) => e);
    expect(error).toBeInstanceOf(CtapHidError);
    expect(error.code).toBe(0x01);
    expect(error.codeName).toBe('INVALID_CMD');
    expect(error.message).toMatch(/WINK: device answered ERROR 0x01 \(INVALID_CMD\)/);
  });

  it('retries CHANNEL_BUSY with the identical request, then succeeds', async () => {
    let calls = 0;
    const { connection, requests } = fakeKey({
      onRequest: ({ cid, cmd, payload }) => {
        calls++;
        return calls <= 2 ? [report('01020304 bf 0001 06')] : message(cid, cmd, payload);
      },
    });
    const channel = await CtapHidChannel.open(connection, fast);

    expect(await channel.ping(Uint8Array.of(1, 2))).toEqual(Uint8Array.of(1, 2));
    expect(requests).toHaveLength(3);
    const sent = afterInit(connection.written);
    expect(new Set(sent)).toEqual(new Set(['010203048100020102' + '00'.repeat(55)]));
  });

  it('gives up on CHANNEL_BUSY after the bounded number of retries', async () => {
    const { connection, requests } = fakeKey({
      onRequest: () => [report('01020304 bf 0001 06')],
    });
    const channel = await CtapHidChannel.open(connection, { ...fast, busyRetries: 3 });

    const error = await channel.ping(Uint8Array.of(1)).catch((e) => e);
    expect(error).toBeInstanceOf(CtapHidError);
    expect(error.code).toBe(0x06);
    expect(error.message).toMatch(/CHANNEL_BUSY\) after 4 tries/);
    expect(requests).toHaveLength(4);
  });

  it('lets keepalives reset the frame timer and reports each status change once', async () => {
    const statuses: number[] = [];
    const { connection } = fakeKey({
      onRequest: ({ cid, cmd, payload }, conn) => {
        const status = (s: number) => report(`01020304 bb 0001 0${s}`);
        let sent = 0;
        const timer = setInterval(() => {
          sent++;
          const s = sent < 5 ? 1 : sent < 10 ? 2 : 1;
          conn.push(status(s));
          if (sent === 14) {
            clearInterval(timer);
            conn.push(...message(cid, cmd, payload));
          }
        }, 20);
      },
    });
    const channel = await CtapHidChannel.open(connection, {
      ...fast,
      frameTimeoutMs: 60,
      onKeepalive: (s) => statuses.push(s),
    });

    const perCall: number[] = [];
    const data = Uint8Array.of(7);
    // 14 keepalives 20 ms apart: 280 ms in all, far beyond the 60 ms frame timeout.
    expect(await channel.ping(data, { onKeepalive: (s) => perCall.push(s) })).toEqual(data);
    const expected = [KEEPALIVE_STATUS.PROCESSING, KEEPALIVE_STATUS.UPNEEDED, 1];
    expect(statuses).toEqual(expected);
    expect(perCall).toEqual(expected);
  });

  it('ends a keepalive flood at the transaction deadline', async () => {
    let timer: NodeJS.Timeout | undefined;
    const { connection } = fakeKey({
      onRequest: (_request, conn) => {
        timer = setInterval(() => conn.push(report('01020304 bb 0001 01')), 10);
      },
    });
    const channel = await CtapHidChannel.open(connection, fast);
    try {
      const error = await channel.ping(Uint8Array.of(1), { timeoutMs: 150 }).catch((e) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect(error.kind).toBe('timeout');
      expect(error.message).toMatch(/no complete reply within 150 ms/);
    } finally {
      clearInterval(timer);
    }
  });

  it('times out a silent device at the frame timeout', async () => {
    const { connection } = fakeKey();
    const channel = await CtapHidChannel.open(connection, fast);
    const started = performance.now();
    const error = await channel.ping(Uint8Array.of(1)).catch((e) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toMatch(/no frame for 80 ms on cid 0x01020304/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('never reads a stale reply of a timed-out request as the next answer', async () => {
    let calls = 0;
    const { connection, initCount } = fakeKey({
      onRequest: ({ cid, cmd, payload }, conn) => {
        calls++;
        // The first request is answered late, after the host gave up.
        if (calls === 1) setTimeout(() => conn.push(...message(cid, cmd, payload)), 120);
        else return message(cid, cmd, payload);
      },
    });
    const channel = await CtapHidChannel.open(connection, fast);

    await expect(channel.ping(Uint8Array.of(0xaa))).rejects.toMatchObject({ kind: 'timeout' });
    await new Promise((resolve) => setTimeout(resolve, 150));

    expect(await channel.ping(Uint8Array.of(0xbb))).toEqual(Uint8Array.of(0xbb));
    expect(initCount()).toBe(2);
    expect(channel.cid).toBe(0x01020305);
    const kinds = connection.written.map((w) => decodeFrame(w).cid === BROADCAST_CID);
    expect(kinds).toEqual([true, false, true, false]);
  });

  it('still ignores a late reply on the old cid that arrives after the re-INIT', async () => {
    let calls = 0;
    let late: Uint8Array[] = [];
    const { connection } = fakeKey({
      onRequest: ({ cid, cmd, payload }) => {
        calls++;
        if (calls === 1) {
          late = message(cid, cmd, payload);
          return;
        }
        return [...late, ...message(cid, cmd, payload)];
      },
    });
    const channel = await CtapHidChannel.open(connection, fast);
    await expect(channel.ping(Uint8Array.of(1))).rejects.toMatchObject({ kind: 'timeout' });
    expect(await channel.ping(Uint8Array.of(2))).toEqual(Uint8Array.of(2));
  });

  it('throws on a continuation with the wrong sequence number, then re-INITs', async () => {
    let calls = 0;
    const { connection, initCount } = fakeKey({
      onRequest: ({ cid, cmd, payload }) => {
        calls++;
        const frames = message(cid, cmd, payload);
        if (calls === 1) frames[1]![4] = 0x01;
        return frames;
      },
    });
    const channel = await CtapHidChannel.open(connection, fast);

    const error = await channel.ping(pattern(100)).catch((e) => e);
    expect(error).toBeInstanceOf(CtapHidError);
    expect(error.message).toMatch(/seq 1, expected 0/);
    expect(await channel.ping(pattern(100))).toEqual(pattern(100));
    expect(initCount()).toBe(2);
  });

  it('takes an ERROR frame in the middle of a reply as the answer', async () => {
    const { connection } = fakeKey({
      onRequest: ({ cid, cmd, payload }) => [
        message(cid, cmd, payload)[0]!,
        report('01020304 bf 0001 05'),
      ],
    });
    const channel = await CtapHidChannel.open(connection, fast);
    await expect(channel.ping(pattern(100))).rejects.toMatchObject({ code: 0x05 });
  });

  it('throws when a new message starts before the reply is complete', async () => {
    const { connection } = fakeKey({
      onRequest: ({ cid, cmd, payload }) => [
        message(cid, cmd, payload)[0]!,
        ...message(cid, cmd, payload.subarray(1)),
      ],
    });
    const channel = await CtapHidChannel.open(connection, fast);
    await expect(channel.ping(pattern(100))).rejects.toThrow(/reply was incomplete/);
  });

  it('skips a frame sent twice in a row (firmware re-queueing a report)', async () => {
    const notes: string[] = [];
    const { connection } = fakeKey({
      onRequest: ({ cid, cmd, payload }) =>
        message(cid, cmd, payload).flatMap((frame) => [frame, frame]),
    });
    const channel = await CtapHidChannel.open(connection, {
      ...fast,
      trace: (e) => e.note && notes.push(e.note),
    });
    const data = pattern(200);

    expect(await channel.ping(data)).toEqual(data);
    expect(await channel.ping(pattern(10))).toEqual(pattern(10));
    expect(notes.filter((n) => n.startsWith('duplicate'))).toHaveLength(3);
    expect(notes.filter((n) => n.startsWith('queued before'))).toHaveLength(1);
  });

  it('discards reports queued before a request instead of reading them as its answer', async () => {
    const { connection } = fakeKey({ onRequest: echo });
    const channel = await CtapHidChannel.open(connection, fast);
    connection.push(...message(CID, CTAPHID.PING, [0xee]));

    expect(await channel.ping(Uint8Array.of(0x11))).toEqual(Uint8Array.of(0x11));
  });

  it('discards a stale reply queued behind a report of the wrong length', async () => {
    const { connection } = fakeKey({ onRequest: echo });
    const channel = await CtapHidChannel.open(connection, fast);
    connection.push(new Uint8Array(10), ...message(CID, CTAPHID.PING, [0xee]));

    expect(await channel.ping(Uint8Array.of(0x11))).toEqual(Uint8Array.of(0x11));
    expect(channel.droppedReports).toBe(1);
  });

  it('says so when an ERROR frame carries no code byte', async () => {
    const { connection } = fakeKey({
      onRequest: ({ cid }) => [report(`${cid.toString(16).padStart(8, '0')} bf 0000`)],
    });
    const channel = await CtapHidChannel.open(connection, fast);
    const error = await channel.ping(Uint8Array.of(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CtapHidError);
    expect((error as CtapHidError).message).toMatch(/ERROR without a code byte/);
  });

  it('fails with "closed" at once when the device goes away mid-transaction', async () => {
    const { connection } = fakeKey({
      onRequest: (_request, conn) => {
        setTimeout(() => void conn.close(), 5);
      },
    });
    const channel = await CtapHidChannel.open(connection, { ...fast, frameTimeoutMs: 5000 });
    const started = performance.now();
    await expect(channel.ping(Uint8Array.of(1), { timeoutMs: 5000 })).rejects.toMatchObject({
      name: 'TransportError',
      kind: 'closed',
    });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('throws when the reply is another command', async () => {
    const { connection } = fakeKey({
      onRequest: ({ cid, payload }) => message(cid, CTAPHID.MSG, payload),
    });
    const channel = await CtapHidChannel.open(connection, fast);
    await expect(channel.ping(Uint8Array.of(1))).rejects.toThrow(/expected reply PING, got MSG/);
  });

  it('drops short reads, counts them and still completes', async () => {
    const { connection } = fakeKey({
      onRequest: ({ cid, cmd, payload }) => {
        const [first, second] = message(cid, cmd, payload);
        return [first!.subarray(0, 63), first!, new Uint8Array(32), second!];
      },
    });
    const trace: TraceEvent[] = [];
    const channel = await CtapHidChannel.open(connection, { ...fast, trace: (e) => trace.push(e) });
    const data = pattern(80);

    expect(await channel.ping(data)).toEqual(data);
    expect(channel.droppedReports).toBe(2);
    expect(trace.filter((e) => e.direction === 'drop').map((e) => e.note)).toEqual([
      'expected 64 bytes, got 63',
      'expected 64 bytes, got 32',
    ]);
  });

  it('stops waiting when the AbortSignal fires, and re-INITs before the next request', async () => {
    const { connection, initCount } = fakeKey({
      onRequest: ({ cid, cmd, payload }) =>
        payload[0] === 2 ? message(cid, cmd, payload) : undefined,
    });
    const channel = await CtapHidChannel.open(connection, { ...fast, frameTimeoutMs: 5000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 40);

    const started = performance.now();
    const error = await channel
      .ping(Uint8Array.of(1), { signal: controller.signal })
      .catch((e) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error.kind).toBe('aborted');
    expect(performance.now() - started).toBeLessThan(1000);

    expect(await channel.ping(Uint8Array.of(2))).toEqual(Uint8Array.of(2));
    expect(initCount()).toBe(2);
  });

  it('sends WINK and LOCK with their exact bytes', async () => {
    const { connection } = fakeKey({ onRequest: ({ cid, cmd }) => message(cid, cmd, []) });
    const channel = await CtapHidChannel.open(connection);

    await channel.wink();
    await channel.lock(10);
    await channel.lock(0);
    expect(afterInit(connection.written)).toEqual([
      '01020304880000' + '00'.repeat(57),
      '010203048400010a' + '00'.repeat(56),
      '01020304840001' + '00'.repeat(57),
    ]);
    await expect(channel.lock(256)).rejects.toThrow(RangeError);
  });

  it('serialises concurrent transactions', async () => {
    const { connection } = fakeKey({ onRequest: echo });
    const channel = await CtapHidChannel.open(connection);
    const replies = await Promise.all(
      [1, 2, 3, 4].map((n) => channel.ping(pattern(n * 70))),
    );
    expect(replies.map((r) => r.length)).toEqual([70, 140, 210, 280]);
  });

  it('traces every frame out and in as hex with time', async () => {
    const trace: TraceEvent[] = [];
    const { connection } = fakeKey({ onRequest: echo });
    const channel = await CtapHidChannel.open(connection, { trace: (e) => trace.push(e) });
    await channel.ping(Uint8Array.of(0x42));

    expect(trace.map((e) => e.direction)).toEqual(['out', 'in', 'out', 'in']);
    expect(trace[2]!.hex).toBe('01020304810001' + '42' + '00'.repeat(56));
    expect(trace.every((e) => e.hex.length === 128 && typeof e.time === 'number')).toBe(true);
  });

  it('offers a raw frame API for the conformance suite', async () => {
    const { connection } = fakeKey();
    const channel = await CtapHidChannel.open(connection);

    await channel.sendFrame(report('01020304 81 0001 55'));
    connection.push(report('01020304 81 0001 55'));
    const received = await channel.receiveFrame(100);
    expect(toHex(received!)).toBe('01020304810001' + '55' + '00'.repeat(56));
    expect(await channel.receiveFrame(10)).toBeNull();
    await expect(channel.sendFrame(new Uint8Array(63))).rejects.toThrow(RangeError);

    connection.push(report('0a0b0c0d 00'), report('0a0b0c0d 01'));
    expect(await channel.drain()).toBe(2);

    await channel.reinit();
    expect(channel.cid).toBe(0x01020305);
  });

  it('throws TransportError("closed") after close', async () => {
    const { connection } = fakeKey({ onRequest: echo });
    const channel = await CtapHidChannel.open(connection);
    await channel.close();
    expect(connection.closed).toBe(true);
    await expect(channel.ping(Uint8Array.of(1))).rejects.toMatchObject({ kind: 'closed' });
    await channel.close();
  });

  it('checks its arguments', async () => {
    const { connection } = fakeKey({ onRequest: echo });
    const channel = await CtapHidChannel.open(connection);
    await expect(channel.transaction(0x05, new Uint8Array(0))).rejects.toThrow(RangeError);
    await expect(channel.transaction(CTAPHID.PING, [1] as never)).rejects.toThrow(TypeError);
    expect(connection.written).toHaveLength(1);
    expect(CID).toBe(channel.cid);
  });
});
