#!/usr/bin/env node
// The `keybench` command. It lives outside dist/ so that `pnpm install` on a fresh clone can
// link it before the first build (`pnpm tsc -b`) has made dist/cli.js.
try {
  await import('../dist/cli.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('cli.js')) {
    throw error;
  }
  process.stderr.write('keybench: not built yet; run `pnpm tsc -b` in the checkout first\n');
  process.exitCode = 2;
}
