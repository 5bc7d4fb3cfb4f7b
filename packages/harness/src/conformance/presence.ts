import type { PersonNeed } from './case.js';

/**
 * Who supplies user presence during a run. Against the virtual key the harness presses the
 * button itself; at a real key a person is prompted; without one, cases needing a person are
 * skipped with the reason `unavailable` gives.
 */
export interface PresenceDriver {
  readonly name: string;
  /** True when touch() takes effect at once (a harness-driven button), so one attempt suffices. */
  readonly instant: boolean;
  /** Why `need` cannot be met in this run, or undefined when it can. */
  unavailable(need: PersonNeed): string | undefined;
  /** Called right before a request that needs a touch (the request then polls 0x6985). */
  touch(what: string): Promise<void>;
  /** Called before a request that must see no touch. */
  withhold(what: string): Promise<void>;
  /** Unplug and replug (or restart) the key; resolves when it can be opened again. */
  replug(what: string): Promise<void>;
}

/**
 * The harness presses the button (the in-process virtual key, or one with a control port).
 * `unconfirmed` says why a press was not seen to take effect, when it was not.
 */
export function buttonPresence(
  press: () => void | Promise<void>,
  restart?: () => Promise<void>,
  unconfirmed?: string,
): PresenceDriver {
  return {
    name: `button (driven by the harness${unconfirmed ? `; unconfirmed: ${unconfirmed}` : ''})`,
    instant: true,
    unavailable: (need) =>
      need === 'replug' && !restart ? 'needs a replug, which this key cannot do' : undefined,
    touch: async () => {
      await press();
    },
    withhold: async () => undefined,
    replug: async () => {
      await restart?.();
    },
  };
}

/** A key that grants presence by itself (simulators): touches are free, refusals untestable. */
export function automaticPresence(restart?: () => Promise<void>): PresenceDriver {
  return {
    name: 'automatic (the key grants presence itself)',
    instant: true,
    unavailable: (need) => {
      if (need === 'no-touch') return 'needs a key that can withhold presence; this one grants it';
      if (need === 'replug' && !restart) return 'needs a replug, which this key cannot do';
      return undefined;
    },
    touch: async () => undefined,
    withhold: async () => undefined,
    replug: async () => {
      await restart?.();
    },
  };
}

/** No person and no button: every case needing one is skipped with `reason`. */
export function noPresence(reason: string): PresenceDriver {
  return {
    name: 'none',
    instant: false,
    unavailable: (need) => `needs a person (${need}); ${reason}`,
    touch: async () => undefined,
    withhold: async () => undefined,
    replug: async () => undefined,
  };
}

export interface PromptIo {
  /** Shows a prompt to the person (stderr). */
  say(text: string): void;
  /** Resolves when the person presses Enter. */
  waitForEnter(): Promise<void>;
}

/** A person at the key, prompted on the terminal. */
export function promptedPresence(io: PromptIo, device: string): PresenceDriver {
  return {
    name: 'person at the terminal',
    instant: false,
    unavailable: () => undefined,
    touch: async (what) => {
      io.say(`» Touch the key ${device} now (${what}).`);
    },
    withhold: async (what) => {
      io.say(`» Do NOT touch the key ${device} during: ${what}. Press Enter when ready.`);
      await io.waitForEnter();
    },
    replug: async (what) => {
      io.say(`» Unplug the key ${device}, plug it back in (${what}), then press Enter.`);
      await io.waitForEnter();
    },
  };
}

/** PromptIo on this process's stdin and stderr. */
export function terminalPromptIo(): PromptIo {
  return {
    say: (text) => process.stderr.write(`${text}\n`),
    waitForEnter: () =>
      new Promise<void>((resolve) => {
        const onData = (chunk: Buffer) => {
          if (!chunk.includes(0x0a) && !chunk.includes(0x0d)) return;
          process.stdin.off('data', onData);
          process.stdin.pause();
          resolve();
        };
        process.stdin.on('data', onData);
        process.stdin.resume();
      }),
  };
}
