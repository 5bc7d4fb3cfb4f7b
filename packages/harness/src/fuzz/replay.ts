import { exercise } from './exercise.js';
import { generateInput, type FuzzMode } from './generate.js';
import type { FailureKind } from './health.js';
import type { FuzzTarget } from './target.js';

/**
 * The iterations to replay (`--start start --iterations iterations`) so a failure that needs
 * the inputs before it happens again at the same iteration. `confirmed`: a replay of exactly
 * this window on a fresh device failed at that iteration, the same way.
 */
export interface ReplayWindow {
  readonly start: number;
  readonly iterations: number;
  readonly confirmed: boolean;
}

export interface ReplaySearch {
  seed: number;
  mode: FuzzMode;
  /** The first iteration of the run: the widest window starts here. */
  start: number;
  /** The failing iteration and how it failed. */
  iteration: number;
  kind: FailureKind;
  recoverMs: number;
  /** Most time the search may take, in ms. */
  timeMs: number;
}

/**
 * Finds the shortest window of iterations ending at the failing one that still fails there
 * on a fresh device: first the whole run (start … iteration), then windows growing from the
 * failing iteration backwards (2, 4, 8 … iterations), then a binary search between the
 * longest that passed and the shortest that failed. Every window it returns as confirmed
 * was replayed and failed at `iteration` with the same kind; when even the whole run does
 * not, the whole run comes back unconfirmed. Never throws for device trouble.
 */
export async function findReplayWindow(
  target: FuzzTarget,
  search: ReplaySearch,
): Promise<ReplayWindow> {
  const until = performance.now() + search.timeMs;
  const last = search.iteration;
  const window = (start: number, confirmed: boolean): ReplayWindow => ({
    start,
    iterations: last - start + 1,
    confirmed,
  });

  if (!(await failsAt(target, search, search.start))) return window(search.start, false);

  // Largest start known to fail at `last`, and smallest start known not to (or last + 1).
  let failing = search.start;
  let passing = last + 1;
  for (let size = 2; last - size + 1 > failing; size *= 2) {
    if (performance.now() >= until) return window(failing, true);
    const start = last - size + 1;
    if (await failsAt(target, search, start)) {
      failing = start;
      break;
    }
    passing = start;
  }
  while (passing - failing > 1) {
    if (performance.now() >= until) break;
    const middle = (failing + passing) >> 1;
    if (await failsAt(target, search, middle)) failing = middle;
    else passing = middle;
  }
  return window(failing, true);
}

/**
 * Replays `start` … the failing iteration on a fresh device as a run would (the opening check
 * first): did it fail there, the same way?
 */
async function failsAt(target: FuzzTarget, search: ReplaySearch, start: number) {
  try {
    await target.fresh();
  } catch {
    return false;
  }
  // The same opening check a run makes before its first input (iteration 0, nothing sent).
  const empty = { kind: 'frames', label: 'none', frames: [] } as const;
  const baseline = await exercise(target, empty, { ...search, iteration: 0 });
  if (!baseline.ok) return false;

  for (let iteration = start; iteration <= search.iteration; iteration++) {
    const input = generateInput(search.seed, iteration, search.mode);
    const verdict = await exercise(target, input, {
      seed: search.seed,
      iteration,
      recoverMs: search.recoverMs,
    });
    if (!verdict.ok) return iteration === search.iteration && verdict.kind === search.kind;
  }
  return false;
}
