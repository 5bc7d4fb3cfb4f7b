import { createRequire } from 'node:module';

import type * as X509 from '@peculiar/x509';

export type { X509 };

const require = createRequire(import.meta.url);
let loaded: typeof X509 | undefined;

/**
 * @peculiar/x509, loaded on first use: it takes a large share of the package's start-up time
 * and authentication never needs it. reflect-metadata must be loaded before it
 * (TOOLCHAIN.md).
 */
export function x509(): typeof X509 {
  if (loaded === undefined) {
    require('reflect-metadata');
    loaded = require('@peculiar/x509') as typeof X509;
  }
  return loaded;
}
