import { generateApduInput } from './generate-apdu.js';
import { generateFramesInput } from './generate-frames.js';
import type { FuzzInput } from './input.js';
import { Prng } from './prng.js';

/** Which inputs a run makes: raw frames, APDUs in MSG, or both (half and half). */
export const FUZZ_MODES = ['frames', 'apdu', 'both'] as const;
export type FuzzMode = (typeof FUZZ_MODES)[number];

/**
 * The input of iteration `iteration` of the run seeded `seed`. It depends on nothing else,
 * so any iteration can be regenerated alone (`--start N --iterations 1`).
 */
export function generateInput(seed: number, iteration: number, mode: FuzzMode): FuzzInput {
  const rng = Prng.forIteration(seed, iteration);
  const kind = mode === 'both' ? (rng.chance(0.5) ? 'frames' : 'apdu') : mode;
  return kind === 'frames' ? generateFramesInput(rng) : generateApduInput(rng);
}
