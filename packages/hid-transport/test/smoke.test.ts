import { describe, expect, it } from 'vitest';

import { CtapHidChannel, CTAPHID } from '../src/index.js';
import { echo, fakeKey } from './support/scripted-connection.js';

describe('smoke', () => {
  it('opens a channel and pings', async () => {
    const { connection } = fakeKey({ onRequest: echo });
    const channel = await CtapHidChannel.open(connection);
    expect(channel.cid).toBe(0x01020304);
    const data = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    expect(await channel.ping(data)).toEqual(data);
    expect(channel.info).toEqual({ protocolVersion: 2, deviceVersion: [5, 2, 1], capabilities: 5 });
    expect(CTAPHID.PING).toBe(0x81);
    await channel.close();
  });
});
