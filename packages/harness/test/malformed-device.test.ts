import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { VirtualKey } from '@keybench/virtual-key';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runConformance } from '../src/conformance/runner.js';
import { runCountersOnDevice } from '../src/counters/index.js';
import { parseDeviceSpec } from '../src/device-spec.js';
import { DeviceError } from '../src/errors.js';
import { ExchangeFailure, runExchange } from '../src/exchange.js';
import { openHistory, type HistoryStore } from '../src/history/index.js';
import { openDevice } from '../src/open-device.js';

// Malformed bytes from a device: a UDP key in this process that is a virtual key underneath,
// with the answer to one U2F command rewritten by a script. check, counters and conformance
// must each report a failure naming the step, and never crash.

const U2F = { REGISTER: 0x01, AUTHENTICATE: 0x02, VERSION: 0x03 } as const;
const CTAPHID = { MSG: 0x83, PING: 0x81, ERROR: 0xbf } as const;

/** What a script does with the key's answer to its command: new payload or raw reports. */
type Rewrite = { payload: Uint8Array; cmd?: number } | { reports: Uint8Array[] } | 'silent';

interface Script {
  name: string;
  ins: number;
  rewrite: (payload: Uint8Array) => Rewrite;
}

const SW_OK = [0x90, 0x00];
const bytes = (...parts: ArrayLike<number>[]) =>
  Uint8Array.from(parts.flatMap((p) => [...Array.from(p)]));

function report(cid: Uint8Array, head: number[], body: Uint8Array): Uint8Array {
  const out = new Uint8Array(64);
  out.set(cid, 0);
  out.set(head, 4);
  out.set(body.subarray(0, 64 - 4 - head.length), 4 + head.length);
  return out;
}

/** CTAPHID framing of `payload` on `cid`: one init report, then continuations. */
function frames(cid: Uint8Array, cmd: number, payload: Uint8Array, bcnt = payload.length) {
  const out = [report(cid, [cmd, bcnt >> 8, bcnt & 0xff], payload)];
  for (let offset = 57, seq = 0; offset < payload.length; offset += 59, seq++) {
    out.push(report(cid, [seq], payload.subarray(offset)));
  }
  return out;
}

const SCRIPTS: Script[] = [
  {
    name: 'VERSION answered with one byte',
    ins: U2F.VERSION,
    rewrite: () => ({ payload: bytes([0x90]) }),
  },
  {
    name: 'VERSION answered with nothing',
    ins: U2F.VERSION,
    rewrite: () => ({ payload: bytes() }),
  },
  {
    name: 'VERSION answered as a PING',
    ins: U2F.VERSION,
    rewrite: (p) => ({ payload: p, cmd: CTAPHID.PING }),
  },
  {
    name: 'REGISTER answered with 100 random bytes and 9000',
    ins: U2F.REGISTER,
    rewrite: () => ({
      payload: bytes(globalThis.crypto.getRandomValues(new Uint8Array(100)), SW_OK),
    }),
  },
  {
    name: 'REGISTER answered with half its data and 9000',
    ins: U2F.REGISTER,
    rewrite: (p) => ({ payload: bytes(p.subarray(0, (p.length - 2) >> 1), SW_OK) }),
  },
  {
    name: 'REGISTER announcing 7609 bytes and sending one report',
    ins: U2F.REGISTER,
    rewrite: (p) => ({ reports: frames(CID, CTAPHID.MSG, p, 7609).slice(0, 1) }),
  },
  {
    name: 'REGISTER continuations out of order',
    ins: U2F.REGISTER,
    rewrite: (p) => {
      const reports = frames(CID, CTAPHID.MSG, p);
      return { reports: [reports[0]!, ...reports.slice(1).reverse()] };
    },
  },
  {
    name: 'AUTHENTICATE answered with 3 bytes and 9000',
    ins: U2F.AUTHENTICATE,
    rewrite: (p) => (p.length > 2 ? { payload: bytes([0x01, 0x00, 0x00], SW_OK) } : { payload: p }),
  },
  {
    name: 'AUTHENTICATE answered with a CTAPHID ERROR 0x7F',
    ins: U2F.AUTHENTICATE,
    rewrite: () => ({ payload: bytes([0x7f]), cmd: CTAPHID.ERROR }),
  },
];

/** The cid the current reply goes out on (set per reply). */
let CID = new Uint8Array(4);

/** A UDP key: a virtual key whose answers to `script.ins` the script rewrites. */
async function scriptedKey(script: Script): Promise<{ port: number; close(): Promise<void> }> {
  const key = await VirtualKey.create({});
  const socket: Socket = createSocket('udp4');
  const pendingIns = new Map<string, number>();
  const replies = new Map<string, { cmd: number; bcnt: number; data: number[] }>();

  socket.on('message', (request: Buffer, peer: RemoteInfo) => {
    const cidHex = request.subarray(0, 4).toString('hex');
    if ((request[4]! & 0x80) !== 0 && request[4] === CTAPHID.MSG)
      pendingIns.set(cidHex, request[8]!);

    key.handleReport(new Uint8Array(request), (answer) => {
      const send = (out: Uint8Array) => socket.send(out, peer.port, peer.address);
      const cid = answer.subarray(0, 4);
      const id = Buffer.from(cid).toString('hex');
      const ins = pendingIns.get(id);
      const isInit = (answer[4]! & 0x80) !== 0;
      if (ins !== script.ins || (isInit && answer[4] !== CTAPHID.MSG && !replies.has(id))) {
        if (!replies.has(id)) return void send(answer);
      }
      if (isInit) {
        if (answer[4] !== CTAPHID.MSG) return void send(answer); // keepalive
        replies.set(id, {
          cmd: answer[4]!,
          bcnt: (answer[5]! << 8) | answer[6]!,
          data: [...answer.subarray(7)],
        });
      } else {
        replies.get(id)?.data.push(...answer.subarray(5));
      }
      const reply = replies.get(id)!;
      if (reply.data.length < reply.bcnt) return;
      replies.delete(id);
      pendingIns.delete(id);

      CID = Uint8Array.from(cid);
      const rewritten = script.rewrite(Uint8Array.from(reply.data.slice(0, reply.bcnt)));
      if (rewritten === 'silent') return;
      const out =
        'reports' in rewritten
          ? rewritten.reports
          : frames(CID, rewritten.cmd ?? reply.cmd, rewritten.payload);
      for (const r of out) send(r);
    });
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    async close() {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      await key.close();
    },
  };
}

const STEP =
  /^(version|register|verify registration|authenticate|verify authentication)(: | with )/;

let dir: string;
let store: HistoryStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keybench-malformed-'));
  store = openHistory(join(dir, 'history.db'));
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(SCRIPTS)('a key whose $name', (script) => {
  it('check: a failure naming the step (1 for a wrong answer, 2 for broken framing)', async () => {
    const fake = await scriptedKey(script);
    try {
      const opened = await openDevice(parseDeviceSpec(`udp:127.0.0.1:${fake.port}`));
      let error: unknown;
      try {
        await runExchange(opened, {
          appId: 'https://keybench.example',
          origin: 'https://keybench.example',
          timeoutMs: 1500,
        });
      } catch (caught) {
        error = caught;
      } finally {
        await opened.close();
      }
      expect(error instanceof ExchangeFailure || error instanceof DeviceError, String(error)).toBe(
        true,
      );
      expect((error as Error).message).toMatch(STEP);
    } finally {
      await fake.close();
    }
  });

  it('counters: an outcome with exit 1 or 2 whose error names the step', async () => {
    const fake = await scriptedKey(script);
    try {
      const runId = store.startRun({ command: 'counters' });
      const spec = parseDeviceSpec(`udp:127.0.0.1:${fake.port}`);
      const outcome = await runCountersOnDevice(spec, store, runId, {
        rounds: 2,
        credentials: 1,
        appId: 'https://keybench.example/c',
        origin: 'https://keybench.example',
        timeoutMs: 1500,
      });
      expect([1, 2]).toContain(outcome.exitCode);
      expect(outcome.error ?? outcome.findings.map((f) => f.message).join('; ')).toMatch(
        /^(version|register|authenticate with|probe)|credential/,
      );
    } finally {
      await fake.close();
    }
  });

  it(
    'conformance: a report with the failure explained, no exception',
    { timeout: 20_000 },
    async () => {
      const fake = await scriptedKey(script);
      try {
        const grep = {
          [U2F.VERSION]: 'AP-01',
          [U2F.REGISTER]: 'RG-02',
          [U2F.AUTHENTICATE]: 'AU-01',
        }[script.ins]!;
        const report = await runConformance(`udp:127.0.0.1:${fake.port}`, { grep, bail: true });
        expect(['failed', 'unusable']).toContain(report.status);
        const failed = report.results.filter((r) => r.status === 'fail');
        expect(failed.length).toBeGreaterThan(0);
        for (const result of failed) {
          expect(result.expected).toEqual(expect.any(String));
          expect(result.actual).toEqual(expect.any(String));
        }
      } finally {
        await fake.close();
      }
    },
  );
});
