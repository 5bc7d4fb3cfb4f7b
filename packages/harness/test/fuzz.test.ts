import { CTAPHID, toHex } from '@keybench/hid-transport';
import { describe, expect, it } from 'vitest';

import {
  Prng,
  fuzzSummaryLines,
  generateInput,
  inputJson,
  inputSize,
  openVirtualTarget,
  reproduceCommand,
  runFuzz,
  shrinkInput,
  type DeviceWrapper,
  type FuzzInput,
  type FuzzOptions,
} from '../src/fuzz/index.js';

const RUN: Omit<FuzzOptions, 'seed' | 'iterations' | 'mode'> = {
  start: 1,
  recoverMs: 3000,
  shrink: true,
  shrinkBudget: { candidates: 2000, timeMs: 30_000 },
};

/** In-process replies come at once; a generous bound keeps a loaded machine from failing. */
const TARGET = { timeoutMs: 1000, settleMs: 2 };

describe('fuzz inputs', () => {
  it('the PRNG gives the same sequence for the same seed and another for another seed', () => {
    const draw = (seed: number) => {
      const rng = new Prng(seed);
      return Array.from({ length: 64 }, () => rng.u32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(new Set(draw(0)).size).toBe(64);
  });

  it('the same seed gives identical inputs, iteration by iteration', () => {
    const inputs = (seed: number) =>
      Array.from({ length: 300 }, (_, i) =>
        JSON.stringify(inputJson(generateInput(seed, i + 1, 'both'))),
      );
    const first = inputs(1234);
    expect(inputs(1234)).toEqual(first);
    expect(inputs(1235)).not.toEqual(first);
    // Both kinds and many labels come out of 300 iterations.
    const labels = new Set(first.map((text) => JSON.parse(text).label as string));
    expect(labels.size).toBeGreaterThan(12);
  });

  it('makes every input of many seeds without throwing, APDUs within one message', () => {
    for (const seed of [0, 1, 2, 3, 0xffffffff]) {
      for (let i = 1; i <= 2000; i++) {
        const input = generateInput(seed, i, 'both');
        if (input.kind === 'apdu') expect(input.apdu.length).toBeLessThanOrEqual(7609);
        else for (const frame of input.frames) expect(frame.bytes.length).toBe(64);
      }
    }
  });

  it('never sends LOCK, which would legitimately lock the harness out', () => {
    for (let i = 1; i <= 2000; i++) {
      const input = generateInput(99, i, 'frames');
      if (input.kind !== 'frames') continue;
      for (const frame of input.frames) expect(frame.bytes[4]).not.toBe(CTAPHID.LOCK);
    }
  });
});

describe('shrinkInput', () => {
  it('cuts an APDU to the smallest bytes that keep a predicate failing', async () => {
    const original: FuzzInput = {
      kind: 'apdu',
      label: 'test',
      apdu: Uint8Array.from([0x12, 0x34, 0x56, 0x78, 0x42, 0x99, 0xa0, 0x42, 0x77]),
    };
    // "fails" when some byte after the fourth is at least 0x40
    const result = await shrinkInput(
      original,
      async (input) => {
        const bytes = input.kind === 'apdu' ? input.apdu : new Uint8Array(0);
        const failed = bytes.subarray(4).some((byte) => byte >= 0x40);
        return failed
          ? { failed: true, verdict: { ok: false, kind: 'wrong-answer', message: 'x' } }
          : { failed: false };
      },
      { candidates: 1000, timeMs: 10_000 },
    );
    expect(result.reproduced).toBe(true);
    expect(result.input.kind === 'apdu' && toHex(result.input.apdu)).toBe('0000000040');
  });
});

describe('keybench fuzz against the in-process key', () => {
  it('the default virtual key survives 300 inputs of both kinds', async () => {
    const target = await openVirtualTarget(TARGET);
    const report = await runFuzz(target, { ...RUN, seed: 7, iterations: 300, mode: 'both' });

    expect(report.failure?.message).toBeUndefined();
    expect(report.status).toBe('passed');
    expect(report.completed).toBe(300);
    expect((report.byKind.frames ?? 0) + (report.byKind.apdu ?? 0)).toBe(300);
  });

  it('finds the stale-reply fault and shrinks it to one MSG report', async () => {
    const target = await openVirtualTarget({
      ...TARGET,
      virtual: { faults: [{ name: 'stale-reply' }] },
    });
    const report = await runFuzz(target, { ...RUN, seed: 42, iterations: 200, mode: 'both' });

    expect(report.status).toBe('failed');
    expect(report.failure?.kind).toBe('wrong-answer');
    expect(report.failure?.message).toMatch(/^VERSION answered/);
    const shrunk = report.failure?.shrunk;
    expect(shrunk?.reproduced).toBe(true);
    expect(inputSize(shrunk!.input)[0]).toBe(1);
    expect(inputSize(shrunk!.input)).not.toEqual(inputSize(report.failure!.input));
  });

  /**
   * Broken on purpose: after an AUTHENTICATE APDU whose extended Lc claims more bytes than
   * the message holds (an overrun in real firmware), every PING echo has its first byte
   * inverted. A wrong answer, found and shrunk without waiting for timeouts.
   */
  const corruptsEchoAfterLyingLc: DeviceWrapper = (handle) => {
    let broken = false;
    return (report, reply) => {
      if (report[4] === CTAPHID.MSG) {
        const bcnt = (report[5]! << 8) | report[6]!;
        const apdu = report.subarray(7, 7 + Math.min(bcnt, 57));
        const lc = (apdu[5]! << 8) | apdu[6]!;
        if (bcnt >= 7 && apdu[1] === 0x02 && apdu[4] === 0 && lc > bcnt - 7) broken = true;
      }
      handle(report, (out) => {
        if (broken && out[4] === CTAPHID.PING) {
          const copy = Uint8Array.from(out);
          copy[7]! ^= 0xff;
          reply(copy);
        } else {
          reply(out);
        }
      });
    };
  };

  it('catches a device that corrupts PING after a lying Lc, and shrinks to the 7-byte APDU', async () => {
    const target = await openVirtualTarget({ ...TARGET, wrap: corruptsEchoAfterLyingLc });
    const report = await runFuzz(target, { ...RUN, seed: 5, iterations: 500, mode: 'apdu' });

    expect(report.status).toBe('failed');
    expect(report.failure?.message).toMatch(/^PING echo differs/);
    const shrunk = report.failure!.shrunk!;
    expect(shrunk.input.kind).toBe('apdu');
    // CLA 00, INS 02, P1 00, P2 00, extended Lc 0001, no data: nothing smaller still lies.
    expect(shrunk.input.kind === 'apdu' && toHex(shrunk.input.apdu)).toBe('00020000000001');
    expect(inputSize(shrunk.input)).toEqual([1, 7, 3]);
  });

  /** Broken on purpose: goes silent for good after any non-INIT frame on the broadcast cid. */
  const diesOnBroadcastMisuse: DeviceWrapper = (handle) => {
    let dead = false;
    return (report, reply) => {
      const broadcast = report.subarray(0, 4).every((byte) => byte === 0xff);
      if (broadcast && report[4] !== CTAPHID.INIT) dead = true;
      if (!dead) handle(report, reply);
    };
  };

  it('catches a device that stops answering, and shrinks to one 4-byte frame', async () => {
    const target = await openVirtualTarget({
      timeoutMs: 300,
      settleMs: 2,
      wrap: diesOnBroadcastMisuse,
    });
    const report = await runFuzz(target, {
      ...RUN,
      recoverMs: 300,
      seed: 11,
      iterations: 500,
      mode: 'frames',
    });

    expect(report.status).toBe('failed');
    expect(report.failure?.kind).toBe('no-answer');
    const shrunk = report.failure!.shrunk!;
    expect(shrunk.reproduced).toBe(true);
    // One continuation frame, seq 0, on ffffffff: only the cid bytes are left nonzero.
    expect(shrunk.input.kind).toBe('frames');
    expect(inputSize(shrunk.input).slice(0, 2)).toEqual([1, 4]);
    const frame = shrunk.input.kind === 'frames' ? shrunk.input.frames[0]! : undefined;
    expect(toHex(frame!.bytes)).toBe(`ffffffff${'00'.repeat(60)}`);
  }, 30_000);
});

describe('a failure that needs the inputs before it', () => {
  /** Broken on purpose: goes silent for good once it has answered 12 PING requests. */
  const wearsOut: DeviceWrapper = (handle) => {
    let pings = 0;
    return (report, reply) => {
      if (report[4] === CTAPHID.PING) pings++;
      if (pings <= 12) handle(report, reply);
    };
  };
  const open = () => openVirtualTarget({ timeoutMs: 300, settleMs: 2, wrap: wearsOut });
  const options = { ...RUN, recoverMs: 300, seed: 21, mode: 'apdu' as const };

  it('reproduces with the shortest window of iterations it confirmed, printed as the command', async () => {
    const report = await runFuzz(await open(), { ...options, iterations: 100 });
    const failure = report.failure!;
    expect(failure.shrunk?.reproduced).toBe(false);
    const replay = failure.replay!;
    expect(replay.confirmed).toBe(true);
    expect(replay.start + replay.iterations - 1).toBe(failure.iteration);
    expect(replay.iterations).toBeGreaterThan(1);
    expect(reproduceCommand(['keybench fuzz --seed 21'], failure)).toBe(
      `keybench fuzz --seed 21 --start ${replay.start} --iterations ${replay.iterations}`,
    );
    const lines = fuzzSummaryLines(report, 'x');
    expect(lines.join('\n')).toMatch(/fails at iteration \d+ again/);

    // The printed window fails at the same iteration; one iteration shorter does not fail.
    const again = await runFuzz(await open(), {
      ...options,
      shrink: false,
      start: replay.start,
      iterations: replay.iterations,
    });
    expect(again.failure?.iteration).toBe(failure.iteration);
    const shorter = await runFuzz(await open(), {
      ...options,
      shrink: false,
      start: replay.start + 1,
      iterations: replay.iterations - 1,
    });
    expect(shorter.status).toBe('passed');
  }, 30_000);
});
