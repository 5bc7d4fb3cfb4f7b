import type { Output } from '../../output.js';
import { CATALOGUE, EXCLUDED } from '../catalogue.js';
import type { ProfileName } from '../profiles.js';
import { selectCases } from '../runner.js';

/** Width of `--list` when stdout is not a terminal (a file, a pipe, CI logs). */
export const LIST_WIDTH_OFF_TERMINAL = 100;

/** Narrowest text column: below it the fixed columns give way and the text starts below. */
const MIN_TEXT = 30;

/** The width `--list` fits: the terminal's, or 100 columns when stdout is not a terminal. */
export function listWidth(): number {
  return process.stdout.isTTY && process.stdout.columns
    ? process.stdout.columns
    : LIST_WIDTH_OFF_TERMINAL;
}

/** Breaks `text` at spaces into lines of at most `width` (a longer word is cut). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (word.length > width) {
      if (line) lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = '';
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines.length > 0 ? lines : [''];
}

/**
 * `conformance --list`: the cases a profile and grep select, as JSON or as text fitted to
 * `width` columns: id, layer, person and profiles in fixed columns, the title wrapped beside
 * them and the source on the lines below it.
 */
export function printCaseList(
  out: Output,
  args: { profile: ProfileName; grep?: string },
  width = listWidth(),
): void {
  const ids = new Set(
    selectCases({ profile: args.profile, ...(args.grep ? { grep: args.grep } : {}) }).map(
      (test) => test.id,
    ),
  );
  const selected = CATALOGUE.filter((test) => ids.has(test.id));
  if (out.json) {
    out.emitJson(selected.map(({ run: _run, ...data }) => data));
    return;
  }

  const header = ['id', 'layer', 'person', 'profiles'];
  const rows = selected.map((test) => [
    test.id,
    test.layer,
    test.person.join('+') || '-',
    test.profiles?.join(',') ?? 'all',
  ]);
  const widths = header.map((cell, i) =>
    Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const fixed = widths.reduce((sum, w) => sum + w + 2, 0);
  const indent = width - fixed >= MIN_TEXT ? fixed : 4;
  const textWidth = Math.max(10, width - indent);
  const pad = (row: readonly string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');

  out.line(`${pad(header)}  title / source`.slice(0, width));
  out.line('-'.repeat(Math.min(width, fixed + textWidth)));
  for (const [i, test] of selected.entries()) {
    const title = wrapText(test.title, textWidth);
    const source = wrapText(`source: ${test.source}`, textWidth);
    const text = indent === fixed ? title : ['', ...title];
    out.line(`${pad(rows[i]!)}  ${text[0]}`.slice(0, width).trimEnd());
    for (const line of [...text.slice(1), ...source]) out.line(`${' '.repeat(indent)}${line}`);
  }

  out.line(`\n${rows.length} cases for profile ${args.profile}. Not applicable to U2F over HID:`);
  for (const excluded of EXCLUDED) {
    const lines = wrapText(`${excluded.id}  ${excluded.title} — ${excluded.reason}`, width - 4);
    for (const [i, line] of lines.entries()) out.line(`${i === 0 ? '  ' : '    '}${line}`);
  }
}
