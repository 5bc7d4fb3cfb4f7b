import { CTAPHID, CTAPHID_ERR, MAX_MESSAGE_SIZE } from '@keybench/hid-transport';

import type { ConformanceCase } from '../case.js';
import type { TestContext } from '../context.js';
import { randomBytes } from '../context.js';
import { describeReply, hex32, type Padding } from '../raw-link.js';

/** Waits used by framing cases: generous against scheduling noise, short enough to be quick. */
const ERROR_WAIT_MS = 400;
const QUIET_MS = 600;

/** PINGs `payload` on the channel's CID and checks the echo byte for byte. */
export async function expectEcho(ctx: TestContext, payload: Uint8Array, padding: Padding = 0) {
  const cid = ctx.channel.cid;
  await ctx.raw.sendMessage(cid, CTAPHID.PING, payload, padding);
  const reply = await ctx.raw.readMessage(cid, 3000, `the ${payload.length}-byte PING echo`);
  ctx.check(
    reply.cmd === CTAPHID.PING && reply.bcnt === payload.length,
    `PING reply with BCNT ${payload.length} on cid ${hex32(cid)}`,
    () => describeReply(reply),
  );
  const first = reply.payload.findIndex((byte, i) => byte !== payload[i]);
  ctx.check(
    first < 0,
    `an exact echo of ${payload.length} bytes`,
    () => `first difference at byte ${first}`,
  );
  return reply;
}

const layer = 'framing' as const;
const none = [] as const;

export const FRAMING_CASES: readonly ConformanceCase[] = [
  {
    id: 'FR-01',
    layer,
    title: 'an idle device sends nothing (0.3 s after opening)',
    source: 'G-HID test_Idle; FA-HID P-1',
    person: none,
    run: (ctx) => ctx.raw.expectSilence(300, 'opening the channel'),
  },
  {
    id: 'FR-02',
    layer,
    title: 'a spurious continuation packet when idle is ignored (no reply within 1 s)',
    source: 'G-HID test_NotFirst; FA-HID P-2; CTAP 2.0 §8.1.5.4',
    person: none,
    run: async (ctx) => {
      await ctx.raw.send(ctx.raw.contPacket(ctx.channel.cid, 0, randomBytes(59)));
      const other = new DataView(randomBytes(4).buffer).getUint32(0) | 0x100;
      await ctx.raw.send(ctx.raw.contPacket(other, 0, randomBytes(59)));
      await ctx.raw.expectSilence(1000, 'two spurious continuation packets');
    },
  },
  {
    id: 'FR-03',
    layer,
    title: 'BCNT 7610 (one over the maximum) gets INVALID_LEN at once',
    source: 'G-HID test_Limits; SK-HID test_oversize_packet',
    person: none,
    run: async (ctx) => {
      const cid = ctx.channel.cid;
      await ctx.raw.send(
        ctx.raw.initPacket(cid, CTAPHID.PING, MAX_MESSAGE_SIZE + 1, new Uint8Array(57)),
      );
      await ctx.raw.expectError(cid, CTAPHID_ERR.INVALID_LEN, ERROR_WAIT_MS);
    },
  },
  {
    id: 'FR-04',
    layer,
    title: 'first continuation packet with SEQ 1 gets INVALID_SEQ, then silence',
    source: 'G-HID test_WrongSeq',
    person: none,
    run: async (ctx) => {
      const cid = ctx.channel.cid;
      const data = randomBytes(99);
      await ctx.raw.send(ctx.raw.initPacket(cid, CTAPHID.PING, 99, data));
      await ctx.raw.send(ctx.raw.contPacket(cid, 1, data.subarray(57)));
      await ctx.raw.expectError(cid, CTAPHID_ERR.INVALID_SEQ, ERROR_WAIT_MS);
      await ctx.raw.expectSilence(QUIET_MS, 'INVALID_SEQ');
    },
  },
  {
    id: 'FR-05',
    layer,
    title: 'continuation packets SEQ 0, 1, 3 (2 skipped) get INVALID_SEQ',
    source: 'SK-HID test_skip_sequence_number',
    person: none,
    run: async (ctx) => {
      const cid = ctx.channel.cid;
      const packets = ctx.raw.packets(cid, CTAPHID.PING, randomBytes(0x490));
      for (const index of [0, 1, 2, 4]) await ctx.raw.send(packets[index]!);
      await ctx.raw.expectError(cid, CTAPHID_ERR.INVALID_SEQ, ERROR_WAIT_MS);
    },
  },
  {
    id: 'FR-06',
    layer,
    title: '1024-byte PING whose last packet repeats SEQ 1 gets INVALID_SEQ',
    source: 'FA-HID F-4 (CTAP2 variant; the U2F variant really tests FR-07)',
    person: none,
    run: async (ctx) => {
      const cid = ctx.channel.cid;
      const packets = ctx.raw.packets(cid, CTAPHID.PING, randomBytes(1024));
      packets[packets.length - 1]![4] = 1;
      for (const packet of packets) await ctx.raw.send(packet);
      await ctx.raw.expectError(cid, CTAPHID_ERR.INVALID_SEQ, ERROR_WAIT_MS);
    },
  },
  {
    id: 'FR-07',
    layer,
    title: 'a second init packet while continuation is due gets INVALID_SEQ, then silence',
    source: 'G-HID test_NotCont; SK-HID test_not_cont',
    person: none,
    run: async (ctx) => {
      const cid = ctx.channel.cid;
      const packet = ctx.raw.initPacket(cid, CTAPHID.PING, 99, randomBytes(57));
      await ctx.raw.send(packet);
      await ctx.raw.send(packet);
      await ctx.raw.expectError(cid, CTAPHID_ERR.INVALID_SEQ, ERROR_WAIT_MS);
      await ctx.raw.expectSilence(QUIET_MS, 'INVALID_SEQ');
    },
  },
  {
    id: 'FR-08',
    layer,
    title: 'multi-packet PING of 1024, 1000, 512, 100 and 50 bytes is echoed exactly',
    source: 'G-HID test_LongEcho; SK-HID test_long_ping; FA-HID P-5, P-6',
    person: none,
    run: async (ctx) => {
      for (const length of [1024, 1000, 512, 100, 50]) await expectEcho(ctx, randomBytes(length));
    },
  },
  {
    id: 'FR-09',
    layer,
    title: 'PING of 58 bytes ending in 00 (one byte into a continuation packet) is echoed',
    source: 'FA-HID P-8',
    person: none,
    run: async (ctx) => {
      const payload = randomBytes(58);
      payload[57] = 0;
      await expectEcho(ctx, payload);
    },
  },
  {
    id: 'FR-10',
    layer,
    title: 'PING of 0 bytes, "hello world!" and 12 spaces is echoed with the same length',
    source: 'PF tests/device/test_hid.py test_ping',
    person: none,
    run: async (ctx) => {
      await expectEcho(ctx, new Uint8Array(0));
      await expectEcho(ctx, new TextEncoder().encode('hello world!'));
      await expectEcho(ctx, new Uint8Array(12).fill(0x20));
    },
  },
  {
    id: 'FR-11',
    layer,
    title: 'nothing follows a reply: no duplicate or stray packet for 0.6 s',
    source: 'G-HID test_Interleave, test_WrongSeq, test_NotCont',
    person: none,
    run: async (ctx) => {
      await expectEcho(ctx, randomBytes(100));
      await ctx.raw.expectSilence(QUIET_MS, 'the PING echo');
    },
  },
  {
    id: 'FR-12',
    layer,
    title: 'the report descriptor is FIDO: usage page F1D0, 64-byte input and output reports',
    source: 'G-HID test_Descriptor; PF tests/test_hid.py',
    person: none,
    run: async (ctx) => {
      const connection = ctx.channel.connection as { reportDescriptor?: () => Promise<Uint8Array> };
      const read = connection.reportDescriptor?.bind(connection);
      if (!read)
        return ctx.skip('this connection has no report descriptor (only hid:PATH devices do)');
      const descriptor = await read();
      const head = Buffer.from(descriptor.subarray(0, 5)).toString('hex');
      ctx.check(head === '06d0f10901', 'a descriptor starting 06 d0 f1 09 01', () => head);
    },
  },
  {
    id: 'FR-13',
    layer,
    title: 'padding after the payload is ignored (0xEE and random bytes)',
    source: 'OSK receive.rs test_nonzero_padding; G U2Fob_send, FA P-2 padding',
    person: none,
    run: async (ctx) => {
      await expectEcho(ctx, randomBytes(10), 0xee);
      await expectEcho(ctx, randomBytes(100), 'random');
    },
  },
  {
    id: 'FR-14',
    layer,
    title: 'a 7609-byte PING (129 packets, SEQ 0..0x7F) is echoed exactly',
    source: 'uncovered by public suites (conformance §3, framing limits)',
    person: none,
    run: async (ctx) => {
      const reply = await expectEcho(ctx, randomBytes(MAX_MESSAGE_SIZE));
      ctx.check(reply.frames === 129, 'the echo in 129 packets', () => `${reply.frames} packets`);
    },
  },
  {
    id: 'FR-15',
    layer,
    title: 'PING at boundary lengths 0, 56-58, 115-117, 7608, 7609 is echoed exactly',
    source: 'uncovered by public suites (conformance §3, framing limits)',
    person: none,
    run: async (ctx) => {
      for (const length of [0, 56, 57, 58, 115, 116, 117, 7608, 7609]) {
        await expectEcho(ctx, randomBytes(length));
      }
    },
  },
  {
    id: 'FR-16',
    layer,
    title: 'BCNT 0xFFFF gets INVALID_LEN at once',
    source: 'uncovered by public suites (conformance §3, framing limits)',
    person: none,
    run: async (ctx) => {
      const cid = ctx.channel.cid;
      await ctx.raw.send(ctx.raw.initPacket(cid, CTAPHID.PING, 0xffff, randomBytes(57)));
      await ctx.raw.expectError(cid, CTAPHID_ERR.INVALID_LEN, ERROR_WAIT_MS);
    },
  },
  {
    id: 'FR-17',
    layer,
    title: 'every command byte 0x80-0xFF: undefined ones get INVALID_CMD, vendor ones an answer',
    source: 'uncovered by public suites (conformance §3, command sweep)',
    person: none,
    run: async (ctx) => {
      // Defined commands are exercised by their own cases; CBOR and CANCEL belong to CTAP2.
      const defined = new Set<number>([0x81, 0x83, 0x84, 0x86, 0x88, 0x90, 0x91]);
      const cid = ctx.channel.cid;
      for (let cmd = 0x80; cmd <= 0xff; cmd++) {
        if (defined.has(cmd)) continue;
        const reply = await ctx.raw.exchange(cid, cmd, new Uint8Array(0), 1000);
        const invalid = reply.cmd === CTAPHID.ERROR && reply.payload[0] === CTAPHID_ERR.INVALID_CMD;
        const vendor = cmd >= 0xc0 && (reply.cmd === cmd || reply.cmd === CTAPHID.ERROR);
        ctx.check(
          invalid || vendor,
          `command 0x${cmd.toString(16)}: ERROR INVALID_CMD${cmd >= 0xc0 ? ' or a vendor reply' : ''}`,
          () => describeReply(reply),
        );
      }
    },
  },
];
