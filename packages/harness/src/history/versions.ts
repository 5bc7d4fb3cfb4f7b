import { readFileSync } from 'node:fs';

/**
 * Versions worth keeping with a run: keybench (this package), Node, and the platform.
 * Callers add firmware or profile versions of their own.
 */
export function keybenchVersions(): Record<string, string> {
  let keybench = 'unknown';
  try {
    // src/history/ and dist/history/ both sit two levels below package.json.
    const url = new URL('../../package.json', import.meta.url);
    keybench = (JSON.parse(readFileSync(url, 'utf8')) as { version?: string }).version ?? keybench;
  } catch {
    // A bundled or moved build has no package.json next to it; the run is still worth keeping.
  }
  return { keybench, node: process.versions.node, platform: `${process.platform}-${process.arch}` };
}
