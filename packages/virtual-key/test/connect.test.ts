import { afterEach, describe, expect, it } from 'vitest';

import { ApduError, CtapHidChannel, TransportError, U2fDevice } from '@keybench/hid-transport';

import { VirtualKey } from '../src/index.js';
import { appParam, challengeParam, parseRegistration } from './u2f-helpers.js';

let key: VirtualKey | undefined;
afterEach(async () => {
  await key?.close();
  key = undefined;
});

describe('connect()', () => {
  it('serves hid-transport host code in process, on several connections at once', async () => {
    key = await VirtualKey.create();
    const [a, b] = await Promise.all([
      CtapHidChannel.open(key.connect()),
      CtapHidChannel.open(key.connect()),
    ]);
    expect(a.cid).not.toBe(b.cid);

    const u2fA = new U2fDevice(a);
    const u2fB = new U2fDevice(b);
    expect(await u2fA.version()).toBe('U2F_V2');
    const registration = parseRegistration(
      Uint8Array.of(...(await u2fB.register(challengeParam, appParam)), 0x90, 0x00),
    );
    const signature = await u2fA.authenticate(challengeParam, appParam, registration.keyHandle);
    expect(signature[0]).toBe(0x01);
    await expect(
      u2fB.authenticate(challengeParam, appParam, registration.keyHandle, { p1: 0x07 }),
    ).rejects.toMatchObject({ sw: 0x6985 } satisfies Partial<ApduError>);
    expect(key.counter).toBe(1);
  });

  it('closes its connections on close()', async () => {
    key = await VirtualKey.create();
    const connection = key.connect();
    await key.close();
    await expect(connection.read(10)).rejects.toBeInstanceOf(TransportError);
    expect(() => key!.connect()).toThrow(TransportError);
  });
});
