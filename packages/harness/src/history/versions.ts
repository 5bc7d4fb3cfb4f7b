import { readFileSync } from 'node:fs';

/**
 * Versions worth keeping with a run: keybench (this package), Node, and the platform.
 * Callers add firmware or profile versions of their own.
 */
export function keybenchVersions(): Record<string, string> {
  return {
    keybench: harnessVersion(),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
  };
}

/**
 * The version in the harness's package.json (what `keybench --version` prints and reports
 * show), read at run time; 'unknown' when the build was moved away from it. Never throws.
 */
export function harnessVersion(): string {
  try {
    // src/history/ and dist/history/ both sit two levels below package.json.
    const url = new URL('../../package.json', import.meta.url);
    const version = (JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    // A bundled or moved build has no package.json next to it; the run is still worth keeping.
    return 'unknown';
  }
}
