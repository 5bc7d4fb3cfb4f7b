import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';

import { StateFileError } from './state.js';

/** An exclusive hold on a state file, through `FILE.lock` holding the owner's pid. */
export interface StateLock {
  /** The lock file, `FILE.lock`. */
  readonly path: string;
  /** Set when a stale lock was taken over: the pid it named (undefined: it named none). */
  readonly tookOver: { pid: number | undefined } | undefined;
  /** Removes the lock file (if it is still ours). Idempotent. */
  release(): void;
}

/** Locks still held by this process, removed when it exits however it exits normally. */
const held = new Set<StateLock>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const lock of [...held]) lock.release();
  });
}

/** The pid written in a lock file, or undefined when it holds none (torn or foreign text). */
function readOwner(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const pid = /^\s*(\d{1,10})\s*$/.exec(text)?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/** Whether a process with this pid runs (EPERM: it runs as another user). */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Creates `path` holding our pid, atomically and only if it does not exist: the pid goes to
 * a temporary file first, which is then hard-linked to `path`, so no one ever reads a lock
 * file without its pid. Returns false when `path` exists.
 */
function createLockFile(path: string): boolean {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${process.pid}\n`, { mode: 0o600 });
  try {
    linkSync(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

/**
 * Takes the exclusive lock on the state file `file`: creates `FILE.lock` holding this
 * process's pid. A lock left by a process that no longer runs (killed, crashed) is taken
 * over; `tookOver` then names its pid. The lock goes away on release() and when this
 * process exits normally; after a SIGKILL the next key finds it stale by its pid.
 *
 * Throws StateFileError naming the file and the pid when a running process holds the lock
 * (this one included: two keys in one process may not share a file either), or when the
 * lock file cannot be created.
 */
export function lockStateFile(file: string): StateLock {
  const path = `${file}.lock`;
  let tookOver: { pid: number | undefined } | undefined;

  try {
    for (let attempt = 0; ; attempt++) {
      if (createLockFile(path)) break;
      const owner = readOwner(path);
      if (owner !== undefined && isAlive(owner)) {
        throw new StateFileError(
          file,
          `is in use by process ${owner} (lock file ${path}); stop that key first or ` +
            'give this one another --state file',
        );
      }
      if (attempt >= 3) throw new Error(`${path} keeps coming back; another key is starting`);
      // Stale: its owner is gone (or it holds no pid). Remove it and try again; if another
      // key removes and retakes it meanwhile, our next attempt sees that key alive.
      tookOver = { pid: owner };
      try {
        unlinkSync(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  } catch (error) {
    if (error instanceof StateFileError) throw error;
    throw new StateFileError(file, `cannot be locked (${(error as Error).message})`, {
      cause: error,
    });
  }

  let released = false;
  const lock: StateLock = {
    path,
    tookOver,
    release() {
      if (released) return;
      released = true;
      held.delete(lock);
      try {
        if (readOwner(path) === process.pid) unlinkSync(path);
      } catch {
        // Already gone, or the directory went away: nothing is left to release.
      }
    },
  };
  held.add(lock);
  installExitHook();
  return lock;
}
