import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { serveUdp, VirtualKey, type VirtualKeyOptions } from '@keybench/virtual-key';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { runCountersOnDevice, type DeviceCountersOutcome } from '../src/counters/index.js';
import { parseDeviceSpec } from '../src/device-spec.js';
import { openHistory, type HistoryStore } from '../src/history/index.js';

const APP_ID = 'https://keybench.example/counters';

interface RunningKey {
  port: number;
  stop(): Promise<void>;
}

let dir: string;
let store: HistoryStore;
const keys: RunningKey[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keybench-counters-'));
  store = openHistory(join(dir, 'history.db'));
});

afterEach(async () => {
  await Promise.all(keys.splice(0).map((key) => key.stop()));
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function startKey(options: VirtualKeyOptions = {}): Promise<RunningKey> {
  const key = await VirtualKey.create(options);
  const server = await serveUdp(key, { port: 0 });
  let stopped = false;
  const running = {
    port: server.port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await key.close();
    },
  };
  keys.push(running);
  return running;
}

async function run(
  specs: string[],
  options: { rounds?: number; credentials?: number } = {},
): Promise<{ runId: number; outcomes: DeviceCountersOutcome[] }> {
  const runId = store.startRun({ command: 'counters' });
  const outcomes = await Promise.all(
    specs.map((spec) =>
      runCountersOnDevice(parseDeviceSpec(spec), store, runId, {
        rounds: options.rounds ?? 3,
        credentials: options.credentials ?? 2,
        appId: APP_ID,
        origin: 'https://keybench.example',
        timeoutMs: 2_000,
      }),
    ),
  );
  store.finishRun(runId, { status: 'passed' });
  return { runId, outcomes };
}

const udp = (key: RunningKey) => `udp:127.0.0.1:${key.port}`;
const failures = (outcome: DeviceCountersOutcome) =>
  outcome.findings.filter((f) => f.severity === 'fail');

describe('keybench counters on virtual keys', () => {
  it('registers credentials on first use and reuses them after a restart from the state file', async () => {
    const stateFile = join(dir, 'key.json');
    let key = await startKey({ stateFile });
    const first = (await run([udp(key)])).outcomes[0]!;
    await key.stop();
    key = await startKey({ stateFile });
    const { runId, outcomes } = await run([udp(key)]);
    const second = outcomes[0]!;

    expect(first.exitCode).toBe(0);
    expect(first.credentials.map((c) => c.reused)).toEqual([false, false]);
    expect(second.exitCode).toBe(0);
    expect(second.error).toBeUndefined();
    expect(second.deviceId).toBe(first.deviceId);
    expect(second.credentials.map((c) => c.id)).toEqual(first.credentials.map((c) => c.id));
    expect(second.credentials.every((c) => c.reused)).toBe(true);
    expect(second.credentials[0]!.first).toBeGreaterThan(first.credentials[0]!.last!);
    expect(second.credentials[0]!.historyValue).toBe(first.credentials[0]!.last);
    expect(second.summary).toMatchObject({ scope: 'global', step: 1, constantStep: true });
    expect(second.summary!.probes.map((p) => [p.kind, p.statusWord, p.verdict])).toEqual([
      ['check-only', 0x6985, 'ok'],
      ['foreign-handle', 0x6a80, 'ok'],
    ]);
    expect(store.findings({ runId })).toEqual([]);
    // Every signature was stored as it happened: K + probes·… per run, all with values.
    const signs = store.counterObservations({ runId }).filter((o) => o.event === 'sign');
    expect(signs).toHaveLength(3 * 2 + 2);
  });

  it('finds exactly one history regression when the counter resets on restart', async () => {
    const stateFile = join(dir, 'key.json');
    let key = await startKey({ stateFile });
    const before = await run([udp(key)], { credentials: 1 });
    await key.stop();
    key = await startKey({ stateFile, faults: [{ name: 'counter-reset-on-restart' }] });
    const after = await run([udp(key)], { credentials: 1 });
    const outcome = after.outcomes[0]!;
    const credential = outcome.credentials[0]!;

    expect(outcome.exitCode).toBe(1);
    expect(failures(outcome)).toHaveLength(1);
    expect(failures(outcome)[0]).toMatchObject({
      kind: 'history-regression',
      credentialId: credential.id,
      value: 1,
      previousValue: before.outcomes[0]!.credentials[0]!.last,
      previousRunId: before.runId,
    });
    expect(failures(outcome)[0]!.message).toMatch(
      new RegExp(
        `credential #${credential.id} .*: counter 1 in run ${after.runId} is lower than \\d+, .* in run ${before.runId}`,
      ),
    );
    expect(store.findings({ severity: 'fail' })).toHaveLength(1);
  });

  it('tells per-credential counters apart and sees the shared-counter fault as global', async () => {
    const perCredential = await startKey({ counterMode: 'per-credential' });
    const shared = await startKey({
      counterMode: 'per-credential',
      faults: [{ name: 'counter-shared' }],
    });
    const { outcomes } = await run([udp(perCredential), udp(shared)]);

    expect(outcomes[0]!.summary!.scope).toBe('per-credential');
    expect(outcomes[1]!.summary!.scope).toBe('global');
    expect(outcomes.map((o) => o.exitCode)).toEqual([0, 0]);
  });

  it('reports a wrap near 2^32 as a regression', async () => {
    const key = await startKey({ faults: [{ name: 'counter-wrap', value: 0xfffffffd }] });
    const outcome = (await run([udp(key)], { credentials: 1 })).outcomes[0]!;

    expect(outcome.exitCode).toBe(1);
    expect(outcome.summary!.wrapped).toBe(true);
    expect(failures(outcome).map((f) => f.kind)).toEqual(['wrap']);
    expect(failures(outcome)[0]).toMatchObject({ previousValue: 0xffffffff, value: 0 });
  });

  it('reports a key that stops signing at 0xffffffff as conforming', async () => {
    const stateFile = join(dir, 'key.json');
    const first = await startKey({ stateFile });
    await first.stop();
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { counter: number };
    state.counter = 0xfffffffc;
    writeFileSync(stateFile, JSON.stringify(state));
    const key = await startKey({ stateFile });

    const outcome = (await run([udp(key)], { credentials: 1 })).outcomes[0]!;

    expect(outcome.error).toBeUndefined();
    expect(outcome.exitCode).toBe(0);
    expect(outcome.summary).toMatchObject({
      exhausted: true,
      wrapped: false,
      maxValue: 0xffffffff,
    });
    expect(outcome.findings.map((f) => f.kind)).toEqual(['exhausted']);
  });

  it('reports a stuck counter and a regressing one', async () => {
    const stuck = await startKey({ faults: [{ name: 'counter-stuck' }] });
    const regress = await startKey({ faults: [{ name: 'counter-regress', value: 4 }] });
    const { outcomes } = await run([udp(stuck), udp(regress)], { credentials: 1, rounds: 4 });

    expect(failures(outcomes[0]!).map((f) => f.kind)).toEqual(['repeat']);
    expect(failures(outcomes[1]!).map((f) => f.kind)).toEqual(['regression']);
    expect(outcomes.map((o) => o.exitCode)).toEqual([1, 1]);
  });

  it('measures the other keys when one cannot be reached', async () => {
    const key = await startKey();
    const { outcomes } = await run(['udp:127.0.0.1:9', udp(key)], { credentials: 1, rounds: 2 });

    expect(outcomes[0]!.exitCode).toBe(2);
    expect(outcomes[0]!.error).toContain('udp:127.0.0.1:9');
    expect(outcomes[1]!.exitCode).toBe(0);
    expect(outcomes[1]!.credentials[0]!.signs).toBe(2 + 2);
  });

  it('uses the in-process key to check that a missing touch does not count', async () => {
    const outcome = (await run(['virtual'], { credentials: 1, rounds: 2 })).outcomes[0]!;

    expect(outcome.summary!.probes.map((p) => [p.kind, p.verdict])).toEqual([
      ['check-only', 'ok'],
      ['foreign-handle', 'ok'],
      ['no-presence', 'ok'],
    ]);
    expect(outcome.exitCode).toBe(0);
  });
});
