import { defineConfig } from 'vitest/config';

// Tests run from TypeScript sources: every workspace package exports a "@keybench/source"
// condition pointing at src/index.ts, which vitest resolves before "types"/"default".
const sourceConditions = ['@keybench/source', 'module', 'node', 'development|production'];

const packages = ['server-core', 'hid-transport', 'virtual-key', 'harness'];

export default defineConfig({
  ssr: { resolve: { conditions: sourceConditions } },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, root: `packages/${name}`, include: ['test/**/*.test.ts'] },
      })),
      {
        extends: true as const,
        test: { name: 'e2e', root: 'test', include: ['**/*.test.ts'] },
      },
    ],
  },
});
