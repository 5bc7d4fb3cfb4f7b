/** One traced report: which way it went, its 64 bytes as hex, and when (performance.now()). */
export interface TraceEvent {
  /** 'out' = written to the device, 'in' = read from it, 'drop' = read and discarded. */
  direction: 'out' | 'in' | 'drop';
  hex: string;
  time: number;
  /** Why a report was skipped or what it was (e.g. "other channel", "stale, drained"). */
  note?: string;
}

/** Receives every report the channel writes or reads. Must not throw. */
export type TraceHook = (event: TraceEvent) => void;
