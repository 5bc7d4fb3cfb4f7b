import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openHistory } from '@keybench/harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from './helpers/cli.js';

// Every wrong flag and every unusable file: exit 2, a message naming the flag or the file and
// what was wrong, no stack trace, and a refused file left byte for byte as it was.

const Database = createRequire(new URL('../packages/harness/package.json', import.meta.url))(
  'better-sqlite3',
) as typeof import('better-sqlite3');

let dir: string;
const files: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keybench-e2e-bad-input-'));
  files.text = join(dir, 'notes.txt');
  writeFileSync(files.text, 'some notes, not a database\n');
  files.empty = join(dir, 'empty.db');
  writeFileSync(files.empty, '');
  files.directory = join(dir, 'a-directory');
  mkdirSync(files.directory);
  files.foreign = join(dir, 'foreign.db');
  const foreign = new Database(files.foreign);
  foreign.exec("CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('la');");
  foreign.close();
  files.truncated = join(dir, 'truncated.db');
  const store = openHistory(files.truncated);
  store.startRun({ command: 'counters' });
  store.close();
  truncateSync(files.truncated, statSync(files.truncated).size / 2);
  files.history = join(dir, 'history.db');
  openHistory(files.history).close();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** [title, argv, what stderr must contain] */
type Case = [string, () => string[], RegExp];

const flagCases: Case[] = [
  ['unknown flag', () => ['check', '--bogus'], /Unknown argument: bogus/],
  ['unknown command', () => ['chek'], /Unknown argument: chek|Did you mean check/],
  [
    '--device without a value',
    () => ['check', '--device'],
    /Not enough arguments following: device/,
  ],
  ['--device with an empty list entry', () => ['check', '--device', 'virtual,'], /empty entry/],
  ['--device that is no spec', () => ['counters', '--device', 'usb:1'], /device "usb:1"/],
  [
    '--device udp port out of range',
    () => ['check', '--device', 'udp:127.0.0.1:99999'],
    /PORT must be a port number from 1 to 65535, got "99999"/,
  ],
  ['--rounds -1', () => ['counters', '--rounds', '-1'], /--rounds must be .* got -1/],
  ['--rounds abc', () => ['counters', '--rounds', 'abc'], /--rounds must be .* not a number/],
  ['--rounds 1.5', () => ['counters', '--rounds', '1.5'], /--rounds must be a whole number/],
  ['--credentials 0', () => ['counters', '--credentials', '0'], /--credentials must be .* got 0/],
  ['--timeout -5 (check)', () => ['check', '--timeout', '-5'], /--timeout must be .* got -5/],
  ['--timeout -5 (counters)', () => ['counters', '--timeout', '-5'], /--timeout must be/],
  [
    '--timeout -5 (client)',
    () => ['client', '--server', 'http://127.0.0.1:1', '--timeout', '-5'],
    /--timeout must be/,
  ],
  ['--app-id not a URL', () => ['check', '--app-id', 'keybench'], /--app-id must be an http/],
  ['--appid not a URL', () => ['counters', '--appid', 'ftp://x'], /--appid must be an http/],
  ['--server not a URL', () => ['client', '--server', 'localhost'], /--server must be an http/],
  ['--server missing', () => ['client'], /Missing required argument: server/],
  ['--port 99999', () => ['serve', '--port', '99999'], /--port must be .* got 99999/],
  ['--port abc', () => ['serve', '--port', 'abc'], /--port must be .* not a number/],
  ['--udp 99999', () => ['virtual-key', '--udp', '99999'], /--udp must be .* got 99999/],
  [
    '--key-handle-length 0',
    () => ['virtual-key', '--udp', '0', '--key-handle-length', '0'],
    /--key-handle-length must be .* got 0/,
  ],
  ['--reporter xml', () => ['conformance', '--reporter', 'xml'], /reporter.*"xml"/s],
  ['--profile nope', () => ['conformance', '--profile', 'nope'], /profile.*"nope"/s],
  [
    '--output into a missing directory',
    () => ['conformance', '--grep', 'AP-01', '--output', join(dir, 'missing', 'r.json')],
    /--output .*missing.*does not exist/,
  ],
  [
    '--output onto a directory',
    () => ['conformance', '--grep', 'AP-01', '--output', dir],
    /--output .*is not a regular file|--output .*not a directory/,
  ],
  // The tests run as root, whom file modes do not stop; /proc refuses new files to anyone.
  [
    '--html to an unwritable place',
    () => ['report', '--html', '/proc/keybench-report.html', '--db', files.history!],
    /--html \/proc\/keybench-report.html: .*(not writable|cannot be written)/,
  ],
  [
    '--html into a missing directory',
    () => ['report', '--html', '/nonexistent/r.html'],
    /--html \/nonexistent\/r.html: directory \/nonexistent does not exist/,
  ],
];

/** Commands that take --db, with the arguments that make them reach it. */
const dbCommands: Array<[string, string[]]> = [
  ['history', ['history']],
  ['report', ['report', '--html', '<dir>/r.html']],
  ['counters', ['counters', '--rounds', '1']],
  ['check', ['check']],
  ['conformance', ['conformance', '--grep', 'AP-01']],
  ['serve', ['serve', '--port', '0']],
];

const dbFiles: Array<[string, RegExp]> = [
  ['directory', /is not a regular file/],
  ['text', /is not a SQLite database .*got 73 6f 6d 65/],
  ['empty', /is empty \(0 bytes\)/],
  ['foreign', /another application/],
  ['truncated', /damaged|malformed|truncated/],
];

function expectRefusal(
  result: { code: number | null; stderr: string; stdout: string },
  want: RegExp,
) {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr).toMatch(want);
  expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack trace
}

/** Runs tasks two at a time (the machine has two cores). */
async function inPairs<T>(tasks: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < tasks.length; i += 2) {
    results.push(...(await Promise.all(tasks.slice(i, i + 2).map((task) => task()))));
  }
  return results;
}

describe('bad flags', () => {
  it.each(flagCases)('%s exits 2 naming the flag', async (_title, argv, want) => {
    expectRefusal(await runCli(argv()), want);
  });

  it('history and report refuse a --db that does not exist, and create nothing', async () => {
    const missing = join(dir, 'typo.db');
    expectRefusal(await runCli(['history', '--db', missing]), /typo.db: does not exist/);
    expectRefusal(
      await runCli(['report', '--db', missing, '--html', join(dir, 'r.html')]),
      /typo.db: does not exist/,
    );
    expect(() => statSync(missing)).toThrow();
  });
});

describe('an unusable --db is refused by every command and left unchanged', () => {
  it('for each command and each kind of file', { timeout: 30_000 }, async () => {
    const tasks = dbCommands.flatMap(([command, base]) =>
      dbFiles.map(([kind, want]) => async () => {
        const file = files[kind]!;
        const before = kind === 'directory' ? '' : readFileSync(file).toString('base64');
        const argv = [...base.map((a) => a.replace('<dir>', dir)), '--db', file];
        const result = await runCli(argv);
        const after = kind === 'directory' ? '' : readFileSync(file).toString('base64');
        return { command, kind, want, result, unchanged: before === after };
      }),
    );

    for (const { command, kind, want, result, unchanged } of await inPairs(tasks)) {
      expect(`${command} ${kind}: ${result.code}`).toBe(`${command} ${kind}: 2`);
      expect(result.stderr, `${command} ${kind}`).toMatch(want);
      expect(result.stderr, `${command} ${kind}`).toContain(files[kind]!.split('/').pop()!);
      expect(unchanged, `${command} ${kind} changed the file`).toBe(true);
    }
    expect(() => statSync(`${files.foreign}-wal`)).toThrow();
  });
});
