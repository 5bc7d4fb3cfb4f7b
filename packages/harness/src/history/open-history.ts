import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import Database from 'better-sqlite3';

import { inspectSqliteFile } from './sqlite-file.js';
import { HistoryFileError } from './errors.js';
import { HISTORY_APPLICATION_ID, migrate, SCHEMA_VERSION } from './schema.js';
import { HistoryStore } from './store.js';

/** How long a writer waits for another process's transaction before giving up. */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * The default history file: `$XDG_DATA_HOME/keybench/history.db`, or
 * `~/.local/share/keybench/history.db` when XDG_DATA_HOME is unset or not absolute (XDG Base
 * Directory spec: relative paths are to be ignored).
 */
export function defaultHistoryFile(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  const base = xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.local', 'share');
  return join(base, 'keybench', 'history.db');
}

/**
 * Checks, read-only, that an existing SQLite file is a keybench history (or an empty
 * database we may adopt) at a schema version we understand.
 */
function checkIdentity(file: string, db: Database.Database): void {
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  const objects = (db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n;

  if (applicationId !== HISTORY_APPLICATION_ID && (applicationId !== 0 || objects > 0)) {
    const id = `0x${(applicationId >>> 0).toString(16).padStart(8, '0')}`;
    throw new HistoryFileError(
      file,
      `is a SQLite database of another application (application_id ${id}, ${objects} ` +
        `schema objects; keybench uses 0x${HISTORY_APPLICATION_ID.toString(16)}); ` +
        'it was left unchanged - pass another --db',
    );
  }
  if (version > SCHEMA_VERSION) {
    throw new HistoryFileError(
      file,
      `has schema version ${version}, newer than this keybench understands (${SCHEMA_VERSION}); ` +
        'upgrade keybench',
    );
  }
}

function sqliteFailure(file: string, error: unknown): HistoryFileError {
  const code = (error as { code?: string }).code ?? 'error';
  const reason = error instanceof Error ? error.message : String(error);
  return new HistoryFileError(
    file,
    `is damaged or not a database (${code}: ${reason}); it was left unchanged`,
    { cause: error },
  );
}

/** Sets WAL mode; a second process switching at the same moment may see SQLITE_BUSY once. */
function enableWal(db: Database.Database): void {
  for (let attempt = 0; ; attempt++) {
    try {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode === 'wal') return;
      throw new Error(`journal_mode stayed ${String(mode)}`);
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || attempt >= 50) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20 + attempt * 5);
    }
  }
}

/**
 * Makes a new history at `path` without ever leaving an empty file there: the database is
 * built beside it and linked into place, so a second process starting at the same moment
 * sees either nothing or a complete history (an empty file is refused as not ours). When
 * another process wins the race, its file is kept.
 */
function createHistoryFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.new`;
  try {
    const db = new Database(temporary);
    try {
      db.pragma('journal_mode = WAL');
      migrate(db);
    } finally {
      db.close();
    }
    try {
      linkSync(temporary, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  } catch (error) {
    throw new HistoryFileError(path, `cannot be created (${(error as Error).message})`, {
      cause: error,
    });
  } finally {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${temporary}${suffix}`, { force: true });
  }
}

export interface OpenHistoryOptions {
  /**
   * Create the file when it is missing (default). Commands that only read (`history`,
   * `report`) pass false, so a mistyped --db is an error rather than a new empty history.
   */
  create?: boolean;
}

/**
 * Opens (creating when missing) the run history at `file`, default `defaultHistoryFile()`:
 * WAL mode, a busy timeout, foreign keys on, schema migrated to SCHEMA_VERSION.
 *
 * A file that is not SQLite, is empty, is another application's SQLite database, is
 * damaged, or has a newer schema throws HistoryFileError naming the file, and is never
 * written to; so does a missing file with `create: false`.
 */
export function openHistory(
  file: string = defaultHistoryFile(),
  options: OpenHistoryOptions = {},
): HistoryStore {
  const path = resolve(file);
  let state = inspectSqliteFile(path);
  if (state.kind === 'missing') {
    if (options.create === false) {
      throw new HistoryFileError(
        path,
        'does not exist (nothing recorded there yet: counters, conformance --db and check ' +
          '--db write it)',
      );
    }
    createHistoryFile(path);
    state = inspectSqliteFile(path);
  }
  if (state.kind === 'problem') {
    throw new HistoryFileError(path, `${state.reason}; it was left unchanged - pass another --db`);
  }

  let db: Database.Database;
  try {
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw sqliteFailure(path, error);
  }

  try {
    if (state.kind === 'sqlite') checkIdentity(path, db);
    enableWal(db);
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    migrate(db);
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new HistoryFileError(path, `fails quick_check: ${String(check)}`);
  } catch (error) {
    db.close();
    if (error instanceof HistoryFileError) throw error;
    throw sqliteFailure(path, error);
  }
  return new HistoryStore(db, path);
}
