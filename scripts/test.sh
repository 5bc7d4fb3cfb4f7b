#!/usr/bin/env bash
# Builds KeyBench and runs every test (unit, property and end-to-end), then prints one
# summary line "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=env.sh
source scripts/env.sh

"${PNPM[@]}" run build
report="$(mktemp -t keybench-vitest.XXXXXX.json)"
trap 'rm -f "$report"' EXIT
status=0
"${PNPM[@]}" exec vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$report" || true
exit "$status"
