import { describe, expect, it } from 'vitest';

import { runTransportBench } from '../src/index.js';

describe('transport bench', () => {
  it('reports positive framing rates for 7609-byte messages', async () => {
    const result = await runTransportBench({ iterations: 20 });
    for (const value of Object.values(result)) {
      expect(Number.isFinite(value) && value > 0).toBe(true);
    }
    // 129 frames of 7609 bytes: frames/s and MB/s must agree.
    expect(result.encodeMBps).toBeCloseTo((result.framesEncodedPerSec / 129) * 7609e-6, 6);
  });

  it('refuses a non-positive iteration count', async () => {
    await expect(runTransportBench({ iterations: 0 })).rejects.toThrow(RangeError);
  });
});
