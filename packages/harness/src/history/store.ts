import type Database from 'better-sqlite3';

import type {
  CheckInput,
  CheckRecord,
  ConformanceResultInput,
  ConformanceResultRecord,
  CounterInput,
  CounterRecord,
  CredentialInput,
  CredentialRecord,
  DeviceInput,
  DeviceRecord,
  FindingInput,
  FindingRecord,
  LastCounter,
  RunInput,
  RunRecord,
  RunStatus,
} from './records.js';
import {
  now,
  orNull,
  parseJson,
  toCounter,
  toCredential,
  toDevice,
  toFinding,
  toRun,
  type Row,
} from './rows.js';

/** `sha256:<fingerprint>[;product=…][;serial=…]`: the key a device is stored under. */
export function deviceIdentity(
  input: Pick<DeviceInput, 'fingerprint' | 'product' | 'serial'>,
): string {
  const fingerprint = input.fingerprint.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(fingerprint)) {
    throw new TypeError(
      `history: fingerprint must be 64 hex digits (SHA-256), got "${input.fingerprint}"`,
    );
  }
  let identity = `sha256:${fingerprint}`;
  if (input.product) identity += `;product=${input.product}`;
  if (input.serial) identity += `;serial=${input.serial}`;
  return identity;
}

const RUN_SELECT = `
  SELECT runs.*, (SELECT group_concat(device_id) FROM run_devices WHERE run_id = runs.id) AS device_ids
  FROM runs`;

/**
 * The run history: devices, credentials, runs, counter observations, findings, conformance
 * results and checks, in one SQLite file. Every record* call commits at once, so a run
 * killed half-way keeps what it measured; read-then-write steps run in IMMEDIATE
 * transactions so two processes can write at the same time. Get one from `openHistory`.
 *
 * Methods throw TypeError/RangeError for bad arguments and better-sqlite3's SqliteError when
 * the database fails (disk full, busy beyond the timeout).
 */
export class HistoryStore {
  readonly file: string;
  private readonly db: Database.Database;

  /** @internal use openHistory(). */
  constructor(db: Database.Database, file: string) {
    this.db = db;
    this.file = file;
  }

  /** Starts a run (status `running`) and returns its id. */
  startRun(input: RunInput): number {
    if (!input.command) throw new TypeError('history: startRun needs a command');
    const result = this.db
      .prepare(
        `INSERT INTO runs (command, profile, versions, argv, pid, started_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        input.command,
        orNull(input.profile),
        JSON.stringify(input.versions ?? {}),
        JSON.stringify(input.argv ?? []),
        process.pid,
        now(),
      );
    return Number(result.lastInsertRowid);
  }

  /** Ends a run with its status, exit code and a JSON summary. */
  finishRun(
    runId: number,
    end: { status: Exclude<RunStatus, 'running'>; exitCode?: number; summary?: unknown },
  ): void {
    const result = this.db
      .prepare('UPDATE runs SET ended_at = ?, status = ?, exit_code = ?, summary = ? WHERE id = ?')
      .run(
        now(),
        end.status,
        orNull(end.exitCode),
        end.summary === undefined ? null : JSON.stringify(end.summary),
        runId,
      );
    if (result.changes !== 1) throw new RangeError(`history: no run ${runId} to finish`);
  }

  /**
   * Finds or creates the device with this identity, refreshes what is known about it and,
   * given a run, records that the run used it. Returns the stored device.
   */
  recordDevice(input: DeviceInput, runId?: number, spec?: string): DeviceRecord {
    const identity = deviceIdentity(input);
    const upsert = this.db.transaction((): DeviceRecord => {
      const at = now();
      this.db
        .prepare(
          `INSERT INTO devices
             (identity, fingerprint, product, serial, subject, issuer, version, description,
              first_seen, last_seen)
           VALUES (@identity, @fingerprint, @product, @serial, @subject, @issuer, @version,
                   @description, @at, @at)
           ON CONFLICT (identity) DO UPDATE SET
             subject = coalesce(excluded.subject, subject),
             issuer = coalesce(excluded.issuer, issuer),
             version = coalesce(excluded.version, version),
             description = coalesce(excluded.description, description),
             last_seen = excluded.last_seen`,
        )
        .run({
          identity,
          fingerprint: input.fingerprint.toLowerCase(),
          product: orNull(input.product),
          serial: orNull(input.serial),
          subject: orNull(input.subject),
          issuer: orNull(input.issuer),
          version: orNull(input.version),
          description: orNull(input.description),
          at,
        });
      const device = toDevice(
        this.db.prepare('SELECT * FROM devices WHERE identity = ?').get(identity) as Row,
      );
      if (runId !== undefined) {
        this.db
          .prepare('INSERT OR IGNORE INTO run_devices (run_id, device_id, spec) VALUES (?, ?, ?)')
          .run(runId, device.id, orNull(spec));
      }
      return device;
    });
    return upsert.immediate();
  }

  /** Stores a credential registered on a device (or returns the one already stored). */
  recordCredential(deviceId: number, input: CredentialInput, runId?: number): CredentialRecord {
    const insert = this.db.transaction((): CredentialRecord => {
      this.db
        .prepare(
          `INSERT OR IGNORE INTO credentials
             (device_id, app_id, key_handle, public_key, created_run_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(
          deviceId,
          input.appId,
          Buffer.from(input.keyHandle),
          Buffer.from(input.publicKey),
          orNull(runId),
          now(),
        );
      const row = this.db
        .prepare('SELECT * FROM credentials WHERE device_id = ? AND key_handle = ?')
        .get(deviceId, Buffer.from(input.keyHandle)) as Row;
      return toCredential(row);
    });
    return insert.immediate();
  }

  /** One counter observation, committed at once; returns its id. */
  recordCounter(runId: number, input: CounterInput): number {
    if (
      input.value !== undefined &&
      !(Number.isInteger(input.value) && input.value >= 0 && input.value <= 0xffffffff)
    ) {
      throw new RangeError(`history: counter value must be a u32, got ${input.value}`);
    }
    const result = this.db
      .prepare(
        `INSERT INTO counter_observations
           (run_id, device_id, credential_id, at, event, p1, status_word, value, user_presence)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        runId,
        input.deviceId,
        input.credentialId,
        now(),
        input.event,
        orNull(input.p1),
        orNull(input.statusWord),
        orNull(input.value),
        orNull(input.userPresence),
      );
    return Number(result.lastInsertRowid);
  }

  /** A finding (regression, warning, fact) about a run; returns its id. */
  recordFinding(runId: number, input: FindingInput): number {
    const result = this.db
      .prepare(
        `INSERT INTO findings
           (run_id, device_id, credential_id, kind, severity, message, previous_value, value,
            previous_run_id, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        runId,
        orNull(input.deviceId),
        orNull(input.credentialId),
        input.kind,
        input.severity,
        input.message,
        orNull(input.previousValue),
        orNull(input.value),
        orNull(input.previousRunId),
        now(),
      );
    return Number(result.lastInsertRowid);
  }

  /** One conformance test result, committed at once; returns its id. */
  recordConformanceResult(runId: number, input: ConformanceResultInput): number {
    if (!input.testId) throw new TypeError('history: a conformance result needs a testId');
    const result = this.db
      .prepare(
        `INSERT INTO conformance_results (run_id, device_id, test_id, status, ms, message, at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        runId,
        orNull(input.deviceId),
        input.testId,
        input.status,
        orNull(input.ms),
        orNull(input.message),
        now(),
      );
    return Number(result.lastInsertRowid);
  }

  /** One `check` outcome, committed at once; returns its id. */
  recordCheck(runId: number, input: CheckInput): number {
    const result = this.db
      .prepare(
        `INSERT INTO checks (run_id, device_id, device, ok, step, code, message, counter, details, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        runId,
        orNull(input.deviceId),
        input.device,
        input.ok ? 1 : 0,
        orNull(input.step),
        orNull(input.code),
        orNull(input.message),
        orNull(input.counter),
        input.details === undefined ? null : JSON.stringify(input.details),
        now(),
      );
    return Number(result.lastInsertRowid);
  }

  /** Every device, oldest first. */
  devices(): DeviceRecord[] {
    return (this.db.prepare('SELECT * FROM devices ORDER BY id').all() as Row[]).map(toDevice);
  }

  /**
   * The device named by `text`: its id (`2` or `#2`), its full identity, or a prefix (4+ hex digits) of
   * its fingerprint. Undefined when none matches; RangeError when a prefix matches several.
   */
  findDevice(text: string): DeviceRecord | undefined {
    const key = text
      .trim()
      .toLowerCase()
      .replace(/^sha256:/, '');
    // `#2`, as `history` prints the device, or just `2`.
    const number = /^#?\s*(\d+)$/.exec(key)?.[1];
    if (number !== undefined) {
      const row = this.db.prepare('SELECT * FROM devices WHERE id = ?').get(Number(number)) as
        Row | undefined;
      if (row) return toDevice(row);
    }
    const exact = this.db.prepare('SELECT * FROM devices WHERE identity = ?').get(text.trim()) as
      Row | undefined;
    if (exact) return toDevice(exact);
    if (!/^[0-9a-f]{4,64}$/.test(key)) return undefined;
    const rows = this.db
      .prepare("SELECT * FROM devices WHERE fingerprint LIKE ? || '%' ORDER BY id")
      .all(key) as Row[];
    if (rows.length > 1) {
      throw new RangeError(
        `history: device "${text}" matches ${rows.length} devices; give more digits`,
      );
    }
    return rows[0] ? toDevice(rows[0]) : undefined;
  }

  /** Credentials stored for a device, oldest first, optionally for one appId. */
  credentials(deviceId: number, appId?: string): CredentialRecord[] {
    const rows = (
      appId === undefined
        ? this.db.prepare('SELECT * FROM credentials WHERE device_id = ? ORDER BY id').all(deviceId)
        : this.db
            .prepare('SELECT * FROM credentials WHERE device_id = ? AND app_id = ? ORDER BY id')
            .all(deviceId, appId)
    ) as Row[];
    return rows.map(toCredential);
  }

  /** The run with this id, or undefined. */
  run(runId: number): RunRecord | undefined {
    const row = this.db.prepare(`${RUN_SELECT} WHERE runs.id = ?`).get(runId) as Row | undefined;
    return row ? toRun(row) : undefined;
  }

  /** Runs, oldest first; with a device, only the runs that used it. */
  runs(filter: { deviceId?: number; command?: string } = {}): RunRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.deviceId !== undefined) {
      where.push('runs.id IN (SELECT run_id FROM run_devices WHERE device_id = ?)');
      params.push(filter.deviceId);
    }
    if (filter.command !== undefined) {
      where.push('runs.command = ?');
      params.push(filter.command);
    }
    const sql = `${RUN_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY runs.id`;
    return (this.db.prepare(sql).all(...params) as Row[]).map(toRun);
  }

  /**
   * The last counter value (from a signature) stored for a credential in a run other than
   * `excludeRunId` and started before it: what a new run must exceed.
   */
  lastCounter(credentialId: number, excludeRunId?: number): LastCounter | undefined {
    const row = this.db
      .prepare(
        `SELECT id, run_id, value, at FROM counter_observations
         WHERE credential_id = ? AND value IS NOT NULL AND event = 'sign' AND run_id < ?
         ORDER BY id DESC LIMIT 1`,
      )
      .get(credentialId, excludeRunId ?? Number.MAX_SAFE_INTEGER) as Row | undefined;
    if (!row) return undefined;
    return {
      value: row.value as number,
      runId: row.run_id as number,
      observationId: row.id as number,
      at: row.at as string,
    };
  }

  /** Counter observations, oldest first, by run, device and/or credential. */
  counterObservations(
    filter: { runId?: number; deviceId?: number; credentialId?: number } = {},
  ): CounterRecord[] {
    const { sql, params } = filtered('counter_observations', filter);
    return (this.db.prepare(sql).all(...params) as Row[]).map(toCounter);
  }

  /** Findings, oldest first, by run, device, credential and/or severity. */
  findings(
    filter: { runId?: number; deviceId?: number; credentialId?: number; severity?: string } = {},
  ): FindingRecord[] {
    const { sql, params } = filtered('findings', filter);
    return (this.db.prepare(sql).all(...params) as Row[]).map(toFinding);
  }

  /** Conformance results, oldest first, by run and/or device. */
  conformanceResults(
    filter: { runId?: number; deviceId?: number } = {},
  ): ConformanceResultRecord[] {
    const { sql, params } = filtered('conformance_results', filter);
    return (this.db.prepare(sql).all(...params) as Row[]).map((row) => ({
      id: row.id as number,
      runId: row.run_id as number,
      deviceId: row.device_id as number | null,
      testId: row.test_id as string,
      status: row.status as string,
      ms: row.ms as number | null,
      message: row.message as string | null,
      at: row.at as string,
    }));
  }

  /** Checks, oldest first, by run and/or device. */
  checks(filter: { runId?: number; deviceId?: number } = {}): CheckRecord[] {
    const { sql, params } = filtered('checks', filter);
    return (this.db.prepare(sql).all(...params) as Row[]).map((row) => ({
      id: row.id as number,
      runId: row.run_id as number,
      deviceId: row.device_id as number | null,
      device: row.device as string,
      ok: row.ok === 1,
      step: row.step as string | null,
      code: row.code as string | null,
      message: row.message as string | null,
      counter: row.counter as number | null,
      details: parseJson(row.details, null),
      at: row.at as string,
    }));
  }

  /** Closes the database (checkpointing the WAL when this is the last connection). */
  close(): void {
    if (this.db.open) this.db.close();
  }
}

const COLUMNS: Record<string, string> = {
  runId: 'run_id',
  deviceId: 'device_id',
  credentialId: 'credential_id',
  severity: 'severity',
};

function filtered(
  table: string,
  filter: Record<string, unknown>,
): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    const column = COLUMNS[key];
    if (!column) throw new TypeError(`history: unknown filter "${key}"`);
    where.push(`${column} = ?`);
    params.push(value);
  }
  return {
    sql: `SELECT * FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`,
    params,
  };
}
