import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** The 16 bytes every SQLite 3 database file starts with ("SQLite format 3\0"). */
export const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** Where the header keeps PRAGMA application_id: a big-endian u32 at offset 68. */
const APPLICATION_ID_OFFSET = 68;

/** What is on disk at a database path, read without opening it as a database. */
export type SqliteFileState =
  | { kind: 'missing' }
  | { kind: 'sqlite'; size: number; applicationId: number }
  | { kind: 'problem'; reason: string };

const spaced = (bytes: Buffer) => bytes.toString('hex').replace(/(..)(?!$)/g, '$1 ');

/**
 * Looks at `path` with plain reads only, so nothing is written to a file we then refuse: a
 * missing file, a SQLite file (with the application_id of its header), or a problem — not a
 * regular file, unreadable, empty, or not starting with the SQLite magic. Never throws.
 */
export function inspectSqliteFile(path: string): SqliteFileState {
  let size: number;
  try {
    const stats = statSync(path);
    if (!stats.isFile()) return { kind: 'problem', reason: 'is not a regular file' };
    size = stats.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'problem', reason: `cannot be read (${code ?? (error as Error).message})` };
  }
  if (size === 0) {
    return {
      kind: 'problem',
      reason: 'is empty (0 bytes), not a database; delete it to start anew',
    };
  }

  const head = Buffer.alloc(APPLICATION_ID_OFFSET + 4);
  let read: number;
  try {
    const fd = openSync(path, 'r');
    try {
      read = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { kind: 'problem', reason: `cannot be read (${code ?? (error as Error).message})` };
  }

  const magic = head.subarray(0, Math.min(read, SQLITE_MAGIC.length));
  if (read < SQLITE_MAGIC.length || !magic.equals(SQLITE_MAGIC)) {
    return {
      kind: 'problem',
      reason:
        `is not a SQLite database (expected it to start "SQLite format 3\\0", got ` +
        `${spaced(magic)})`,
    };
  }
  if (read < head.length) {
    return { kind: 'problem', reason: `is truncated (${size} bytes, shorter than a header)` };
  }
  return { kind: 'sqlite', size, applicationId: head.readUInt32BE(APPLICATION_ID_OFFSET) };
}
