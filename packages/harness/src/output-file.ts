import { accessSync, constants, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { UsageError } from './errors.js';

/**
 * Checks, before any work is done, that `file` (given with `flag`) can be written: its
 * directory exists and is writable, and the file itself, if present, is a regular file.
 * Returns the absolute path. Throws UsageError naming the flag, the file and what is wrong.
 */
export function checkOutputFile(flag: string, file: string): string {
  const path = resolve(file);
  const directory = dirname(path);
  const problem = (what: string) => new UsageError(`${flag} ${file}: ${what}`);

  let dirStats;
  try {
    dirStats = statSync(directory);
  } catch {
    throw problem(`directory ${directory} does not exist`);
  }
  if (!dirStats.isDirectory()) throw problem(`${directory} is not a directory`);
  try {
    accessSync(directory, constants.W_OK);
  } catch {
    throw problem(`directory ${directory} is not writable`);
  }

  try {
    if (!statSync(path).isFile()) throw problem('exists and is not a regular file');
    accessSync(path, constants.W_OK);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw problem('is not writable');
  }
  return path;
}

/**
 * Writes `text` to `file` through a temporary file beside it and a rename, so a reader never
 * sees half a file and a failed write leaves the old one. Throws UsageError naming `flag`
 * when the file cannot be written.
 */
export function writeOutputFile(flag: string, file: string, text: string): void {
  const path = resolve(file);
  const partial = `${path}.${process.pid}.partial`;
  try {
    writeFileSync(partial, text);
    renameSync(partial, path);
  } catch (error) {
    rmSync(partial, { force: true });
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`${flag} ${file}: cannot be written (${reason})`, { cause: error });
  }
}
