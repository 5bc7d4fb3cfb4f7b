import { afterEach, describe, expect, it } from 'vitest';

import { U2fClient, type VerifyAnswer } from '../src/client/client.js';
import { Fixtures } from './server-fixtures.js';

const fx = new Fixtures();
afterEach(() => fx.cleanup());

const CLIENTS = 20;
const EXCHANGES = 500;

describe('keybench serve under load', () => {
  it(`${CLIENTS} concurrent clients, ${EXCHANGES} exchanges: all verified, no 5xx, counters stored`, async () => {
    const server = await fx.server();
    const perClient = EXCHANGES / CLIENTS;
    const start = performance.now();

    // Each client is its own user with its own in-process key: one registration, then
    // `perClient` authentications, each a sign + verify round trip.
    const runs = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const key = await fx.key();
        const client = new U2fClient({
          server: server.url,
          device: key.device,
          username: `load-${i}`,
        });
        const keyHandle = await client.register();
        const answers: VerifyAnswer[] = [];
        for (let n = 0; n < perClient; n++) answers.push(await client.authenticate());
        return { username: client.username, keyHandle, answers };
      }),
    );
    const seconds = (performance.now() - start) / 1000;

    const verified = runs.flatMap((run) => run.answers);
    expect(verified).toHaveLength(EXCHANGES);
    expect(verified.every((a) => a.touch === 1)).toBe(true);
    expect(fx.logs.filter((l) => l.status >= 500)).toEqual([]);
    expect(fx.logs.filter((l) => l.status !== 200)).toEqual([]);
    expect(fx.logs).toHaveLength(CLIENTS * 2 + EXCHANGES * 2);

    for (const run of runs) {
      const counters = run.answers.map((a) => a.counter);
      expect(counters).toEqual([...counters].sort((a, b) => a - b));
      expect(new Set(counters).size).toBe(counters.length);
      const stored = server.store.keysOf(run.username, server.appId);
      expect(stored.map((k) => k.registration.keyHandle)).toEqual([run.keyHandle]);
      expect(stored[0]!.registration.counter).toBe(counters.at(-1));
    }

    // Reported, not asserted: the machine is shared. The test timeout bounds it.
    console.info(`load: ${EXCHANGES} exchanges by ${CLIENTS} clients in ${seconds.toFixed(2)} s`);
  }, 60_000);
});
