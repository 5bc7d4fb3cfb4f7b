// Prints the pnpm store entries (node_modules/.pnpm/NAME@VERSION) that KeyBench's packages need
// at run time: the closure of their `dependencies` and `optionalDependencies`, following the
// symlinks pnpm made. Dev dependencies are left out. Usage: node runtime-deps.mjs REPO_ROOT
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const root = realpathSync(process.argv[2] ?? '.');
const store = join(root, 'node_modules', '.pnpm');

/** Runtime dependency names of the package in `dir`. */
function runtimeDeps(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies });
}

/** The store entry holding `real` (a package's real path), or undefined for workspace code. */
function storeEntry(real) {
  const rel = relative(store, real);
  if (rel.startsWith('..')) return undefined;
  return rel.split(sep)[0];
}

const entries = new Set();
const pending = [];
for (const name of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', name);
  if (existsSync(join(dir, 'package.json'))) pending.push(dir);
}

const seen = new Set();
while (pending.length > 0) {
  const dir = pending.pop();
  if (seen.has(dir)) continue;
  seen.add(dir);
  for (const dep of runtimeDeps(dir)) {
    // pnpm links a package's dependencies beside it (store) or under its node_modules
    // (workspace package); an optional dependency that was not installed has no link.
    const candidates = [join(dir, 'node_modules', dep)];
    const entry = storeEntry(dir);
    if (entry !== undefined) candidates.push(join(store, entry, 'node_modules', dep));
    const link = candidates.find((c) => existsSync(c));
    if (link === undefined) continue;
    const real = realpathSync(link);
    const depEntry = storeEntry(real);
    if (depEntry !== undefined) entries.add(depEntry);
    pending.push(real);
  }
}

for (const entry of [...entries].sort()) console.log(`node_modules/.pnpm/${entry}`);
