import type {
  CounterRecord,
  CredentialRecord,
  DeviceRecord,
  FindingRecord,
  RunRecord,
  RunStatus,
} from './records.js';

// How rows of the history tables become records, and the small helpers the store shares.

export type Row = Record<string, unknown>;

export const now = () => new Date().toISOString();
export const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);
export const parseJson = (text: unknown, fallback: unknown): unknown =>
  typeof text === 'string' ? JSON.parse(text) : fallback;

export function toDevice(row: Row): DeviceRecord {
  return {
    id: row.id as number,
    identity: row.identity as string,
    fingerprint: row.fingerprint as string,
    product: row.product as string | null,
    serial: row.serial as string | null,
    subject: row.subject as string | null,
    issuer: row.issuer as string | null,
    version: row.version as string | null,
    description: row.description as string | null,
    firstSeen: row.first_seen as string,
    lastSeen: row.last_seen as string,
  };
}

export function toRun(row: Row): RunRecord {
  const ids = typeof row.device_ids === 'string' && row.device_ids !== '' ? row.device_ids : '';
  return {
    id: row.id as number,
    command: row.command as string,
    profile: row.profile as string | null,
    versions: parseJson(row.versions, {}) as Record<string, string>,
    argv: parseJson(row.argv, []) as string[],
    pid: row.pid as number | null,
    startedAt: row.started_at as string,
    endedAt: row.ended_at as string | null,
    status: row.status as RunStatus,
    exitCode: row.exit_code as number | null,
    summary: parseJson(row.summary, null),
    deviceIds: ids
      ? ids
          .split(',')
          .map(Number)
          .sort((a, b) => a - b)
      : [],
  };
}

export function toCredential(row: Row): CredentialRecord {
  return {
    id: row.id as number,
    deviceId: row.device_id as number,
    appId: row.app_id as string,
    keyHandle: new Uint8Array(row.key_handle as Buffer),
    publicKey: new Uint8Array(row.public_key as Buffer),
    createdRunId: row.created_run_id as number | null,
    createdAt: row.created_at as string,
  };
}

export function toCounter(row: Row): CounterRecord {
  return {
    id: row.id as number,
    runId: row.run_id as number,
    deviceId: row.device_id as number,
    credentialId: row.credential_id as number,
    at: row.at as string,
    event: row.event as CounterRecord['event'],
    p1: row.p1 as number | null,
    statusWord: row.status_word as number | null,
    value: row.value as number | null,
    userPresence: row.user_presence as number | null,
  };
}

export function toFinding(row: Row): FindingRecord {
  return {
    id: row.id as number,
    runId: row.run_id as number,
    deviceId: row.device_id as number | null,
    credentialId: row.credential_id as number | null,
    kind: row.kind as string,
    severity: row.severity as FindingRecord['severity'],
    message: row.message as string,
    previousValue: row.previous_value as number | null,
    value: row.value as number | null,
    previousRunId: row.previous_run_id as number | null,
    at: row.at as string,
  };
}
