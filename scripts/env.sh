# Sourced by setup.sh and test.sh: finds pnpm 10.34.9 and Node's headers for native builds.
# shellcheck shell=bash

KEYBENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PNPM_VERSION=10.34.9

# pnpm: the exact version the workspace pins, installed under .tools/ so no root is needed.
if [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; then
  PNPM=(pnpm)
else
  if [ ! -x "$KEYBENCH_ROOT/.tools/node_modules/.bin/pnpm" ] ||
    [ "$("$KEYBENCH_ROOT/.tools/node_modules/.bin/pnpm" --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
    echo "keybench setup: installing pnpm $PNPM_VERSION into .tools/" >&2
    npm install --silent --no-audit --no-fund --prefix "$KEYBENCH_ROOT/.tools" "pnpm@$PNPM_VERSION" >&2
  fi
  PNPM=("$KEYBENCH_ROOT/.tools/node_modules/.bin/pnpm")
fi

# node-gyp would download Node's headers; use the ones installed beside this node instead.
node_prefix="$(dirname "$(dirname "$(command -v node)")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi
