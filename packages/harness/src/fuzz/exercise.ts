import { checkHealth, type Verdict } from './health.js';
import { framesOf, readCid, type FuzzInput } from './input.js';
import { Prng } from './prng.js';
import type { FuzzTarget } from './target.js';

export interface ExerciseOptions {
  /** Seed and iteration: they choose the PING payload and INIT nonces of the check. */
  seed: number;
  iteration: number;
  recoverMs: number;
}

/**
 * Sends `input` to the target (own-cid frames on the channel it holds), lets the line go
 * quiet, then checks the device still answers PING and VERSION. Never throws: a write that
 * fails is a `no-answer` verdict.
 */
export async function exercise(
  target: FuzzTarget,
  input: FuzzInput,
  options: ExerciseOptions,
): Promise<Verdict> {
  const rng = Prng.forIteration(options.seed, options.iteration, 1);
  const pingData = rng.bytes(rng.between(1, 57));
  const nonce = rng.bytes(8);
  const frames = framesOf(input, target.channel.cid);

  try {
    for (const [i, frame] of frames.entries()) {
      await target.channel.sendFrame(frame).catch((error: unknown) => {
        throw new Error(`writing report ${i + 1} of ${frames.length}: ${String(error)}`);
      });
    }
    await target.channel.drain();
  } catch (error) {
    return {
      ok: false,
      kind: 'no-answer',
      message: error instanceof Error ? error.message : String(error),
    };
  }

  return checkHealth(target, {
    pingData,
    nonce,
    touchedCids: frames.map(readCid),
    recoverMs: options.recoverMs,
  });
}
