import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';
import ts from 'typescript';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  defaultHistoryFile,
  HISTORY_APPLICATION_ID,
  HistoryFileError,
  openHistory,
  SCHEMA_VERSION,
  type HistoryStore,
} from '../src/history/index.js';

const HARNESS = dirname(dirname(fileURLToPath(import.meta.url)));
const FINGERPRINT = 'ab'.repeat(32);

let dir: string;
let store: HistoryStore | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keybench-history-'));
});

afterEach(() => {
  store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('history store', () => {
  it('creates a WAL database with our application_id and schema version', () => {
    const file = join(dir, 'nested', 'history.db');
    store = openHistory(file);
    store.close();

    const db = new Database(file, { readonly: true });
    expect(db.pragma('application_id', { simple: true })).toBe(HISTORY_APPLICATION_ID);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('keeps devices, credentials, runs and observations across reopening', () => {
    const file = join(dir, 'h.db');
    store = openHistory(file);
    const runId = store.startRun({
      command: 'counters',
      versions: { keybench: '0.1.0' },
      argv: ['counters'],
    });
    const device = store.recordDevice(
      { fingerprint: FINGERPRINT, subject: 'CN=Key', version: 'U2F_V2' },
      runId,
      'virtual',
    );
    const credential = store.recordCredential(
      device.id,
      {
        appId: 'https://a.example',
        keyHandle: new Uint8Array([1, 2, 3]),
        publicKey: new Uint8Array(65).fill(4),
      },
      runId,
    );
    store.recordCounter(runId, {
      deviceId: device.id,
      credentialId: credential.id,
      event: 'sign',
      value: 7,
      p1: 3,
      statusWord: 0x9000,
      userPresence: 1,
    });
    store.recordCounter(runId, {
      deviceId: device.id,
      credentialId: credential.id,
      event: 'check-only',
      p1: 7,
      statusWord: 0x6985,
    });
    store.recordConformanceResult(runId, { testId: 'CT-01', status: 'pass', ms: 12.5 });
    store.recordCheck(runId, {
      device: 'virtual',
      ok: false,
      step: 'register',
      code: 'SW_WRONG_DATA',
      message: 'nope',
    });
    store.finishRun(runId, { status: 'passed', exitCode: 0, summary: { rounds: 1 } });
    store.close();

    store = openHistory(file);
    const again = store.recordDevice({ fingerprint: FINGERPRINT.toUpperCase() });
    expect(again.id).toBe(device.id);
    expect(again.subject).toBe('CN=Key');
    expect(store.findDevice(FINGERPRINT.slice(0, 6))?.id).toBe(device.id);
    expect(store.findDevice(String(device.id))?.id).toBe(device.id);
    expect(store.findDevice(`#${device.id}`)?.id).toBe(device.id);
    expect(store.credentials(device.id, 'https://a.example')[0]?.keyHandle).toEqual(
      new Uint8Array([1, 2, 3]),
    );
    expect(
      store
        .counterObservations({ credentialId: credential.id })
        .map((o) => [o.event, o.value, o.statusWord]),
    ).toEqual([
      ['sign', 7, 0x9000],
      ['check-only', null, 0x6985],
    ]);
    expect(store.conformanceResults({ runId })).toMatchObject([
      { testId: 'CT-01', status: 'pass', ms: 12.5 },
    ]);
    expect(store.checks({ runId })).toMatchObject([{ ok: false, code: 'SW_WRONG_DATA' }]);
    expect(store.runs({ deviceId: device.id })).toMatchObject([
      {
        id: runId,
        command: 'counters',
        status: 'passed',
        exitCode: 0,
        summary: { rounds: 1 },
        deviceIds: [device.id],
      },
    ]);
  });

  it('gives the last counter stored in an earlier run, ignoring the current one', () => {
    store = openHistory(join(dir, 'h.db'));
    const device = store.recordDevice({ fingerprint: FINGERPRINT });
    const cred = store.recordCredential(device.id, {
      appId: 'x',
      keyHandle: new Uint8Array([9]),
      publicKey: new Uint8Array(65),
    });
    const first = store.startRun({ command: 'counters' });
    store.recordCounter(first, {
      deviceId: device.id,
      credentialId: cred.id,
      event: 'sign',
      value: 5,
    });
    store.recordCounter(first, {
      deviceId: device.id,
      credentialId: cred.id,
      event: 'sign',
      value: 6,
    });
    const second = store.startRun({ command: 'counters' });
    store.recordCounter(second, {
      deviceId: device.id,
      credentialId: cred.id,
      event: 'sign',
      value: 2,
    });

    expect(store.lastCounter(cred.id, second)).toMatchObject({ value: 6, runId: first });
    expect(store.lastCounter(cred.id, first)).toBeUndefined();
    expect(store.lastCounter(cred.id)).toMatchObject({ value: 2, runId: second });
  });

  it('rejects a counter that is not a u32 and a fingerprint that is not SHA-256 hex', () => {
    store = openHistory(join(dir, 'h.db'));
    expect(() => store!.recordDevice({ fingerprint: 'xyz' })).toThrow(TypeError);
    const run = store.startRun({ command: 'counters' });
    expect(() =>
      store!.recordCounter(run, { deviceId: 1, credentialId: 1, event: 'sign', value: 2 ** 32 }),
    ).toThrow(RangeError);
  });

  it('reports a file of random bytes, naming it, and leaves it unchanged', () => {
    const file = join(dir, 'random.db');
    const bytes = randomBytes(8192);
    writeFileSync(file, bytes);

    expect(() => openHistory(file)).toThrow(HistoryFileError);
    expect(() => openHistory(file)).toThrow(`history file ${file}: is not a SQLite database`);
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect(readdirSync(dir)).toEqual(['random.db']);
  });

  it("reports another application's SQLite database and leaves it unchanged", () => {
    const file = join(dir, 'other.db');
    const other = new Database(file);
    other.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me')");
    other.close();
    const before = readFileSync(file);

    expect(() => openHistory(file)).toThrow(
      /other\.db: is a SQLite database of another application/,
    );
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['other.db']);
  });

  it('reports a SQLite file with a damaged body and leaves it unchanged', () => {
    const file = join(dir, 'damaged.db');
    store = openHistory(file);
    store.startRun({ command: 'check' });
    store.close();
    store = undefined;
    const good = readFileSync(file);
    const damaged = Buffer.concat([good.subarray(0, 100), randomBytes(good.length - 100)]);
    writeFileSync(file, damaged);

    expect(() => openHistory(file)).toThrow(HistoryFileError);
    expect(readFileSync(file).equals(damaged)).toBe(true);
  });

  it('refuses a history written by a newer schema', () => {
    const file = join(dir, 'newer.db');
    const db = new Database(file);
    db.pragma(`application_id = ${HISTORY_APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();

    expect(() => openHistory(file)).toThrow(/newer than this keybench understands/);
  });

  it('puts the default file under XDG_DATA_HOME, else ~/.local/share', () => {
    expect(defaultHistoryFile({ XDG_DATA_HOME: '/data' })).toBe('/data/keybench/history.db');
    expect(defaultHistoryFile({ XDG_DATA_HOME: 'relative' })).toMatch(
      /\.local\/share\/keybench\/history\.db$/,
    );
    expect(defaultHistoryFile({})).toMatch(/\.local\/share\/keybench\/history\.db$/);
  });
});

/**
 * Child processes cannot import TypeScript on Node 20, and the harness `dist` may lag the
 * sources, so the history sources are transpiled into a scratch folder inside the package
 * (where `better-sqlite3` resolves) for the writer processes.
 */
function transpileHistory(): string {
  const out = mkdtempSync(join(HARNESS, 'node_modules', '.history-test-'));
  const source = join(HARNESS, 'src', 'history');
  for (const name of readdirSync(source).filter((n) => n.endsWith('.ts'))) {
    const js = ts.transpileModule(readFileSync(join(source, name), 'utf8'), {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: false,
      },
    }).outputText;
    writeFileSync(join(out, name.replace(/\.ts$/, '.js')), js);
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  return out;
}

const WRITER = `
import { existsSync, writeFileSync } from 'node:fs';
import { openHistory } from './index.js';
const [file, label, count, other] = process.argv.slice(2);
const store = openHistory(file);
// Barrier: both processes have the database open before either writes.
writeFileSync(file + '.ready-' + label, '');
const deadline = Date.now() + 10000;
while (!existsSync(file + '.ready-' + other) && Date.now() < deadline) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
}
const run = store.startRun({ command: 'writer-' + label });
const device = store.recordDevice({ fingerprint: 'cd'.repeat(32) }, run);
const cred = store.recordCredential(device.id, { appId: label, keyHandle: Buffer.from(label), publicKey: new Uint8Array(65) }, run);
for (let i = 1; i <= Number(count); i++) {
  store.recordCounter(run, { deviceId: device.id, credentialId: cred.id, event: 'sign', value: i });
  if (i % 10 === 0) store.recordConformanceResult(run, { testId: label + '-' + i, status: 'pass' });
}
store.finishRun(run, { status: 'passed', exitCode: 0 });
store.close();
`;

describe('history store with two writer processes', () => {
  let scratch: string | undefined;
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('loses nothing and stays consistent when two processes write at once', async () => {
    scratch = transpileHistory();
    writeFileSync(join(scratch, 'writer.js'), WRITER);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'shared.db');
    const count = 1000;

    const runWriter = (label: string, other: string) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [join(scratch!, 'writer.js'), file, label, String(count), other],
          {
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          if (code === 0) resolve();
          else reject(new Error(`writer ${label} exited ${code}: ${stderr}`));
        });
      });
    await Promise.all([runWriter('a', 'b'), runWriter('b', 'a')]);

    store = openHistory(file);
    expect(store.devices()).toHaveLength(1);
    const runs = store.runs();
    expect(runs.map((r) => r.command).sort()).toEqual(['writer-a', 'writer-b']);
    expect(runs.every((r) => r.status === 'passed')).toBe(true);
    for (const run of runs) {
      const values = store.counterObservations({ runId: run.id }).map((o) => o.value);
      expect(values).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      expect(store.conformanceResults({ runId: run.id })).toHaveLength(count / 10);
    }
    const db = new Database(file, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});
