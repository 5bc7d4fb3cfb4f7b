import { describe, expect, it } from 'vitest';

import { runServerCoreBench } from '../src/index.js';

describe('runServerCoreBench', () => {
  it('measures every rate on its own generated data', async () => {
    const result = await runServerCoreBench({ iterations: 30 });
    for (const key of ['rawVerifyPerSec', 'completeAuthenticationPerSec',
      'completeRegistrationPerSec', 'nobleAuthenticationPerSec'] as const) {
      expect(result[key]).toBeGreaterThan(0);
    }
  });

  it('rejects a bad iteration count (RangeError)', async () => {
    await expect(runServerCoreBench({ iterations: 0 })).rejects.toThrow(RangeError);
  });
});
