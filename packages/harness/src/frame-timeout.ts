import { TransportError, type ChannelOptions } from '@keybench/hid-transport';

/** `--frame-timeout` when not given: the CTAPHID host's usual wait for the next frame. */
export const DEFAULT_FRAME_TIMEOUT_MS = 1000;

/**
 * Channel timeouts for a per-frame timeout of `frameTimeoutMs`: INIT may take two frame
 * timeouts (at least 2 s), a transaction without its own deadline five (at least 10 s), so a
 * slow key that answers every frame in time is never cut off by the whole-reply deadline.
 */
export function channelTimeouts(frameTimeoutMs: number): ChannelOptions {
  return {
    frameTimeoutMs,
    initTimeoutMs: Math.max(2000, 2 * frameTimeoutMs),
    transactionTimeoutMs: Math.max(10_000, 5 * frameTimeoutMs),
  };
}

/** The wait that ran out in a CTAPHID frame timeout (`no frame for N ms`), else undefined. */
export function frameTimeoutOf(error: unknown): number | undefined {
  if (!(error instanceof TransportError) || error.kind !== 'timeout') return undefined;
  const ms = /\bno frame for (\d+) ms\b/.exec(error.message)?.[1];
  return ms === undefined ? undefined : Number(ms);
}

/** A hint to append to a frame timeout's message (empty for any other error). */
export function frameTimeoutHint(error: unknown): string {
  const ms = frameTimeoutOf(error);
  return ms === undefined
    ? ''
    : ` (a slow key? give it more time per frame with --frame-timeout MS, now ${ms})`;
}
