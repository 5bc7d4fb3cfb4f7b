import type { FaultSet } from './faults.js';

/**
 * User presence: `auto` (every request sees a touch, like a simulator), `button` (a touch
 * is armed by press() and consumed by one successful REGISTER or AUTHENTICATE) and `never`
 * (no touch ever, like a key nobody is near).
 */
export type PresenceMode = 'auto' | 'button' | 'never';

export const PRESENCE_MODES: readonly PresenceMode[] = Object.freeze(['auto', 'button', 'never']);

/**
 * The button. An armed touch stays armed until a request consumes it (no latch timeout):
 * check-only and failed requests leave it armed (conformance UP-02).
 */
export class Presence {
  private armed = false;

  constructor(
    readonly mode: PresenceMode,
    private readonly faults: FaultSet,
  ) {}

  /** A press of the button (only meaningful in mode `button`). */
  press(): void {
    this.armed = true;
  }

  /** Whether a touch is available now. */
  get present(): boolean {
    if (this.mode === 'auto' || this.faults.has('approve-without-touch')) return true;
    return this.mode === 'button' && this.armed;
  }

  /** Uses up the touch after a successful request. */
  consume(): void {
    this.armed = false;
  }
}
