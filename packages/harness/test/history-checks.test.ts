import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { runExchange } from '../src/exchange.js';
import { openHistory, recordCheckRun, type CheckOutcome } from '../src/history/index.js';
import { openDevice } from '../src/open-device.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keybench-history-checks-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('check --db', () => {
  it('records a verified and a failed check with the device identity', async () => {
    const opened = await openDevice({ kind: 'virtual', text: 'virtual' });
    let result;
    try {
      result = await runExchange(opened, {
        appId: 'https://a.example',
        origin: 'https://a.example',
      });
    } finally {
      await opened.close();
    }
    const outcomes: CheckOutcome[] = [
      { device: 'virtual', ok: true, result },
      { device: 'udp:127.0.0.1:9', ok: false, exitCode: 2, message: 'no reply' },
    ];
    const file = join(dir, 'h.db');

    const runId = recordCheckRun(file, outcomes, ['check', '--db', file]);

    const store = openHistory(file);
    try {
      expect(store.run(runId)).toMatchObject({ command: 'check', status: 'error', exitCode: 2 });
      const [device] = store.devices();
      expect(device!.fingerprint).toBe(result.attestation.fingerprint);
      expect(store.checks({ runId })).toMatchObject([
        { device: 'virtual', ok: true, deviceId: device!.id, counter: result.counter },
        { device: 'udp:127.0.0.1:9', ok: false, deviceId: null, message: 'no reply' },
      ]);
    } finally {
      store.close();
    }
  });
});
