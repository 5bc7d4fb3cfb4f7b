import { exercise } from './exercise.js';
import { generateInput, type FuzzMode } from './generate.js';
import type { FailureKind, Verdict } from './health.js';
import type { FuzzInput } from './input.js';
import { findReplayWindow, type ReplayWindow } from './replay.js';
import { ShrinkAbort, shrinkInput, type ShrinkBudget, type ShrinkResult } from './shrink.js';
import type { FuzzTarget } from './target.js';

export interface FuzzOptions {
  /** u32 seed: names the run. */
  seed: number;
  /** First iteration number (1-based); inputs depend only on seed and iteration. */
  start: number;
  iterations: number;
  mode: FuzzMode;
  /** Stop (passing) after this long, in ms, even when iterations are left. */
  timeLimitMs?: number;
  /** How long a retry on a fresh channel may wait out CHANNEL_BUSY. */
  recoverMs: number;
  /** Shrink a failing input (default true), within this budget. */
  shrink: boolean;
  shrinkBudget: ShrinkBudget;
  onIteration?: (done: number, input: FuzzInput) => void;
  onShrinking?: () => void;
}

export interface FuzzFailure {
  readonly iteration: number;
  readonly kind: FailureKind;
  readonly message: string;
  readonly input: FuzzInput;
  readonly shrunk?: ShrinkResult;
  /**
   * When the input alone does not fail on a fresh device: the iterations to replay so it
   * fails again (the shortest window found that ends at the failing iteration).
   */
  readonly replay?: ReplayWindow;
}

/** `passed`: every input survived; `failed`: one broke the device; `unusable`: never worked. */
export type FuzzStatus = 'passed' | 'failed' | 'unusable';

export interface FuzzReport {
  readonly device: string;
  readonly seed: number;
  readonly mode: FuzzMode;
  readonly start: number;
  readonly planned: number;
  /** Inputs sent (the failing one included). */
  readonly completed: number;
  readonly status: FuzzStatus;
  /** Inputs sent per kind (`frames`, `apdu`) and per kind:label (`frames:truncated`). */
  readonly byKind: Record<string, number>;
  readonly byLabel: Record<string, number>;
  /** Checks that needed a re-INIT to pass. */
  readonly recoveries: number;
  readonly elapsedMs: number;
  readonly stoppedByTimeLimit: boolean;
  readonly failure?: FuzzFailure;
  /** Why the device could not be used at all (status `unusable`). */
  readonly error?: string;
}

const EMPTY: FuzzInput = { kind: 'frames', label: 'none', frames: [] };

/**
 * Fuzzes one device: for each iteration, generate the input from (seed, iteration), send it,
 * check PING and VERSION; stop at the first failure and shrink it on fresh device states.
 * The device must pass the check once before any input, or the run is `unusable`. Opening
 * errors are not caught: callers map them to exit 2. Closes the target before returning.
 */
export async function runFuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const began = performance.now();
  const byKind: Record<string, number> = {};
  const byLabel: Record<string, number> = {};
  let completed = 0;
  let recoveries = 0;
  let stoppedByTimeLimit = false;
  const base = {
    device: target.description,
    seed: options.seed,
    mode: options.mode,
    start: options.start,
    planned: options.iterations,
  };
  const report = (status: FuzzStatus, extra: Partial<FuzzReport> = {}): FuzzReport => ({
    ...base,
    completed,
    status,
    byKind,
    byLabel,
    recoveries,
    elapsedMs: performance.now() - began,
    stoppedByTimeLimit,
    ...extra,
  });

  try {
    const baseline = await exercise(target, EMPTY, {
      seed: options.seed,
      iteration: 0,
      recoverMs: options.recoverMs,
    });
    if (!baseline.ok) {
      return report('unusable', { error: `before any input: ${baseline.message}` });
    }

    for (let n = 0; n < options.iterations; n++) {
      if (options.timeLimitMs !== undefined && performance.now() - began >= options.timeLimitMs) {
        stoppedByTimeLimit = true;
        break;
      }
      const iteration = options.start + n;
      const input = generateInput(options.seed, iteration, options.mode);
      byKind[input.kind] = (byKind[input.kind] ?? 0) + 1;
      byLabel[`${input.kind}:${input.label}`] = (byLabel[`${input.kind}:${input.label}`] ?? 0) + 1;

      const verdict = await exercise(target, input, {
        seed: options.seed,
        iteration,
        recoverMs: options.recoverMs,
      });
      completed++;
      options.onIteration?.(completed, input);
      if (verdict.ok) {
        if (verdict.recovered) recoveries++;
        continue;
      }

      const failure: FuzzFailure = {
        iteration,
        kind: verdict.kind,
        message: verdict.message,
        input,
      };
      if (!options.shrink) return report('failed', { failure });
      options.onShrinking?.();
      const shrinking = performance.now();
      const shrunk = await shrink(target, failure, options);
      if (shrunk.reproduced || shrunk.stopped !== undefined) {
        return report('failed', { failure: { ...failure, shrunk } });
      }
      const replay = await findReplayWindow(target, {
        seed: options.seed,
        mode: options.mode,
        start: options.start,
        iteration,
        kind: verdict.kind,
        recoverMs: options.recoverMs,
        timeMs: Math.max(0, options.shrinkBudget.timeMs - (performance.now() - shrinking)),
      });
      return report('failed', { failure: { ...failure, shrunk, replay } });
    }
    return report('passed');
  } finally {
    await target.close().catch(() => undefined);
  }
}

/**
 * Replays candidates on fresh device states: a new in-process key, or for a device we
 * cannot recreate a re-INIT and a check that it works at all before the candidate (a device
 * that stays dead cannot tell a failing candidate from a passing one).
 */
function shrink(target: FuzzTarget, failure: FuzzFailure, options: FuzzOptions) {
  const check = { seed: options.seed, iteration: failure.iteration, recoverMs: options.recoverMs };
  return shrinkInput(
    failure.input,
    async (candidate) => {
      try {
        await target.fresh();
      } catch (error) {
        throw new ShrinkAbort(`the device could not be brought back: ${String(error)}`);
      }
      if (!target.recreatable) {
        const alive: Verdict = await exercise(target, EMPTY, check);
        if (!alive.ok) throw new ShrinkAbort(`the device no longer answers: ${alive.message}`);
      }
      const verdict = await exercise(target, candidate, check);
      return verdict.ok ? { failed: false } : { failed: true, verdict };
    },
    options.shrinkBudget,
  );
}
