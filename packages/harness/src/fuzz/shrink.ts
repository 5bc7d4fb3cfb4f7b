import type { Verdict } from './health.js';
import { smaller, type FuzzFrame, type FuzzInput } from './input.js';

/** What one candidate did on a fresh device: failed, passed, or the device is past judging. */
export type Trial =
  { readonly failed: true; readonly verdict: Verdict } | { readonly failed: false };

export interface ShrinkBudget {
  /** Most candidates to try (each one is a fresh device and a health check). */
  candidates: number;
  /** Most time to spend, in ms. */
  timeMs: number;
}

export interface ShrinkResult {
  /** The smallest input found that still fails (the original when it did not reproduce). */
  readonly input: FuzzInput;
  /** The verdict the smallest input got. */
  readonly verdict: Verdict | undefined;
  /** Whether the original input failed again alone on a fresh device. */
  readonly reproduced: boolean;
  readonly candidates: number;
  /** Why shrinking stopped early (budget spent), if it did. */
  readonly stopped?: string;
}

/** Thrown by a trial when the device can no longer be judged (it stays dead): stop shrinking. */
export class ShrinkAbort extends Error {
  override readonly name = 'ShrinkAbort';
}

type Pass = (input: FuzzInput) => Iterable<FuzzInput>;

/** Chunk sizes from half the length down to 1: coarse cuts first, like delta debugging. */
function* chunkSizes(length: number): Iterable<number> {
  for (let size = Math.max(1, length >> 1); ; size >>= 1) {
    yield size;
    if (size <= 1) return;
  }
}

function* removeApduChunks(input: FuzzInput): Iterable<FuzzInput> {
  if (input.kind !== 'apdu') return;
  const { apdu } = input;
  for (const size of chunkSizes(apdu.length)) {
    for (let start = apdu.length - size; start >= 0; start -= size) {
      const next = new Uint8Array(apdu.length - size);
      next.set(apdu.subarray(0, start));
      next.set(apdu.subarray(start + size), start);
      yield { ...input, apdu: next };
    }
  }
}

/** Zeroes chunks of `bytes` from `from` on; `rebuild` makes the input from the new bytes. */
function* zeroChunks(bytes: Uint8Array, from: number, rebuild: (b: Uint8Array) => FuzzInput) {
  const length = bytes.length - from;
  for (const size of chunkSizes(length)) {
    for (let start = from; start < bytes.length; start += size) {
      const chunk = bytes.subarray(start, start + size);
      if (chunk.every((byte) => byte === 0)) continue;
      const next = Uint8Array.from(bytes);
      next.fill(0, start, start + size);
      yield rebuild(next);
    }
  }
}

/** Halves each nonzero byte (0x91 → 0x48), then takes one off: values shrink toward 0. */
function* lowerBytes(bytes: Uint8Array, from: number, rebuild: (b: Uint8Array) => FuzzInput) {
  for (let i = from; i < bytes.length; i++) {
    const value = bytes[i]!;
    if (value === 0) continue;
    for (const lower of new Set([value >> 1, value - 1])) {
      const next = Uint8Array.from(bytes);
      next[i] = lower;
      yield rebuild(next);
    }
  }
}

function* removeFrames(input: FuzzInput): Iterable<FuzzInput> {
  if (input.kind !== 'frames') return;
  for (let i = input.frames.length - 1; i >= 0; i--) {
    yield { ...input, frames: input.frames.filter((_, j) => j !== i) };
  }
}

function* perFrame(
  input: FuzzInput,
  edit: (
    bytes: Uint8Array,
    from: number,
    rebuild: (b: Uint8Array) => FuzzInput,
  ) => Iterable<FuzzInput>,
): Iterable<FuzzInput> {
  if (input.kind === 'apdu') {
    yield* edit(input.apdu, 0, (apdu) => ({ ...input, apdu }));
    return;
  }
  for (const [i, frame] of input.frames.entries()) {
    const rebuild = (bytes: Uint8Array): FuzzInput => ({
      ...input,
      frames: input.frames.map((f, j): FuzzFrame => (j === i ? { ...f, bytes } : f)),
    });
    yield* edit(frame.bytes, frame.ownCid ? 4 : 0, rebuild);
  }
}

const PASSES: readonly Pass[] = [
  removeFrames,
  removeApduChunks,
  (input) => perFrame(input, zeroChunks),
  (input) => perFrame(input, lowerBytes),
];

/**
 * Shrinks a failing input: removes frames, cuts APDU bytes (tail first), zeroes chunks of
 * bytes and lowers byte values, keeping each candidate that still fails on a fresh device
 * and is smaller (inputSize), until no pass finds a smaller failing input or the budget is
 * spent. `trial` runs one candidate on a fresh device; it may throw ShrinkAbort.
 */
export async function shrinkInput(
  original: FuzzInput,
  trial: (input: FuzzInput) => Promise<Trial>,
  budget: ShrinkBudget,
): Promise<ShrinkResult> {
  const until = performance.now() + budget.timeMs;
  let candidates = 1;
  let first: Trial;
  try {
    first = await trial(original);
  } catch (error) {
    if (!(error instanceof ShrinkAbort)) throw error;
    return {
      input: original,
      verdict: undefined,
      reproduced: false,
      candidates,
      stopped: error.message,
    };
  }
  if (!first.failed) return { input: original, verdict: undefined, reproduced: false, candidates };

  let best = original;
  let verdict = first.verdict;
  const kind = verdict.ok ? undefined : verdict.kind;
  let stopped: string | undefined;
  let progress = true;
  try {
    while (progress && stopped === undefined) {
      progress = false;
      for (const pass of PASSES) {
        let improved = true;
        while (improved && stopped === undefined) {
          improved = false;
          for (const candidate of pass(best)) {
            if (!smaller(candidate, best)) continue;
            if (candidates >= budget.candidates || performance.now() >= until) {
              stopped = `budget spent (${candidates} candidates, ${Math.round(budget.timeMs / 1000)} s)`;
              break;
            }
            candidates++;
            const result = await trial(candidate);
            // The same kind of failure only: a candidate that breaks the device another way
            // is another bug, and following it would shrink the wrong one.
            if (result.failed && !result.verdict.ok && result.verdict.kind === kind) {
              best = candidate;
              verdict = result.verdict;
              improved = progress = true;
              break;
            }
          }
        }
      }
    }
  } catch (error) {
    if (!(error instanceof ShrinkAbort)) throw error;
    stopped = error.message;
  }
  return { input: best, verdict, reproduced: true, candidates, ...(stopped ? { stopped } : {}) };
}
