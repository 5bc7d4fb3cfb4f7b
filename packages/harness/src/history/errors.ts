/**
 * The history file cannot be used: it is not SQLite, belongs to another application, was
 * written by a newer keybench, or is damaged. The file is left exactly as it was.
 */
export class HistoryFileError extends Error {
  override readonly name = 'HistoryFileError';
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`history file ${file}: ${message}`, options);
    this.file = file;
  }
}
