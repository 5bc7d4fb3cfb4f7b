import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import Database from 'better-sqlite3';

import { HistoryFileError } from './errors.js';
import { HISTORY_APPLICATION_ID, migrate, SCHEMA_VERSION } from './schema.js';
import { HistoryStore } from './store.js';

/** The 16 bytes every SQLite 3 database file starts with ("SQLite format 3\0"). */
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

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

const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');

/** The file's size, or undefined when it does not exist. */
function sizeOf(file: string): number | undefined {
  try {
    const stats = statSync(file);
    if (!stats.isFile()) throw new HistoryFileError(file, 'is not a regular file');
    return stats.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (error instanceof HistoryFileError) throw error;
    throw new HistoryFileError(file, `cannot be read (${(error as Error).message})`, {
      cause: error,
    });
  }
}

/** Reads the first bytes without opening the file as a database, so nothing is written. */
function checkMagic(file: string): void {
  const head = Buffer.alloc(SQLITE_MAGIC.length);
  let read = 0;
  const fd = openSync(file, 'r');
  try {
    read = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (read < head.length || !head.equals(SQLITE_MAGIC)) {
    throw new HistoryFileError(
      file,
      `is not a SQLite database (expected it to start "SQLite format 3\\0", got ` +
        `${hex(head.subarray(0, read))}); it was left unchanged - pass another --db`,
    );
  }
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
 * Opens (creating when missing) the run history at `file`, default `defaultHistoryFile()`:
 * WAL mode, a busy timeout, foreign keys on, schema migrated to SCHEMA_VERSION.
 *
 * A file that is not SQLite, is another application's SQLite database, is damaged, or has
 * a newer schema throws HistoryFileError naming the file, and is never written to.
 */
export function openHistory(file: string = defaultHistoryFile()): HistoryStore {
  const path = resolve(file);
  const size = sizeOf(path);
  if (size === undefined) mkdirSync(dirname(path), { recursive: true });
  if (size !== undefined && size > 0) checkMagic(path);

  let db: Database.Database;
  try {
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw sqliteFailure(path, error);
  }

  try {
    if (size !== undefined && size > 0) checkIdentity(path, db);
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
