import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import Database from 'better-sqlite3';
import type { DeviceRegistration } from '@keybench/server-core';

import { HISTORY_APPLICATION_ID } from '../history/schema.js';
import { inspectSqliteFile } from '../history/sqlite-file.js';

/** One stored key of one user, as the example server keeps it. */
export interface StoredKey {
  username: string;
  registration: DeviceRegistration;
  /** Attestation certificate subject, for the key list. */
  certificateSubject: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** Thrown by {@link ServerStore.addRegistration} when the key handle is already stored. */
export class DuplicateKeyHandleError extends Error {
  override readonly name = 'DuplicateKeyHandleError';
}

/**
 * The example server's schema (its own database, not the run history). `counter` is NULL
 * until the first verified authentication; `user_version` marks the schema revision.
 */
const SCHEMA_VERSION = 1;

/**
 * PRAGMA application_id of the example server's database: "KBSV" in ASCII, so it is told
 * apart from the run history ("KBHS") and from other programs' SQLite files.
 */
export const SERVER_APPLICATION_ID = 0x4b425356;

/** What a database written by an earlier serve (application_id still 0) may contain. */
const OWN_OBJECTS = new Set([
  'registrations',
  'sqlite_autoindex_registrations_1',
  'registrations_by_user',
]);

const SCHEMA = `
CREATE TABLE IF NOT EXISTS registrations (
  id                  INTEGER PRIMARY KEY,
  username            TEXT    NOT NULL,
  app_id              TEXT    NOT NULL,
  key_handle          TEXT    NOT NULL,
  version             TEXT    NOT NULL,
  public_key          TEXT    NOT NULL,
  transports          TEXT,
  counter             INTEGER,
  certificate_subject TEXT    NOT NULL DEFAULT '',
  created_at          TEXT    NOT NULL,
  last_used_at        TEXT,
  UNIQUE (app_id, key_handle)
);
CREATE INDEX IF NOT EXISTS registrations_by_user ON registrations (username, app_id, id);
`;

/**
 * Refuses, before anything is written, a SQLite file that is not ours: another program's
 * database, or the keybench run history. Throws an Error saying what the file is.
 */
function checkOwnership(db: Database.Database): void {
  // Read through SQLite, not from the file header: a writer's last change may be in the WAL.
  const applicationId = (db.pragma('application_id', { simple: true }) as number) >>> 0;
  if (applicationId === SERVER_APPLICATION_ID) return;

  const names = (db.prepare('SELECT name FROM sqlite_schema').all() as { name: string }[]).map(
    (row) => row.name,
  );
  if (applicationId === 0 && names.every((name) => OWN_OBJECTS.has(name))) return;
  if (applicationId === HISTORY_APPLICATION_ID) {
    throw new Error(
      'it is a keybench run history (counters, conformance, check), not a server database; ' +
        'it was left unchanged - pass another --db',
    );
  }
  const id = `0x${applicationId.toString(16).padStart(8, '0')}`;
  const tables = names.slice(0, 5).join(', ') + (names.length > 5 ? ', …' : '');
  throw new Error(
    `it is a SQLite database of another application (application_id ${id}, objects ` +
      `${tables || 'none'}); it was left unchanged - pass another --db`,
  );
}

interface Row {
  username: string;
  app_id: string;
  key_handle: string;
  version: string;
  public_key: string;
  transports: string | null;
  counter: number | null;
  certificate_subject: string;
  created_at: string;
  last_used_at: string | null;
}

function toStoredKey(row: Row): StoredKey {
  const registration: DeviceRegistration = {
    version: row.version,
    keyHandle: row.key_handle,
    publicKey: row.public_key,
    appId: row.app_id,
    transports: row.transports === null ? null : (JSON.parse(row.transports) as string[]),
  };
  if (row.counter !== null) registration.counter = row.counter;
  return {
    username: row.username,
    registration,
    certificateSubject: row.certificate_subject,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

/**
 * Registrations and last verified counters of the example server, in SQLite (WAL, busy
 * timeout, immediate transactions for every read-then-write, so a second process sharing
 * the file loses nothing).
 */
export class ServerStore {
  readonly db: Database.Database;

  /**
   * Opens (creating if needed) the database at `file`; `:memory:` for a private one.
   * Throws an Error naming the file when it cannot be opened or is not a database; such a
   * file is left as it was.
   */
  constructor(file: string) {
    const refuse = (reason: string, cause?: unknown) =>
      new Error(`serve: cannot use ${file} as the server database: ${reason}`, { cause });

    const state = file === ':memory:' ? { kind: 'missing' as const } : inspectSqliteFile(file);
    if (state.kind === 'problem') throw refuse(`${state.reason}; it was left unchanged`);

    let db: Database.Database | undefined;
    try {
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
      db = new Database(file);
      if (state.kind === 'sqlite') checkOwnership(db);
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('synchronous = NORMAL');
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      db.pragma(`application_id = ${SERVER_APPLICATION_ID}`);
    } catch (error) {
      db?.close();
      const reason = error instanceof Error ? error.message : String(error);
      throw refuse(reason, error);
    }
    this.db = db;
  }

  /** The keys of `username` under `appId`, oldest first. */
  keysOf(username: string, appId: string): StoredKey[] {
    const rows = this.db
      .prepare('SELECT * FROM registrations WHERE username = ? AND app_id = ? ORDER BY id')
      .all(username, appId) as Row[];
    return rows.map(toStoredKey);
  }

  /**
   * Stores a new registration. Throws DuplicateKeyHandleError when the key handle is already
   * registered under this appId (to anyone); nothing is written then.
   */
  addRegistration(username: string, registration: DeviceRegistration, subject: string): void {
    const insert = this.db.prepare(
      `INSERT INTO registrations
         (username, app_id, key_handle, version, public_key, transports, counter,
          certificate_subject, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const exists = this.db.prepare(
      'SELECT 1 FROM registrations WHERE app_id = ? AND key_handle = ?',
    );
    const add = this.db.transaction(() => {
      if (exists.get(registration.appId, registration.keyHandle) !== undefined) {
        throw new DuplicateKeyHandleError(
          `key handle ${registration.keyHandle.slice(0, 16)}… is already registered`,
        );
      }
      insert.run(
        username,
        registration.appId,
        registration.keyHandle,
        registration.version,
        registration.publicKey,
        registration.transports === null ? null : JSON.stringify(registration.transports),
        registration.counter ?? null,
        subject,
        new Date().toISOString(),
      );
    });
    add.immediate();
  }

  /**
   * Runs `verify` on the user's current keys inside one immediate transaction and stores the
   * counter of the registration it returns. When `verify` throws, nothing is written and the
   * error propagates; the counter is written only after verification passed.
   */
  authenticate<T extends { registration: DeviceRegistration }>(
    username: string,
    appId: string,
    verify: (keys: DeviceRegistration[]) => T,
  ): T {
    const update = this.db.prepare(
      `UPDATE registrations SET counter = ?, last_used_at = ?
        WHERE username = ? AND app_id = ? AND key_handle = ?`,
    );
    const run = this.db.transaction(() => {
      const keys = this.keysOf(username, appId).map((key) => key.registration);
      const result = verify(keys);
      const { keyHandle, counter } = result.registration;
      const changed = update.run(
        counter ?? null,
        new Date().toISOString(),
        username,
        appId,
        keyHandle,
      ).changes;
      if (changed !== 1) {
        const which = `${keyHandle.slice(0, 16)}…`;
        throw new Error(`store: verified key ${which} is not stored for ${username}`);
      }
      return result;
    });
    return run.immediate();
  }

  close(): void {
    this.db.close();
  }
}
