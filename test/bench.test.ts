import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../scripts/bench.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'keybench-bench-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pnpm bench', () => {
  // Runs the real benchmark once with tiny counts so it keeps working; no timing is asserted.
  it('runs every stage with tiny counts and writes its JSON', async () => {
    const out = join(dir, 'bench.json');
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve, reject) => {
        const child = spawn(process.execPath, [script, '--quick', '--json', out], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
        child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
        const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      },
    );

    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    const names = report.results.map((r: { name: string }) => r.name);
    expect(names).toContain('completeAuthentication');
    expect(names).toContain('verified register+authenticate, in-process key');
    expect(names).toContain('16 keys: exchanges');
    for (const row of report.results) {
      expect(row.value, row.name).toBeGreaterThan(0);
    }
  }, 180_000);
});
