import { describe, expect, it } from 'vitest';

import {
  ApduError,
  CTAPHID,
  CtapHidChannel,
  TransportError,
  U2fDevice,
  decodeMessage,
  toHex,
} from '../src/index.js';
import { fakeKey, message } from './support/scripted-connection.js';

const challengeParam = new Uint8Array(32).fill(0xc1);
const appParam = new Uint8Array(32).fill(0xa1);
const keyHandle = new Uint8Array(64).fill(0x4b);

/** A key that answers every MSG with the next status word in `answers` (data before 9000). */
async function scriptedKey(answers: number[], data = Uint8Array.of(0x05, 0x04)) {
  let i = 0;
  const key = fakeKey({
    onRequest: ({ cid, cmd }) => {
      const sw = answers[Math.min(i++, answers.length - 1)]!;
      const body = sw === 0x9000 ? [...data] : [];
      return message(cid, cmd, [...body, sw >> 8, sw & 0xff]);
    },
  });
  const channel = await CtapHidChannel.open(key.connection, { frameTimeoutMs: 200 });
  return { ...key, device: new U2fDevice(channel) };
}

/** The APDUs carried by the MSG requests the key received, as hex. */
const apdus = (requests: { cmd: number; payload: Uint8Array }[]) =>
  requests.filter((r) => r.cmd === CTAPHID.MSG).map((r) => toHex(r.payload));

describe('U2F commands', () => {
  it('VERSION sends 00 03 00 00 00 00 00 and decodes U2F_V2', async () => {
    const { device, requests, connection } = await scriptedKey(
      [0x9000],
      new TextEncoder().encode('U2F_V2'),
    );
    expect(await device.version()).toBe('U2F_V2');
    expect(apdus(requests)).toEqual(['00030000000000']);
    expect(toHex(connection.written[1]!)).toBe(
      '01020304830007' + '00030000000000' + '00'.repeat(50),
    );
  });

  it('VERSION retries in the 9-byte form when a key answers the 7-byte form 6700', async () => {
    const key = fakeKey({
      onRequest: ({ cid, cmd, payload }) =>
        message(cid, cmd, payload.length === 7 ? [0x67, 0x00] : [0x55, 0x32, 0x46, 0x90, 0x00]),
    });
    const device = new U2fDevice(await CtapHidChannel.open(key.connection));
    expect(await device.version()).toBe('U2F');
    expect(apdus(key.requests)).toEqual(['00030000000000', '000300000000000000']);
  });

  it('REGISTER sends exact MSG frames and returns registrationData without the SW', async () => {
    const { device, connection } = await scriptedKey([0x9000], Uint8Array.of(0x05, 0xee));
    const data = await device.register(challengeParam, appParam);
    expect(toHex(data)).toBe('05ee');

    const apdu = '00010300000040' + 'c1'.repeat(32) + 'a1'.repeat(32) + '0000';
    const sent = decodeMessage(connection.written.slice(1));
    expect(sent.cmd).toBe(0x83);
    expect(toHex(sent.payload)).toBe(apdu);
    expect(toHex(connection.written[1]!)).toBe('01020304830049' + apdu.slice(0, 114));
    expect(toHex(connection.written[2]!)).toBe('0102030400' + apdu.slice(114) + '00'.repeat(43));
  });

  it('re-sends the same REGISTER on 6985 until touched; onTouchNeeded fires once', async () => {
    const { device, requests } = await scriptedKey([0x6985, 0x6985, 0x6985, 0x9000]);
    let prompts = 0;
    const started = performance.now();

    await device.register(challengeParam, appParam, {
      pollIntervalMs: 100,
      onTouchNeeded: () => prompts++,
    });
    expect(prompts).toBe(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    const sent = apdus(requests);
    expect(sent).toHaveLength(4);
    expect(new Set(sent).size).toBe(1);
  });

  it('gives up at the touch deadline with TransportError("timeout")', async () => {
    const { device, requests } = await scriptedKey([0x6985]);
    const error = await device
      .register(challengeParam, appParam, { timeoutMs: 250, pollIntervalMs: 100 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error.kind).toBe('timeout');
    expect(error.message).toMatch(/no user presence \(touch\) within 250 ms/);
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(requests.length).toBeLessThanOrEqual(4);
  });

  it('lets the caller cancel the touch wait', async () => {
    const { device } = await scriptedKey([0x6985]);
    const controller = new AbortController();
    const error = await device
      .register(challengeParam, appParam, {
        signal: controller.signal,
        pollIntervalMs: 100,
        onTouchNeeded: () => controller.abort(),
      })
      .catch((e) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error.kind).toBe('aborted');
  });

  it('AUTHENTICATE with P1 0x03 sends challenge, app, length and handle', async () => {
    const { device, requests } = await scriptedKey([0x6985, 0x9000], Uint8Array.of(1, 0, 0, 0, 9));
    const signature = await device.authenticate(challengeParam, appParam, keyHandle, {
      pollIntervalMs: 100,
    });
    expect(toHex(signature)).toBe('0100000009');
    const apdu =
      '00020300000081' + 'c1'.repeat(32) + 'a1'.repeat(32) + '40' + '4b'.repeat(64) + '0000';
    expect(apdus(requests)).toEqual([apdu, apdu]);
  });

  it('AUTHENTICATE check-only (P1 0x07) sends once and throws ApduError 0x6985', async () => {
    const { device, requests } = await scriptedKey([0x6985]);
    const error = await device
      .authenticate(challengeParam, appParam, keyHandle, { p1: 0x07 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(ApduError);
    expect(error.sw).toBe(0x6985);
    expect(error.swName).toBe('CONDITIONS_NOT_SATISFIED');
    expect(apdus(requests)).toHaveLength(1);
    expect(apdus(requests)[0]!.slice(0, 8)).toBe('00020700');
  });

  it('AUTHENTICATE with P1 0x08 sends 00 02 08 00', async () => {
    const { device, requests } = await scriptedKey([0x9000]);
    await device.authenticate(challengeParam, appParam, Uint8Array.of(7), { p1: 0x08 });
    expect(apdus(requests)[0]).toBe(
      '00020800000042' + 'c1'.repeat(32) + 'a1'.repeat(32) + '0107' + '0000',
    );
  });

  it('throws ApduError naming the status word for a bad key handle', async () => {
    const { device } = await scriptedKey([0x6a80]);
    await expect(device.authenticate(challengeParam, appParam, keyHandle)).rejects.toThrow(
      'apdu: status 0x6a80 (WRONG_DATA), expected 0x9000',
    );
  });

  it('uses the short APDU form when asked', async () => {
    const key = fakeKey({
      onRequest: ({ cid, cmd }) => message(cid, cmd, [0x90, 0x00]),
    });
    const channel = await CtapHidChannel.open(key.connection);
    const device = new U2fDevice(channel, { apduEncoding: 'short' });
    await device.register(challengeParam, appParam);
    expect(apdus(key.requests)).toEqual(['0001030040' + 'c1'.repeat(32) + 'a1'.repeat(32) + '00']);
  });

  it('sendApdu returns data and status without judging it', async () => {
    const { device } = await scriptedKey([0x6d00]);
    expect(await device.sendApdu({ ins: 0x55 })).toEqual({ data: new Uint8Array(0), sw: 0x6d00 });
  });

  it('rejects parameters of the wrong size before sending', async () => {
    const { device, requests } = await scriptedKey([0x9000]);
    await expect(device.register(new Uint8Array(31), appParam)).rejects.toThrow(RangeError);
    await expect(
      device.authenticate(challengeParam, appParam, new Uint8Array(256)),
    ).rejects.toThrow(/keyHandle must be 1..255 bytes/);
    await expect(device.authenticate(challengeParam, appParam, new Uint8Array(0))).rejects.toThrow(
      RangeError,
    );
    expect(requests).toHaveLength(0);
  });
});
