import type Database from 'better-sqlite3';

/**
 * PRAGMA application_id of a keybench history file: "KBHS" in ASCII. SQLite keeps it at
 * offset 68 of the file header, so `file(1)` and we can tell our files from other SQLite
 * files before touching them.
 */
export const HISTORY_APPLICATION_ID = 0x4b424853;

/**
 * Schema migrations, in order. Migration i (0-based) takes PRAGMA user_version from i to
 * i + 1. Append new ones; never edit one that has shipped.
 */
export const MIGRATIONS: readonly string[] = Object.freeze([
  `
  CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    identity TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    product TEXT,
    serial TEXT,
    subject TEXT,
    issuer TEXT,
    version TEXT,
    description TEXT,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
  );

  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    profile TEXT,
    versions TEXT NOT NULL DEFAULT '{}',
    argv TEXT NOT NULL DEFAULT '[]',
    pid INTEGER,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    status TEXT NOT NULL DEFAULT 'running',
    exit_code INTEGER,
    summary TEXT
  );

  CREATE TABLE run_devices (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    device_id INTEGER NOT NULL REFERENCES devices(id),
    spec TEXT,
    PRIMARY KEY (run_id, device_id)
  );

  CREATE TABLE credentials (
    id INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices(id),
    app_id TEXT NOT NULL,
    key_handle BLOB NOT NULL,
    public_key BLOB NOT NULL,
    created_run_id INTEGER REFERENCES runs(id),
    created_at TEXT NOT NULL,
    UNIQUE (device_id, key_handle)
  );

  CREATE TABLE counter_observations (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    device_id INTEGER NOT NULL REFERENCES devices(id),
    credential_id INTEGER NOT NULL REFERENCES credentials(id),
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    p1 INTEGER,
    status_word INTEGER,
    value INTEGER,
    user_presence INTEGER
  );
  CREATE INDEX counter_observations_by_credential ON counter_observations (credential_id, id);
  CREATE INDEX counter_observations_by_run ON counter_observations (run_id, id);

  CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    device_id INTEGER REFERENCES devices(id),
    credential_id INTEGER REFERENCES credentials(id),
    kind TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('fail', 'warn', 'info')),
    message TEXT NOT NULL,
    previous_value INTEGER,
    value INTEGER,
    previous_run_id INTEGER,
    at TEXT NOT NULL
  );
  CREATE INDEX findings_by_device ON findings (device_id, id);

  CREATE TABLE conformance_results (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    device_id INTEGER REFERENCES devices(id),
    test_id TEXT NOT NULL,
    status TEXT NOT NULL,
    ms REAL,
    message TEXT,
    at TEXT NOT NULL
  );
  CREATE INDEX conformance_results_by_run ON conformance_results (run_id, id);

  CREATE TABLE checks (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    device_id INTEGER REFERENCES devices(id),
    device TEXT NOT NULL,
    ok INTEGER NOT NULL,
    step TEXT,
    code TEXT,
    message TEXT,
    counter INTEGER,
    details TEXT,
    at TEXT NOT NULL
  );
  `,
]);

/** The schema version this keybench writes: the number of migrations. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the schema up to SCHEMA_VERSION inside one IMMEDIATE transaction, so two processes
 * opening a new file at once cannot both run a migration: the second waits (busy timeout),
 * then sees the version the first wrote and does nothing.
 */
export function migrate(db: Database.Database): void {
  const run = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let step = version; step < SCHEMA_VERSION; step++) db.exec(MIGRATIONS[step]!);
    if (version < SCHEMA_VERSION) {
      db.pragma(`application_id = ${HISTORY_APPLICATION_ID}`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }
  });
  run.immediate();
}
