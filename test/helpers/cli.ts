import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI; `pnpm test` builds before vitest runs. */
export const CLI = fileURLToPath(new URL('../../packages/harness/dist/cli.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `keybench ARGS` to completion, killing it after `timeoutMs`. */
export function runCli(
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
) {
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A `keybench virtual-key --udp` process and the port it listens on. */
export interface VirtualKeyProcess {
  child: ChildProcess;
  host: string;
  port: number;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `keybench virtual-key --udp 0 ARGS` and resolves once it prints the port it bound.
 * Rejects (and kills the process) if it exits or says nothing within `timeoutMs`.
 */
export async function startVirtualKey(
  args: string[] = [],
  timeoutMs = 15_000,
): Promise<VirtualKeyProcess> {
  const listening = /virtual-key listening on udp:(\S+):(\d+)/;
  const key = await spawnCli(['virtual-key', '--udp', '0', ...args], {
    ready: listening,
    timeoutMs,
  });
  const match = listening.exec(key.output())!;
  return { ...key, host: match[1]!, port: Number(match[2]) };
}

/** A long-running `keybench …` process started by spawnCli. */
export interface SpawnedCli {
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `keybench ARGS` and resolves once its output matches `ready`. Rejects (and kills the
 * process) if it exits first or does not get ready within `timeoutMs`.
 */
export function spawnCli(
  args: string[],
  options: { ready: RegExp; timeoutMs?: number },
): Promise<SpawnedCli> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop('SIGKILL');
      const ms = options.timeoutMs ?? 15_000;
      reject(new Error(`keybench ${args[0]} not ready within ${ms} ms: ${text}`));
    }, options.timeoutMs ?? 15_000);
    const onData = (chunk: string) => {
      text += chunk;
      if (options.ready.test(text)) {
        clearTimeout(timer);
        resolve({ child, output: () => text, stop });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`keybench ${args[0]} exited with ${code} before it was ready: ${text}`));
    });
  });
}
