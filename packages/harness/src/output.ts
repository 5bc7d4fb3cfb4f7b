import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

/** Where a command writes: results on stdout, diagnostics on stderr, colour only on a TTY. */
export interface Output {
  readonly json: boolean;
  readonly interactive: boolean;
  /** A result line (stdout). */
  line(text?: string): void;
  /** A diagnostic line (stderr). */
  diag(text: string): void;
  /** Machine output: one JSON document on stdout. */
  emitJson(value: unknown): void;
  style(style: Style, text: string): string;
}

export function createOutput(options: { json?: boolean } = {}): Output {
  const colour = process.stdout.isTTY === true && !process.env.NO_COLOR && !options.json;
  return {
    json: options.json === true,
    interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
    line(text = '') {
      process.stdout.write(`${text}\n`);
    },
    diag(text) {
      process.stderr.write(`${text}\n`);
    },
    emitJson(value) {
      process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
    },
    style(style, text) {
      return colour ? styleText(style, text) : text;
    },
  };
}

/** Bytes become hex, bigints strings, so every result is JSON. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** Two-column key/value block, keys padded to the widest. */
export function keyValues(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`);
}

/** A table with a header row; columns padded to their widest cell. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((cell, i) =>
    Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const render = (row: readonly string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [render(header), render(widths.map((w) => '-'.repeat(w))), ...rows.map(render)];
}

export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}
