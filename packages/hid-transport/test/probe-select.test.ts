import { describe, expect, it } from 'vitest';

import {
  CtapHidChannel,
  TransportError,
  U2fDevice,
  findDeviceForHandle,
  probeKeyHandle,
  selectByTouch,
} from '../src/index.js';
import { fakeKey, message } from './support/scripted-connection.js';

const appParam = new Uint8Array(32).fill(0xa1);
const handleA = new Uint8Array(48).fill(0x0a);
const handleB = new Uint8Array(48).fill(0x0b);

/** A key answering MSG with `answer(apdu, count)`: a status word, or undefined for silence. */
async function keyWith(answer: (apdu: Uint8Array, count: number) => number | undefined) {
  let count = 0;
  const key = fakeKey({
    onRequest: ({ cid, cmd, payload }) => {
      const sw = answer(payload, ++count);
      if (sw === undefined) return;
      return message(cid, cmd, [...(sw === 0x9000 ? [0x05] : []), sw >> 8, sw & 0xff]);
    },
  });
  const channel = await CtapHidChannel.open(key.connection, {
    frameTimeoutMs: 80,
    readSliceMs: 10,
  });
  return { ...key, device: new U2fDevice(channel), count: () => count };
}

/** The key handle inside an AUTHENTICATE APDU. */
const handleOf = (apdu: Uint8Array) => apdu.subarray(7 + 65, 7 + 65 + apdu[7 + 64]!);
const holds = (handle: Uint8Array) => (apdu: Uint8Array) =>
  Buffer.from(handleOf(apdu)).equals(Buffer.from(handle)) ? 0x6985 : 0x6a80;

describe('key probing', () => {
  it('reads 0x6985 as "holds", 0x6a80 and 0x6700 as "not this key"', async () => {
    const a = await keyWith(holds(handleA));
    const b = await keyWith(() => 0x6700);
    expect(await probeKeyHandle(a.device, appParam, handleA)).toMatchObject({ holds: true });
    expect(await probeKeyHandle(a.device, appParam, handleB)).toMatchObject({
      holds: false,
      sw: 0x6a80,
    });
    expect(await probeKeyHandle(b.device, appParam, handleA)).toMatchObject({
      holds: false,
      sw: 0x6700,
    });
  });

  it('sends AUTHENTICATE check-only with P1 0x07 once per key', async () => {
    const a = await keyWith(() => 0x6a80);
    await probeKeyHandle(a.device, appParam, handleA);
    expect(a.requests).toHaveLength(1);
    expect(Buffer.from(a.requests[0]!.payload.subarray(0, 4)).toString('hex')).toBe('00020700');
  });

  it('finds the holder even when other keys misbehave, and reports every outcome', async () => {
    const silent = await keyWith(() => undefined);
    const odd = await keyWith(() => 0x6d00);
    const other = await keyWith(holds(handleB));
    const holder = await keyWith(holds(handleA));

    const { device, outcomes } = await findDeviceForHandle(
      [silent.device, odd.device, other.device, holder.device],
      appParam,
      handleA,
      { timeoutMs: 300 },
    );
    expect(device).toBe(holder.device);
    expect(outcomes.map((o) => o.holds)).toEqual([false, false, false, true]);
    expect(outcomes[0]).toMatchObject({ error: expect.any(TransportError) });
    expect(outcomes[1]).toMatchObject({ error: expect.objectContaining({ sw: 0x6d00 }) });
    expect(outcomes[2]).toMatchObject({ sw: 0x6a80 });
  });

  it('carries no state from one search into the next', async () => {
    let silentOnce = true;
    const flaky = await keyWith((apdu) => {
      if (silentOnce) {
        silentOnce = false;
        return undefined;
      }
      return holds(handleB)(apdu);
    });
    const holderA = await keyWith(holds(handleA));
    const devices = [flaky.device, holderA.device];

    const first = await findDeviceForHandle(devices, appParam, handleA, { timeoutMs: 300 });
    expect(first.device).toBe(holderA.device);
    const second = await findDeviceForHandle(devices, appParam, handleB, { timeoutMs: 300 });
    expect(second.device).toBe(flaky.device);
    const third = await findDeviceForHandle(devices, appParam, new Uint8Array(48), {
      timeoutMs: 300,
    });
    expect(third.device).toBeUndefined();
  });

  it('throws RangeError for a bad key handle instead of blaming the keys', async () => {
    const a = await keyWith(() => 0x6a80);
    await expect(findDeviceForHandle([a.device], appParam, new Uint8Array(0))).rejects.toThrow(
      RangeError,
    );
  });
});

describe('touch selection', () => {
  it('chooses the key touched first, drops failing keys and releases the others', async () => {
    const untouched = await keyWith(() => 0x6985);
    const touched = await keyWith((_apdu, count) => (count < 3 ? 0x6985 : 0x9000));
    const broken = await keyWith(() => 0x6d00);
    let prompts = 0;

    const chosen = await selectByTouch([untouched.device, touched.device, broken.device], {
      pollIntervalMs: 100,
      onTouchNeeded: () => prompts++,
    });
    expect(chosen).toBe(touched.device);
    expect(prompts).toBe(1);
    expect(untouched.connection.closed).toBe(true);
    expect(broken.connection.closed).toBe(true);
    expect(touched.connection.closed).toBe(false);

    // Polling of the untouched key stopped when the choice was made.
    const polled = untouched.count();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(untouched.count()).toBe(polled);
  });

  it('sends the same dummy REGISTER to every key', async () => {
    const a = await keyWith(() => 0x9000);
    const b = await keyWith(() => 0x6985);
    await selectByTouch([a.device, b.device], { closeOthers: false });
    expect(b.connection.closed).toBe(false);
    const apdu = Buffer.from(a.requests[0]!.payload);
    expect(apdu.subarray(0, 7).toString('hex')).toBe('00010300000040');
    expect(Buffer.from(b.requests[0]!.payload).equals(apdu)).toBe(true);
  });

  it('fails with "timeout" when nobody touches a key in time', async () => {
    const a = await keyWith(() => 0x6985);
    const error = await selectByTouch([a.device], { timeoutMs: 250, pollIntervalMs: 100 }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(TransportError);
    expect(error.kind).toBe('timeout');
  });

  it('fails with "not-found" when every key fails, naming each', async () => {
    const a = await keyWith(() => 0x6d00);
    const b = await keyWith(() => 0x6e00);
    const error = await selectByTouch([a.device, b.device]).catch((e) => e);
    expect(error.kind).toBe('not-found');
    expect(error.message).toMatch(/key 0: .*0x6d00.*key 1: .*0x6e00/);
  });

  it('stops when the caller aborts', async () => {
    const a = await keyWith(() => 0x6985);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await selectByTouch([a.device], {
      signal: controller.signal,
      pollIntervalMs: 100,
    }).catch((e) => e);
    expect(error.kind).toBe('aborted');
  });

  it('refuses an empty list', async () => {
    await expect(selectByTouch([])).rejects.toThrow(RangeError);
  });
});
