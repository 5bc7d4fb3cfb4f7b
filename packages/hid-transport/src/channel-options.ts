import { checkMs } from './clock.js';
import type { TraceHook } from './trace.js';

/** Reports a KEEPALIVE status byte (KEEPALIVE_STATUS): once per change within a request. */
export type KeepaliveHook = (status: number) => void;

export interface ChannelOptions {
  /** Longest silence between two frames of a reply (KEEPALIVE restarts it). Default 1000. */
  frameTimeoutMs?: number;
  /** How long INIT may take, stray frames included. Default 2000. */
  initTimeoutMs?: number;
  /** Whole-transaction deadline when a call names none. Default 10000. */
  transactionTimeoutMs?: number;
  /** How often a CHANNEL_BUSY answer is retried before it is thrown. Default 5. */
  busyRetries?: number;
  /** First pause after CHANNEL_BUSY; doubles each retry, capped at 1000 ms. Default 100. */
  busyBackoffMs?: number;
  /** Longest single read, i.e. how late an abort can be noticed. Default 100. */
  readSliceMs?: number;
  /** Quiet time that ends a drain of stale reports. Default 5. */
  drainQuietMs?: number;
  /** Receives every report as hex. */
  trace?: TraceHook;
  /** KEEPALIVE status changes, for every transaction on this channel. */
  onKeepalive?: KeepaliveHook;
}

export interface TransactionOptions {
  signal?: AbortSignal;
  /** Whole-transaction deadline in ms (default: the channel's transactionTimeoutMs). */
  timeoutMs?: number;
  /** KEEPALIVE status changes during this transaction (in addition to the channel's hook). */
  onKeepalive?: KeepaliveHook;
}

/** @internal */
export interface Settings {
  frameTimeoutMs: number;
  initTimeoutMs: number;
  transactionTimeoutMs: number;
  busyRetries: number;
  busyBackoffMs: number;
  drainQuietMs: number;
  onKeepalive: KeepaliveHook | undefined;
}

/** Checks and completes channel options. Throws RangeError. @internal */
export function settingsOf(options: ChannelOptions): Settings & { readSliceMs: number } {
  const busyRetries = options.busyRetries ?? 5;
  if (!Number.isInteger(busyRetries) || busyRetries < 0 || busyRetries > 100) {
    throw new RangeError(`channel: busyRetries must be an integer 0..100, got ${busyRetries}`);
  }
  return {
    frameTimeoutMs: checkMs('channel: frameTimeoutMs', options.frameTimeoutMs ?? 1000, 1),
    initTimeoutMs: checkMs('channel: initTimeoutMs', options.initTimeoutMs ?? 2000, 1),
    transactionTimeoutMs: checkMs(
      'channel: transactionTimeoutMs',
      options.transactionTimeoutMs ?? 10_000,
      1,
    ),
    busyRetries,
    busyBackoffMs: checkMs('channel: busyBackoffMs', options.busyBackoffMs ?? 100),
    readSliceMs: checkMs('channel: readSliceMs', options.readSliceMs ?? 100, 1),
    drainQuietMs: checkMs('channel: drainQuietMs', options.drainQuietMs ?? 5),
    onKeepalive: options.onKeepalive,
  };
}
