import type { Output } from '../../output.js';
import { table } from '../../output.js';
import { CATALOGUE, EXCLUDED } from '../catalogue.js';
import type { ProfileName } from '../profiles.js';
import { selectCases } from '../runner.js';

/** `conformance --list`: the cases a profile and grep select, as a table or JSON. */
export function printCaseList(out: Output, args: { profile: ProfileName; grep?: string }): void {
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

  const rows = selected.map((test) => [
    test.id,
    test.layer,
    test.person.join('+') || '-',
    test.profiles?.join(',') ?? 'all',
    test.title,
    test.source,
  ]);
  out.line(table(['id', 'layer', 'person', 'profiles', 'title', 'source'], rows).join('\n'));
  out.line(`\n${rows.length} cases for profile ${args.profile}. Not applicable to U2F over HID:`);
  for (const excluded of EXCLUDED) {
    out.line(`  ${excluded.id}  ${excluded.title} — ${excluded.reason}`);
  }
}
