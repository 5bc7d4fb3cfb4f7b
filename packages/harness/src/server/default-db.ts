import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The example server's default database: `$XDG_DATA_HOME/keybench/serve.db`, or
 * `~/.local/share/keybench/serve.db` when XDG_DATA_HOME is unset or not absolute (XDG Base
 * Directory). Separate from the run history.
 */
export function defaultServerDbPath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_DATA_HOME'];
  const base = xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.local', 'share');
  return join(base, 'keybench', 'serve.db');
}
