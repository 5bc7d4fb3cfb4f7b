#!/usr/bin/env bash
# Sets KeyBench up on a fresh Debian/Ubuntu machine (Node >= 20.19 and npm), then runs one
# verified U2F registration and authentication with a virtual key.
set -euo pipefail
cd "$(dirname "$0")/.."

node -e 'const [a,b]=process.versions.node.split(".").map(Number);
  if (a < 20 || (a === 20 && b < 19)) { console.error(`keybench setup: Node >= 20.19 needed, found ${process.version}`); process.exit(2) }'

# System packages: a compiler for better-sqlite3, libudev and libusb for node-hid's binary.
missing=()
for tool in make g++ python3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
for lib in libudev1 libusb-1.0-0; do
  dpkg-query -W -f='${Status}' "$lib" 2>/dev/null | grep -q 'ok installed' || missing+=("$lib")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "keybench setup: installing Debian packages: ${missing[*]}" >&2
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# shellcheck source=env.sh
source scripts/env.sh
"${PNPM[@]}" install --frozen-lockfile
"${PNPM[@]}" run build

node packages/harness/dist/cli.js check --device virtual
